package flux_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A field of a release's object that another manager took with a
// server-side apply (ops-team set index.html by hand): the diff flags it
// (field-conflict) with the manager's name; then helm-controller's
// server-side upgrade forces the conflict and takes the field back.
func TestPredictedFieldConflictIsTakenBack(t *testing.T) {
	const ns = "predict-conflict"
	c, key := installHello(t, ns, func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.Version = "*" })
	theirs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "hello-content", "namespace": ns},
		"data":     map[string]any{"index.html": "<h1>set by hand</h1>\n"},
	}}
	if err := env.Client.Patch(context.Background(), theirs, client.Apply, client.FieldOwner("ops-team"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}

	changeTemplate(t, c)
	bumpVersion(t, c.Dir)
	_, out := fleetDiff(t, c.Dir, ns)
	if !strings.Contains(out, `"rule": "field-conflict"`) || !strings.Contains(out, "data.index.html is owned by ops-team") {
		t.Fatalf("the conflict with ops-team is not flagged:\n%s", out)
	}
	human := cozyhr(t, "-C", c.Dir, "diff").expect(t, 0)
	if !strings.Contains(human.out, "owned by ops-team") || !strings.Contains(human.out, "field-conflict") {
		t.Errorf("the live diff does not flag the conflict:\n%s", human.out)
	}

	c.publish(t)
	cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m").expect(t, 0)
	helmControllerDid(t, key, deployedAt("0.2.0"))
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello-content"}, cm); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cm.Data["index.html"], "set by hand") {
		t.Errorf("helm-controller left ops-team's value: %q", cm.Data["index.html"])
	}
	for _, m := range cm.ManagedFields {
		var fields map[string]any
		_ = json.Unmarshal(m.FieldsV1.Raw, &fields)
		data, _ := fields["f:data"].(map[string]any)
		if _, owns := data["f:index.html"]; owns && m.Manager == "ops-team" {
			t.Errorf("ops-team still owns data.index.html: %+v", cm.ManagedFields)
		}
	}
}
