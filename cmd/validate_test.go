package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Flags that are wrong on their own are refused before anything happens:
// no pre hook runs and the API server is not asked anything.
func TestBadFlagsFailBeforeAnyHookOrAPIRequest(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "this test's server answers nothing", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: `+srv.URL+`}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: validate}}]
current-context: c
`)
	dir := chartCopy(t, "hooks")
	marker := filepath.Join(t.TempDir(), "hook-ran")
	hook := `      - name: mark
        command: sh
        args: [-c, 'touch ` + marker + `']
`
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), hookConfig("validate", "  diff:\n    pre:\n"+hook+"  show:\n    pre:\n"+hook+"  apply:\n    pre:\n"+hook))

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"diff with an unknown output format", []string{"diff", "-o", "bogus"}, `unknown output format "bogus": use dyff, brief, json, yaml, unified or markdown`},
		{"diff with two output formats", []string{"diff", "--brief", "--unified"}, "two output formats"},
		{"diff with an ignore rule that is no pointer", []string{"diff", "--ignore", "Deployment=spec/replicas"}, `--ignore "Deployment=spec/replicas": want [KIND[/NAME]=]/json/pointer`},
		{"diff with a Kubernetes version against a cluster", []string{"diff", "--kube-version", "1.30.0"}, "only with --offline"},
		{"show with an unknown output format", []string{"show", "-o", "toml"}, `unknown output format "toml": use yaml or json`},
		{"show offline with a Kubernetes version that is none", []string{"show", "--offline", "--kube-version", "one"}, `--kube-version "one"`},
		{"apply with a Kubernetes version", []string{"apply", "--kube-version", "1.30.0"}, "only with --offline"},
		{"values with an unknown output format", []string{"values", "-o", "xml"}, `unknown output format "xml": use yaml or json`},
		{"history with an unknown output format", []string{"history", "-o", "xml"}, `use table, json or yaml`},
		{"get with an unknown output format", []string{"get", "-o", "xml"}, `use table, wide, json, yaml or name`},
		{"list with an unknown output format", []string{"list", "-o", "xml"}, `use table, wide, json, yaml or name`},
	} {
		t.Run(c.name, func(t *testing.T) {
			requests.Store(0)
			os.Remove(marker)
			var out, errOut bytes.Buffer
			args := append([]string{"--kubeconfig", kubeconfig, "-C", dir}, c.args...)
			err := Execute(context.Background(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			if code := ExitCode(err); code != ExitFailure {
				t.Errorf("exit code %d, want 1\n%s", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errOut.String())
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the pre hook ran before the flags were checked")
			}
			if n := requests.Load(); n > 0 {
				t.Errorf("%d API requests before the flags were checked", n)
			}
		})
	}
}
