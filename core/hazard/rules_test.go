package hazard

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/schemas"
)

func deployment(spec map[string]any) map[string]any {
	return map[string]any{"spec": map[string]any{"replicas": int64(2), "template": map[string]any{"spec": spec}}}
}

func containers(cs ...map[string]any) map[string]any {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = c
	}
	return map[string]any{"containers": list}
}

func role(rules ...map[string]any) map[string]any {
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	return map[string]any{"rules": list}
}

func rule(verbs, resources string) map[string]any {
	v, r := []any{}, []any{}
	for _, s := range strings.Split(verbs, ",") {
		v = append(v, s)
	}
	for _, s := range strings.Split(resources, ",") {
		r = append(r, s)
	}
	return map[string]any{"apiGroups": []any{""}, "verbs": v, "resources": r}
}

// Each rule that needs no controller: one case that fires and one that
// must not.
func TestRulesFireWhereTheyShouldAndNowhereElse(t *testing.T) {
	plain := containers(map[string]any{"name": "app", "image": "nginx:1.27"})
	for name, tc := range map[string]struct {
		kind          string
		live, desired map[string]any
		want          string // the rule, "" for none
		message       string
	}{
		"privileged":             {"Deployment", deployment(plain), deployment(containers(map[string]any{"name": "app", "image": "nginx:1.27", "securityContext": map[string]any{"privileged": true}})), PrivilegeAdded, "container app privileged"},
		"privileged already":     {"Deployment", deployment(containers(map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}})), deployment(containers(map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}, "image": "x:1"})), "", ""},
		"hostNetwork":            {"DaemonSet", deployment(plain), deployment(map[string]any{"hostNetwork": true, "containers": plain["containers"]}), PrivilegeAdded, "hostNetwork"},
		"hostPath":               {"StatefulSet", deployment(plain), deployment(map[string]any{"volumes": []any{map[string]any{"name": "root", "hostPath": map[string]any{"path": "/"}}}, "containers": plain["containers"]}), PrivilegeAdded, "hostPath /"},
		"capability":             {"Deployment", deployment(plain), deployment(containers(map[string]any{"name": "app", "securityContext": map[string]any{"capabilities": map[string]any{"add": []any{"NET_ADMIN"}}}})), PrivilegeAdded, "capability NET_ADMIN"},
		"runAsUser 0":            {"CronJob", nil, map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"securityContext": map[string]any{"runAsUser": float64(0)}}}}}}}, PrivilegeAdded, "runAsUser 0"},
		"runAsUser 1000":         {"Deployment", deployment(plain), deployment(map[string]any{"securityContext": map[string]any{"runAsUser": int64(1000)}, "containers": plain["containers"]}), "", ""},
		"new verb":               {"ClusterRole", role(rule("get", "pods")), role(rule("get,delete", "pods")), RBACWidened, "grants delete pods"},
		"same grants reordered":  {"Role", role(rule("get,list", "pods")), role(rule("list,get", "pods")), "", ""},
		"wildcard in a new role": {"ClusterRole", nil, role(rule("*", "*")), RBACWidened, "grants * *"},
		"a new plain role":       {"Role", nil, role(rule("get", "configmaps")), "", ""},
		"cluster-admin":          {"ClusterRoleBinding", map[string]any{"roleRef": map[string]any{"name": "view"}}, map[string]any{"roleRef": map[string]any{"name": "cluster-admin"}}, RBACWidened, "cluster-admin"},
		"replicas to 0":          {"Deployment", deployment(plain), map[string]any{"spec": map[string]any{"replicas": float64(0), "template": map[string]any{"spec": plain}}}, ReplicasToZero, "2 → 0"},
		"replicas to 1":          {"Deployment", deployment(plain), map[string]any{"spec": map[string]any{"replicas": int64(1), "template": map[string]any{"spec": plain}}}, "", ""},
		"major image":            {"Deployment", deployment(plain), deployment(containers(map[string]any{"name": "app", "image": "nginx:2.0"})), ImageMajorBump, "nginx:1.27 → nginx:2.0"},
		"minor image":            {"Deployment", deployment(plain), deployment(containers(map[string]any{"name": "app", "image": "nginx:1.28"})), "", ""},
		"image by digest":        {"Deployment", deployment(plain), deployment(containers(map[string]any{"name": "app", "image": "nginx@sha256:abc"})), "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := Widened(tc.kind, tc.live, tc.desired)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("fired: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.want || !strings.Contains(got[0].Message, tc.message) || got[0].Severity != Rules[tc.want].Severity {
				t.Errorf("got %+v, want one %s saying %q", got, tc.want, tc.message)
			}
		})
	}
}

func TestImmutableConfigMapsAndExternalNameServices(t *testing.T) {
	cm := map[string]any{"immutable": true, "data": map[string]any{"k": "v"}}
	if got := Change("ConfigMap", report(t, "/data/k"), cm, cm); len(got) != 1 || got[0].Rule != ImmutableField {
		t.Errorf("an immutable ConfigMap: %+v", got)
	}
	if got := Change("ConfigMap", report(t, "/data/k"), map[string]any{}, cm); len(got) != 0 {
		t.Errorf("a mutable ConfigMap made immutable: %+v", got)
	}
	svc := func(typ string) map[string]any { return map[string]any{"spec": map[string]any{"type": typ}} }
	if got := Change("Service", report(t, "/spec/type"), svc("ClusterIP"), svc("ExternalName")); len(got) != 1 || !strings.Contains(got[0].Message, "ExternalName") {
		t.Errorf("a Service to ExternalName: %+v", got)
	}
	if got := Change("Service", report(t, "/spec/type"), svc("ClusterIP"), svc("NodePort")); len(got) != 0 {
		t.Errorf("a Service to NodePort: %+v", got)
	}
}

func TestSeverities(t *testing.T) {
	if !Critical.AtLeast(High) || Low.AtLeast(Medium) {
		t.Error("severity order")
	}
	if _, err := ParseSeverity("urgent"); err == nil || !strings.Contains(err.Error(), "low, medium, high, critical") {
		t.Errorf("error %v", err)
	}
	for id, r := range Rules {
		if r.ID != id || r.Why == "" {
			t.Errorf("rule %s: %+v", id, r)
		}
	}
}

// .cozyhr.yaml's diff.rules names exactly the rules there are.
func TestTheSchemaNamesEveryRule(t *testing.T) {
	var doc struct {
		Defs struct {
			Diff struct {
				Properties struct {
					Rules struct {
						PropertyNames struct {
							Enum []string `json:"enum"`
						} `json:"propertyNames"`
					} `json:"rules"`
				} `json:"properties"`
			} `json:"diff"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schemas.Chart, &doc); err != nil {
		t.Fatal(err)
	}
	named := doc.Defs.Diff.Properties.Rules.PropertyNames.Enum
	var ids []string
	for id := range Rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	slices.Sort(named)
	if !slices.Equal(ids, named) {
		t.Errorf("schema diff.rules names %v, the rules are %v", named, ids)
	}
}

func TestReleaseRules(t *testing.T) {
	if got := Release("1.4.2", "2.0.0", 3); len(got) != 1 || got[0].Rule != ChartMajorBump || !strings.Contains(got[0].Message, "1.4.2 → 2.0.0") {
		t.Errorf("a major chart bump: %+v", got)
	}
	if got := Release("1.4.2", "1.5.0", 3); len(got) != 0 {
		t.Errorf("a minor chart bump: %+v", got)
	}
	if got := Release("1.0.0", "1.0.0", LargeChangeObjects); len(got) != 1 || got[0].Rule != LargeChange {
		t.Errorf("a large change set: %+v", got)
	}
	if got := Release("1.0.0", "1.0.0", LargeChangeObjects-1); len(got) != 0 {
		t.Errorf("a change set below the bar: %+v", got)
	}
	kept, off := Apply(Release("1.0.0", "2.0.0", 60), map[string]string{ChartMajorBump: "off", LargeChange: "high"})
	if len(off) != 1 || len(kept) != 1 || kept[0].Severity != High {
		t.Errorf("kept %+v, off %+v", kept, off)
	}
}

func TestImagesAddedChangedAndRemoved(t *testing.T) {
	live := deployment(containers(map[string]any{"name": "app", "image": "nginx:1.27"}, map[string]any{"name": "cache", "image": "memcached:1"}))
	desired := deployment(containers(map[string]any{"name": "app", "image": "nginx:1.28"}, map[string]any{"name": "queue", "image": "redis:7"}))
	got := Images("Deployment", live, desired)
	want := []ImageChange{{Container: "app", From: "nginx:1.27", To: "nginx:1.28"}, {Container: "cache", From: "memcached:1"}, {Container: "queue", To: "redis:7"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := Images("ConfigMap", nil, map[string]any{"data": map[string]any{}}); got != nil {
		t.Errorf("a ConfigMap has images: %+v", got)
	}
	if got := Images("Deployment", live, live); len(got) != 0 {
		t.Errorf("unchanged images: %+v", got)
	}
}

func TestValuesAnInstanceSetsThatTheNewChartDropped(t *testing.T) {
	base := map[string]any{"persistence": map[string]any{"size": "1Gi", "class": ""}, "replicas": 1, "extra": map[string]any{}}
	head := map[string]any{"storage": map[string]any{"size": "1Gi"}, "replicas": 1, "extra": map[string]any{}}
	instance := map[string]any{"persistence": map[string]any{"size": "5Gi"}, "replicas": 3, "extra": map[string]any{"x": 1}, "own": "key"}
	got := UnreadValues(base, head, instance)
	if len(got) != 1 || got[0].Rule != ValuesUnread || !strings.HasPrefix(got[0].Message, "persistence.size is set by this instance") {
		t.Errorf("got %+v", got)
	}
	if got := UnreadValues(base, base, instance); len(got) != 0 {
		t.Errorf("the same chart: %+v", got)
	}
}
