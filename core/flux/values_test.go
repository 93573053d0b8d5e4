package flux_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// env is the API server the package's tests share, each in a namespace of
// its own.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// namespace makes a namespace for one test.
func namespace(t *testing.T, name string) string {
	t.Helper()
	testenv.Need(t, env)
	if err := env.CreateNamespace(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func secret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func helmRelease(ns, name, values string, from ...helmv2.ValuesReference) *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: "app", Version: "1.0.0", SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"},
			}},
			ValuesFrom: from,
		},
	}
	if values != "" {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(values)}
	}
	return hr
}

// Values are composed in helm-controller's order: valuesFrom in order, each
// a whole values document or one value at a targetPath, then spec.values
// on top. (test/flux's TestEveryLiveInstance shows the real controller
// rendering an instance with valuesFrom a Secret as cozyhr does: its diff
// is clean.)
func TestValuesComposeAsHelmControllerDoes(t *testing.T) {
	ns := namespace(t, "flux-values")
	ctx := context.Background()
	objs := []any{
		configMap(ns, "base", map[string]string{"values.yaml": "replicas: 1\nimage:\n  tag: \"1.0\"\n  pullPolicy: IfNotPresent\nlist: [a, b]\n"}),
		configMap(ns, "override", map[string]string{"custom.yaml": "replicas: 2\nimage:\n  tag: \"2.0\"\n"}),
		secret(ns, "creds", map[string]string{"values.yaml": "auth:\n  password: hunter2\n  user: admin\n"}),
		secret(ns, "token", map[string]string{"token": "abc123"}),
		configMap(ns, "port", map[string]string{"port": "8080", "quoted": `"8080"`}),
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.ConfigMap:
			err = env.Client.Create(ctx, o)
		case *corev1.Secret:
			err = env.Client.Create(ctx, o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	hr := helmRelease(ns, "app", `{"image":{"tag":"3.0"},"extra":true}`,
		helmv2.ValuesReference{Kind: "ConfigMap", Name: "base"},
		helmv2.ValuesReference{Kind: "ConfigMap", Name: "override", ValuesKey: "custom.yaml"},
		helmv2.ValuesReference{Kind: "Secret", Name: "creds"},
		helmv2.ValuesReference{Kind: "Secret", Name: "token", ValuesKey: "token", TargetPath: "auth.token"},
		helmv2.ValuesReference{Kind: "ConfigMap", Name: "port", ValuesKey: "port", TargetPath: "service.port"},
		helmv2.ValuesReference{Kind: "ConfigMap", Name: "port", ValuesKey: "quoted", TargetPath: "service.name"},
		helmv2.ValuesReference{Kind: "ConfigMap", Name: "absent", Optional: true},
		helmv2.ValuesReference{Kind: "Secret", Name: "token", ValuesKey: "absent", Optional: true},
	)
	vals, secretPaths, err := flux.Values(ctx, env.Client, hr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"replicas": float64(2),
		"image":    map[string]any{"tag": "3.0", "pullPolicy": "IfNotPresent"},
		"list":     []any{"a", "b"},
		"auth":     map[string]any{"password": "hunter2", "user": "admin", "token": "abc123"},
		"service":  map[string]any{"port": int64(8080), "name": "8080"},
		"extra":    true,
	}
	if !reflect.DeepEqual(normalize(vals), normalize(want)) {
		t.Errorf("values:\n%#v\nwant:\n%#v", vals, want)
	}
	var paths []string
	for _, p := range secretPaths {
		paths = append(paths, strings.Join(p, "."))
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"auth.password", "auth.token", "auth.user"}) {
		t.Errorf("values from Secrets: %q", paths)
	}
}

// normalize makes numbers comparable whichever decoder read them.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return v
}

func TestValuesSayWhatIsMissingAndWhere(t *testing.T) {
	ns := namespace(t, "flux-values-missing")
	ctx := context.Background()
	if err := env.Client.Create(ctx, configMap(ns, "present", map[string]string{"other.yaml": "a: 1\n", "bad.yaml": "a: [\n"})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ref  helmv2.ValuesReference
		want []string
	}{
		{"a missing ConfigMap", helmv2.ValuesReference{Kind: "ConfigMap", Name: "gone"},
			[]string{"spec.valuesFrom[0]", "ConfigMap " + ns + "/gone: not found", "mark the reference optional"}},
		{"a missing key", helmv2.ValuesReference{Kind: "ConfigMap", Name: "present"},
			[]string{`has no key "values.yaml"`, "set valuesKey"}},
		{"a key that is not YAML", helmv2.ValuesReference{Kind: "ConfigMap", Name: "present", ValuesKey: "bad.yaml"},
			[]string{`key "bad.yaml" is not YAML`}},
		{"a kind valuesFrom does not take", helmv2.ValuesReference{Kind: "Deployment", Name: "present"},
			[]string{`unsupported kind "Deployment"`}},
		{"a bad targetPath", helmv2.ValuesReference{Kind: "ConfigMap", Name: "present", ValuesKey: "other.yaml", TargetPath: "a.b[x]"},
			[]string{`targetPath "a.b[x]"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := flux.Values(ctx, env.Client, helmRelease(ns, "app", "", c.ref))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
	if vals, paths, err := flux.Values(ctx, env.Client, nil); err != nil || len(vals) != 0 || paths != nil {
		t.Errorf("no HelmRelease: %v %v %v", vals, paths, err)
	}
}

func TestReleaseNameAsHelmControllerNamesIt(t *testing.T) {
	hr := helmRelease("ns", "app", "")
	if got := flux.ReleaseName(hr); got != "app" {
		t.Errorf("plain: %s", got)
	}
	hr.Spec.TargetNamespace = "target"
	if got := flux.ReleaseName(hr); got != "target-app" {
		t.Errorf("with targetNamespace: %s", got)
	}
	hr.Spec.ReleaseName = "chosen"
	if got := flux.ReleaseName(hr); got != "chosen" {
		t.Errorf("with releaseName: %s", got)
	}
	// Longer than Helm allows: shortened with a hash of the whole name,
	// stable, and within 53 characters.
	hr.Spec.ReleaseName = ""
	hr.Spec.TargetNamespace = strings.Repeat("very-long-namespace-", 3)
	long := flux.ReleaseName(hr)
	if len(long) > 53 || long != flux.ReleaseName(hr) || !strings.HasPrefix(long, "very-long-namespace-") {
		t.Errorf("a long name: %q (%d)", long, len(long))
	}
}

func TestMadeFromPrefersTheReleaseHistory(t *testing.T) {
	hr := helmRelease("ns", "app", "")
	if !flux.MadeFrom(hr, "app") || flux.MadeFrom(hr, "other") {
		t.Error("before any release the spec's chart counts")
	}
	hr.Status.History = helmv2.Snapshots{{ChartName: "other", Version: 1}}
	if flux.MadeFrom(hr, "app") || !flux.MadeFrom(hr, "other") {
		t.Error("after a release its chart counts")
	}
	hr.Status.History = nil
	hr.Spec.Chart = nil
	if flux.MadeFrom(hr, "app") {
		t.Error("a HelmRelease with a chartRef and no history is made from no named chart")
	}
}

func TestConfigDigestIgnoresMapOrder(t *testing.T) {
	a, err := flux.ConfigDigest(map[string]any{"a": 1, "b": map[string]any{"c": "x", "d": []any{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := flux.ConfigDigest(map[string]any{"b": map[string]any{"d": []any{1, 2}, "c": "x"}, "a": 1})
	c, _ := flux.ConfigDigest(map[string]any{"a": 2, "b": map[string]any{"c": "x", "d": []any{1, 2}}})
	if a != b || a == c || !strings.HasPrefix(a, "sha256:") {
		t.Errorf("digests %s %s %s", a, b, c)
	}
	empty, _ := flux.ConfigDigest(nil)
	none, _ := flux.ConfigDigest(map[string]any{})
	if empty != none {
		t.Errorf("nil and empty values digest differently: %s %s", empty, none)
	}
}

func TestChartValuesFilesComeFromTheAnnotationFirst(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"values.yaml": "size: s\nname: base\n", "values-prod.yaml": "size: l\n", "values-ha.yaml": "replicas: 3\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	merged := func(hr *helmv2.HelmRelease) map[string]any {
		t.Helper()
		ch := &chart.Chart{Values: map[string]any{"untouched": true}}
		if err := flux.MergeChartValuesFiles(ch, dir, flux.ChartValuesFiles(hr)); err != nil {
			t.Fatal(err)
		}
		return ch.Values
	}
	hr := helmRelease("ns", "app", "")
	if got := merged(hr); !reflect.DeepEqual(got, map[string]any{"untouched": true}) {
		t.Errorf("no values files: the chart's own values stay, got %v", got)
	}
	hr.Spec.Chart.Spec.ValuesFiles = []string{"values.yaml", "values-prod.yaml"}
	if got := merged(hr); !reflect.DeepEqual(got, map[string]any{"size": "l", "name": "base"}) {
		t.Errorf("spec.chart.spec.valuesFiles: %v", got)
	}
	hr.Annotations = map[string]string{flux.ValuesFilesAnnotation: " values.yaml , values-ha.yaml ,"}
	if got := merged(hr); !reflect.DeepEqual(got, map[string]any{"size": "s", "name": "base", "replicas": 3}) && !reflect.DeepEqual(normalize(got), normalize(map[string]any{"size": "s", "name": "base", "replicas": 3})) {
		t.Errorf("the annotation wins over the spec: %v", got)
	}
	hr.Annotations = map[string]string{flux.LegacyValuesFilesAnnotation: "missing.yaml"}
	ch := &chart.Chart{}
	err := flux.MergeChartValuesFiles(ch, dir, flux.ChartValuesFiles(hr))
	if err == nil || !strings.Contains(err.Error(), flux.LegacyValuesFilesAnnotation) {
		t.Errorf("a missing values file names where the list came from: %v", err)
	}
}
