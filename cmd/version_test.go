package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core/buildinfo"
)

func TestVersion(t *testing.T) {
	r := cozyhr(t, "version").expect(t, 0)
	if !strings.HasPrefix(r.out, "cozyhr dev (commit unknown") {
		t.Errorf("unexpected version line %q", r.out)
	}
	r = cozyhr(t, "version", "-o", "json").expect(t, 0)
	var v buildinfo.VersionInfo
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatal(err)
	}
	// Test binaries carry no module list, so the Helm version is checked
	// on the built binary by make demo, not here.
	if v.Version != "dev" || v.Helm == "" || v.GoVersion == "" {
		t.Errorf("version -o json = %+v", v)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := cozyhr(t, "completion", shell).expect(t, 0)
		if !strings.Contains(r.out, "cozyhr") {
			t.Errorf("completion %s printed no script", shell)
		}
	}
}

func TestUnknownFlagIsAnError(t *testing.T) {
	r := cozyhr(t, "diff", "--no-such-flag").expect(t, 1)
	golden(t, "unknown-flag", r.err)
}

func TestCleanErrorTidiesHelmsMultiErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"one error inline", "apply release x: 1 error occurred:\n\t* namespaces \"x\" not found\n\n", `apply release x: namespaces "x" not found`},
		{"several as a list", "apply: 2 errors occurred:\n\t* a\n\t* b\n\n", "apply: \n  - a\n  - b"},
		{"plain errors untouched", "plain error", "plain error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := output.CleanError(c.in); got != c.want {
				t.Errorf("CleanError(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
