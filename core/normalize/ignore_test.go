package normalize

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestIgnoreRulesHideFieldsOfSelectedObjects(t *testing.T) {
	target := &unstructured.Unstructured{Object: obj(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-1, namespace: demo, labels: {tier: front}}\n")}
	live := obj(t, "spec: {replicas: 1, template: {spec: {containers: [{name: a, image: x}]}}}\nmetadata: {annotations: {a/b: c}}")
	desired := obj(t, "spec: {replicas: 3, template: {spec: {containers: [{name: a, image: y}]}}}\nmetadata: {annotations: {a/b: c}}")
	rules := []IgnoreRule{
		{Paths: []string{"/spec/replicas"}, Target: &IgnoreTarget{Kind: "Deployment", Name: "web-.*", LabelSelector: "tier=front"}, Source: "one"},
		{Paths: []string{"/spec/template/spec/containers/0/image"}, Source: "two"},
		{Paths: []string{"/metadata/annotations/a~1b"}, Source: "three"},
		{Paths: []string{"/spec/replicas"}, Target: &IgnoreTarget{Kind: "StatefulSet"}, Source: "not selected"},
	}
	hidden, err := ApplyIgnoreRules(rules, target, live, desired)
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, h := range hidden {
		sources = append(sources, h.Source)
	}
	// The annotation was equal on both sides: removed, but nothing hidden.
	if !reflect.DeepEqual(sources, []string{"one", "two"}) {
		t.Errorf("hidden differences from %v", sources)
	}
	if !reflect.DeepEqual(live, desired) {
		t.Errorf("sides still differ after ignoring:\n%v\n%v", live, desired)
	}
}

func TestParseIgnoreRule(t *testing.T) {
	r, err := ParseIgnoreRule("Deployment/web=/spec/replicas")
	if err != nil || r.Target.Kind != "Deployment" || r.Target.Name != "web" || r.Paths[0] != "/spec/replicas" {
		t.Errorf("ParseIgnoreRule = %+v, %v", r, err)
	}
	if r, err := ParseIgnoreRule("/metadata/labels"); err != nil || r.Target != nil {
		t.Errorf("ParseIgnoreRule(all objects) = %+v, %v", r, err)
	}
	if _, err := ParseIgnoreRule("Deployment=spec/replicas"); err == nil {
		t.Error("a pointer without a leading / was accepted")
	}
}
