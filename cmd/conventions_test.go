package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every command's help shows examples, as helm's and kubectl's do.
func TestEveryCommandHasExamples(t *testing.T) {
	g := newGlobalOptions(IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	root := newRootCmd(g)
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" {
			t.Errorf("cozyhr %s --help has no Examples section", c.Name())
		}
	}
	r := cozyhr(t, "apply", "--help").expect(t, 0)
	start := strings.Index(r.out, "Examples:")
	end := strings.Index(r.out, "Flags:")
	if start < 0 || end < start {
		t.Fatalf("apply --help:\n%s", r.out)
	}
	golden(t, "help-apply-examples", r.out[start:end])
}

// helm's command names point to cozyhr's.
func TestHelmNamesSuggestTheCozyhrCommand(t *testing.T) {
	for helm, want := range map[string]string{"template": "show", "upgrade": "apply", "install": "apply", "uninstall": "delete"} {
		r := cozyhr(t, helm).expect(t, 1)
		if !strings.Contains(r.err, "Did you mean this?\n\t"+want) {
			t.Errorf("cozyhr %s does not suggest %s:\n%s", helm, want, r.err)
		}
	}
}

// get NAME -o yaml prints the HelmRelease itself, not a List, and in a chart
// directory finds it in the chart's namespace without -n.
func TestGetNamePrintsTheObject(t *testing.T) {
	const ns = "get-single"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{"replicas":2}`)
	r := cozyhr(t, "-C", dir, "get", "hello", "-o", "yaml").expect(t, 0)
	volatile := regexp.MustCompile(`(?m)^(\s*(creationTimestamp|resourceVersion|uid|generation)): .*$`)
	golden(t, "get-name-yaml", volatile.ReplaceAllString(r.out, "$1: X"))
}

// Flag values complete through cobra's __complete, as the shell asks.
func TestFlagValuesComplete(t *testing.T) {
	const ns = "complete-flags"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	complete := func(args ...string) []string {
		t.Helper()
		r := cozyhr(t, append([]string{"__complete"}, args...)...).expect(t, 0)
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
			if !strings.HasPrefix(l, ":") && l != "" {
				out = append(out, strings.SplitN(l, "\t", 2)[0])
			}
		}
		return out
	}
	has := func(what string, got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("%s: %q not among %v", what, w, got)
			}
		}
	}
	has("-n", complete("show", "-n", ""), ns, "default")
	has("-o of diff", complete("diff", "-o", ""), "dyff", "brief", "json", "yaml", "unified")
	has("-o of get", complete("get", "-o", ""), "table", "wide", "json", "yaml", "name")
	has("-s", complete("-C", dir, "show", "-s", ""), "templates/deployment.yaml", "templates/configmap.yaml")
	has("--kind", complete("-C", dir, "diff", "--kind", ""), "Deployment", "ConfigMap", "Service")
	has("--context", complete("--context", ""), "envtest")
	// HelmRelease names in the chart's namespace, without -n.
	has("NAME", complete("-C", dir, "get", ""), "hello")
}

// The values flags helm users type: --set-json, --set-file, --set-literal,
// -f - and -f URL, applied in helm's order.
func TestHelmValueFlags(t *testing.T) {
	dir := chartCopy(t, "value-flags")
	msg := filepath.Join(t.TempDir(), "message.txt")
	writeFile(t, msg, "from a file")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("replicas: 5\n"))
	}))
	defer srv.Close()

	var out, errOut bytes.Buffer
	err := Execute(context.Background(), []string{"-C", dir, "show", "--offline", "-s", "templates/configmap.yaml", "-s", "templates/deployment.yaml",
		"-f", "-", "-f", srv.URL + "/values.yaml", "--set-file", "message=" + msg, "--set-json", `widget={"enabled":false}`},
		IOStreams{In: strings.NewReader("image:\n  tag: from-stdin\n"), Out: &out, ErrOut: &errOut})
	if ExitCode(err) != 0 {
		t.Fatalf("show: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"<h1>from a file</h1>", "replicas: 5", "nginx:from-stdin"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, out.String())
		}
	}
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/configmap.yaml", "--set-literal", "message={not,a,list}").expect(t, 0)
	if !strings.Contains(r.out, "<h1>{not,a,list}</h1>") {
		t.Errorf("--set-literal:\n%s", r.out)
	}
	r = cozyhr(t, "-C", dir, "values", "-o", "json", "--set", "replicas=3").expect(t, 0)
	if !strings.Contains(r.out, `"replicas": 3`) {
		t.Errorf("values -o json:\n%s", r.out)
	}
}
