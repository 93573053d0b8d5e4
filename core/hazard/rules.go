package hazard

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The rules' ids.
const (
	ImmutableField       = "immutable-field"
	PVCShrink            = "pvc-shrink"
	RemovalTakesData     = "removal-takes-data"
	NetworkPolicyRemoved = "networkpolicy-removed"
	PrivilegeAdded       = "privilege-added"
	RBACWidened          = "rbac-widened"
	ReplicasToZero       = "replicas-to-zero"
	ImageMajorBump       = "image-major-bump"
	ChartMajorBump       = "chart-major-bump"
	LargeChange          = "large-change"
	ImageMissing         = "image-missing"
	ValuesUnread         = "values-unread"
	ObjectMoves          = "object-moves"
	FieldConflict        = "field-conflict"
)

// LargeChangeObjects is how many changed objects make a large change set.
const LargeChangeObjects = 50

// Rule is one kind of finding: its default severity and what it means.
type Rule struct {
	ID       string
	Severity Severity
	// Why is what triggers it and what follows, for the documentation.
	Why string
}

// Rules are every rule, by id.
var Rules = map[string]Rule{
	ImmutableField:       {ImmutableField, High, "a field the API server refuses to change changes (selectors, StatefulSet volumeClaimTemplates, serviceName and podManagementPolicy, a Job's template, a PVC's spec but a storage increase, a Service's clusterIP or a type to ExternalName, roleRef, an immutable ConfigMap or Secret): the upgrade fails"},
	PVCShrink:            {PVCShrink, High, "a volume claim's requested storage shrinks: the API server refuses it"},
	RemovalTakesData:     {RemovalTakesData, Critical, "a CRD, PersistentVolumeClaim, Namespace or StatefulSet is removed: its data (or its custom resources) go with it"},
	NetworkPolicyRemoved: {NetworkPolicyRemoved, Medium, "a NetworkPolicy is removed: the traffic it denied is let through"},
	PrivilegeAdded:       {PrivilegeAdded, High, "a pod gains a privilege: privileged, hostPath, hostNetwork, hostPID, hostIPC, added capabilities, or runAsUser 0"},
	RBACWidened:          {RBACWidened, High, "a Role or ClusterRole gains verbs, resources or a wildcard, or a binding grants cluster-admin"},
	ReplicasToZero:       {ReplicasToZero, Medium, "a workload's replicas go to 0: it stops serving"},
	ImageMajorBump:       {ImageMajorBump, Medium, "a container image's tag goes up a major version"},
	ChartMajorBump:       {ChartMajorBump, Medium, "the chart's version goes up a major version: its values and objects may have changed in ways its changes alone do not show"},
	ImageMissing:         {ImageMissing, High, "with --check-images: an image the change brings is not in its registry: the pods will not start"},
	ValuesUnread:         {ValuesUnread, Medium, "an instance sets a value the base chart's values.yaml has and the new one's no longer does: a renamed or removed key, silently ignored"},
	ObjectMoves:          {ObjectMoves, High, "an object leaves one release for another (or the change takes an object another release owns): whichever release Helm upgrades first, the object is deleted in the end, and created again empty if at all"},
	FieldConflict:        {FieldConflict, Medium, "a field the change sets is owned, on the live object, by another field manager (kubectl, an HPA, an operator): helm-controller forces the conflict and takes it, and the other manager may set it back"},
	LargeChange:          {LargeChange, Low, "50 objects or more change at once: a change set too large to review object by object"},
}

// Release says what will hurt in a release's change as a whole: its chart
// from version from to to, changed objects changing.
func Release(from, to string, changed int) []Finding {
	var out []Finding
	if a, b := major(":"+from), major(":"+to); a >= 0 && b > a {
		out = append(out, finding(ChartMajorBump, "chart version %s → %s, a major version up", from, to))
	}
	if changed >= LargeChangeObjects {
		out = append(out, finding(LargeChange, "%d objects change at once", changed))
	}
	return out
}

// Widened says what an object grants that its live side did not: live is
// nil for an object added.
func Widened(kind string, live, desired map[string]any) []Finding {
	var out []Finding
	if spec := podSpec(kind, desired); spec != nil {
		old := podSpec(kind, live)
		for _, p := range privileges(spec) {
			if !slices.Contains(privileges(old), p) {
				out = append(out, finding(PrivilegeAdded, "%s: a privilege the pods did not have", p))
			}
		}
		oldImages := images(old)
		for name, img := range images(spec) {
			if from, ok := oldImages[name]; ok {
				if a, b := major(from), major(img); a >= 0 && b > a {
					out = append(out, finding(ImageMajorBump, "container %s: image %s → %s, a major version up", name, from, img))
				}
			}
		}
	}
	switch kind {
	case "Role", "ClusterRole":
		// A new role is flagged only for wildcards: a chart's own roles
		// are its business; what an existing one gains is news.
		for _, g := range grants(desired) {
			if !slices.Contains(grants(live), g) && (live != nil || strings.Contains(g, "*")) {
				out = append(out, finding(RBACWidened, "grants %s", g))
			}
		}
	case "RoleBinding", "ClusterRoleBinding":
		if changesTo(live, desired, "cluster-admin", "roleRef", "name") {
			out = append(out, finding(RBACWidened, "binds to cluster-admin"))
		}
	}
	if live != nil {
		l, lok := number(live, "spec", "replicas")
		d, dok := number(desired, "spec", "replicas")
		if lok && dok && l > 0 && d == 0 {
			out = append(out, finding(ReplicasToZero, "spec.replicas %d → 0: the %s stops serving", l, kind))
		}
	}
	return out
}

// podSpec is the pod template's spec of a workload, nil for other kinds.
func podSpec(kind string, obj map[string]any) map[string]any {
	var path []string
	switch kind {
	case "Pod":
		path = []string{"spec"}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template", "spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		return nil
	}
	spec, _, _ := unstructured.NestedMap(obj, path...)
	return spec
}

// privileges are what a pod spec grants beyond the default, one string
// each.
func privileges(spec map[string]any) []string {
	if spec == nil {
		return nil
	}
	var out []string
	for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if v, _, _ := unstructured.NestedBool(spec, f); v {
			out = append(out, f)
		}
	}
	vols, _, _ := unstructured.NestedSlice(spec, "volumes")
	for _, v := range vols {
		if m, ok := v.(map[string]any); ok && m["hostPath"] != nil {
			p, _, _ := unstructured.NestedString(m, "hostPath", "path")
			out = append(out, "hostPath "+p)
		}
	}
	if uid, ok := number(spec, "securityContext", "runAsUser"); ok && uid == 0 {
		out = append(out, "runAsUser 0")
	}
	for _, list := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(spec, list)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			name, _ := m["name"].(string)
			if v, _, _ := unstructured.NestedBool(m, "securityContext", "privileged"); v {
				out = append(out, "container "+name+" privileged")
			}
			if uid, ok := number(m, "securityContext", "runAsUser"); ok && uid == 0 {
				out = append(out, "container "+name+" runAsUser 0")
			}
			caps, _, _ := unstructured.NestedStringSlice(m, "securityContext", "capabilities", "add")
			for _, c := range caps {
				out = append(out, "container "+name+" capability "+c)
			}
		}
	}
	return out
}

// images are a pod spec's container images by container name.
func images(spec map[string]any) map[string]string {
	out := map[string]string{}
	for _, list := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(spec, list)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			name, _ := m["name"].(string)
			img, _ := m["image"].(string)
			out[name] = img
		}
	}
	return out
}

// major is an image tag's major version (v1.2.3, 1.2, 17-alpine), -1 when
// the tag is none or not a version.
func major(image string) int {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return -1
	}
	tag := strings.TrimPrefix(image[i+1:], "v")
	end := strings.IndexFunc(tag, func(r rune) bool { return r < '0' || r > '9' })
	if end == 0 {
		return -1
	}
	if end < 0 {
		end = len(tag)
	}
	n, err := strconv.Atoi(tag[:end])
	if err != nil {
		return -1
	}
	return n
}

// grants are a Role's rules as "verb resource" pairs (apiGroup/resource),
// "*" kept as it is.
func grants(obj map[string]any) []string {
	rules, _, _ := unstructured.NestedSlice(obj, "rules")
	var out []string
	for _, r := range rules {
		m, _ := r.(map[string]any)
		verbs, _, _ := unstructured.NestedStringSlice(m, "verbs")
		groups, _, _ := unstructured.NestedStringSlice(m, "apiGroups")
		resources, _, _ := unstructured.NestedStringSlice(m, "resources")
		urls, _, _ := unstructured.NestedStringSlice(m, "nonResourceURLs")
		if len(groups) == 0 {
			groups = []string{""}
		}
		for _, v := range verbs {
			for _, g := range groups {
				for _, res := range resources {
					out = append(out, fmt.Sprintf("%s %s", v, strings.TrimPrefix(g+"/"+res, "/")))
				}
			}
			for _, u := range urls {
				out = append(out, v+" "+u)
			}
		}
	}
	return out
}

// number is the number at path, whichever type a decoder gave it.
func number(obj map[string]any, path ...string) (int64, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj, path...)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// Apply gives findings the severities settings name by rule id, and takes
// out those it turns "off".
func Apply(findings []Finding, settings map[string]string) (kept, off []Finding) {
	for _, f := range findings {
		switch s := settings[f.Rule]; s {
		case "":
		case "off":
			off = append(off, f)
			continue
		default:
			f.Severity = Severity(s)
		}
		kept = append(kept, f)
	}
	return kept, off
}

// ImageChange is a container's image added, changed or removed.
type ImageChange struct {
	Container string `json:"container"`
	// From is "" for an image added, To "" for one removed.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Images are the image changes of a workload of kind between live (nil
// when added) and desired (nil when removed), by container name.
func Images(kind string, live, desired map[string]any) []ImageChange {
	if podSpec(kind, live) == nil && podSpec(kind, desired) == nil {
		return nil
	}
	before, after := images(podSpec(kind, live)), images(podSpec(kind, desired))
	var out []ImageChange
	for name, to := range after {
		if from := before[name]; from != to {
			out = append(out, ImageChange{Container: name, From: from, To: to})
		}
	}
	for name, from := range before {
		if _, ok := after[name]; !ok {
			out = append(out, ImageChange{Container: name, From: from})
		}
	}
	slices.SortFunc(out, func(a, b ImageChange) int { return strings.Compare(a.Container, b.Container) })
	return out
}

// UnreadValues are the value paths an instance sets (its own values,
// without the chart's defaults) that the base chart's values.yaml has and
// the head chart's no longer does: a renamed or removed key the new chart
// probably ignores.
func UnreadValues(baseDefaults, headDefaults, instance map[string]any) []Finding {
	var out []Finding
	for _, path := range leafPaths(instance, "") {
		if hasPath(baseDefaults, path) && !hasPath(headDefaults, path) {
			out = append(out, finding(ValuesUnread, "%s is set by this instance, and the new chart's values.yaml no longer has it: the chart may ignore it", path))
		}
	}
	return out
}

// leafPaths are a map's leaf paths, dotted, sorted.
func leafPaths(m map[string]any, prefix string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p := strings.TrimPrefix(prefix+"."+k, ".")
		if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
			out = append(out, leafPaths(sub, p)...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// hasPath reports whether the dotted path is in m (a prefix that ends in
// a value that is not a map counts: the chart reads the whole value).
func hasPath(m map[string]any, path string) bool {
	cur := any(m)
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return true
		}
		if cur, ok = mm[k]; !ok {
			return false
		}
	}
	return true
}
