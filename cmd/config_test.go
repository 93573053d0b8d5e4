package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBadConfigGivesFileLineAndFix(t *testing.T) {
	cases := []struct {
		name, config string
	}{
		{"unknown-key", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: hello\n  nmespace: demo\n"},
		{"wrong-type", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\napply:\n  wait: \"yes\"\n  timeout: 5 minutes\n"},
		{"bad-yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: hello\n   namespace: demo\n"},
		{"wrong-version", "apiVersion: cozyhr.io/v2\nkind: Chart\n"},
		{"unknown-top-level", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nreleases: {}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := chartCopy(t, "config")
			writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), c.config)
			wd, _ := os.Getwd()
			t.Cleanup(func() { _ = os.Chdir(wd) })
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			r := cozyhr(t, "show", "--offline").expect(t, 1)
			golden(t, filepath.Join("config", c.name), r.err)
		})
	}
}

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	dir := chartCopy(t, "config-env")
	writeFile(t, filepath.Join(dir, "templates", "release.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\ndata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n")
	t.Setenv("COZYHR_RELEASE_NAME", "from-env")
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/release.yaml").expect(t, 0)
	golden(t, "config-env-release-name", r.out)

	// Flags win over the environment and the file.
	t.Setenv("COZYHR_RELEASE_NAMESPACE", "env-ns")
	r = cozyhr(t, "-C", dir, "-n", "flag-ns", "show", "--offline", "-s", "templates/release.yaml").expect(t, 0)
	golden(t, "config-flag-namespace", r.out)

	t.Setenv("COZYHR_APPLY_WAIT", "maybe")
	r = cozyhr(t, "-C", dir, "show", "--offline").expect(t, 1)
	golden(t, "config-env-bad-bool", r.err)
}
