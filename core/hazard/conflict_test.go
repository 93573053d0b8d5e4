package hazard

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func managed(manager, subresource, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply, Subresource: subresource,
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
}

// A changed field another manager owns is a conflict; one Helm owns, or
// one the other manager does not own, is not.
func TestFieldConflicts(t *testing.T) {
	entries := []metav1.ManagedFieldsEntry{
		managed("helm-controller", "", `{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}}}`),
		managed("kube-controller-manager", "scale", `{"f:spec":{"f:replicas":{}}}`),
		managed("ops-team", "", `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:resources":{}}}}}}}`),
		managed("before-first-apply", "", `{"f:metadata":{"f:labels":{}}}`),
		managed("kube-controller-manager", "", `{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}}}`),
	}
	foreign := append(entries[1:3:3], entries[4]) // kube.ForeignManagers's choice
	for _, c := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"replicas the HPA scales", []string{"/spec/replicas"}, []string{"spec.replicas is owned by kube-controller-manager (through scale)"}},
		{"a container's resources another team set", []string{"/spec/template/spec/containers/name=web/resources/limits/cpu"}, []string{"owned by ops-team"}},
		{"the image Helm owns", []string{"/spec/template/spec/containers/name=web/image"}, nil},
		{"another container", []string{"/spec/template/spec/containers/name=sidecar/resources"}, nil},
		{"keys added to a map another manager owns a key of", []string{"/spec"}, nil},
		{"annotations added to a map another manager made", []string{"/metadata/annotations"}, nil},
	} {
		got := FieldConflicts(foreign, c.paths)
		if len(got) != len(c.want) {
			t.Errorf("%s: %+v", c.name, got)
			continue
		}
		for i, w := range c.want {
			if got[i].Rule != FieldConflict || !strings.Contains(got[i].Message, w) {
				t.Errorf("%s: %q lacks %q", c.name, got[i].Message, w)
			}
		}
	}
}
