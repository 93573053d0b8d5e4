package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func executable(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// The first directory on the search path wins, as for $PATH; files that are
// not executable or not named cozyhr-plugin-* are not plugins.
func TestFindAndDiscoverFollowTheSearchPath(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	executable(t, filepath.Join(first, "cozyhr-plugin-labels"))
	executable(t, filepath.Join(second, "cozyhr-plugin-labels"))
	executable(t, filepath.Join(second, "cozyhr-plugin-policy"))
	executable(t, filepath.Join(second, "not-a-plugin"))
	if err := os.WriteFile(filepath.Join(second, "cozyhr-plugin-readme"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Dirs: []string{first, filepath.Join(first, "missing"), second}})

	got, err := h.Find(Spec{Name: "labels"})
	if err != nil || got != filepath.Join(first, "cozyhr-plugin-labels") {
		t.Errorf("Find(labels) = %q, %v", got, err)
	}
	var names []string
	for _, f := range h.Discover() {
		names = append(names, f.Name+"="+f.Path)
	}
	want := []string{"labels=" + filepath.Join(first, "cozyhr-plugin-labels"), "policy=" + filepath.Join(second, "cozyhr-plugin-policy")}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("Discover = %v, want %v", names, want)
	}

	_, err = h.Find(Spec{Name: "readme", Field: "plugins.postProcessors[0]"})
	if err == nil || !strings.Contains(err.Error(), `plugins.postProcessors[0]: no built-in named "readme" and no cozyhr-plugin-readme in `+first) {
		t.Errorf("Find(readme) error: %v", err)
	}
	got, err = h.Find(Spec{Path: "bin/x", BaseDir: first, Field: "f"})
	if err == nil || !strings.Contains(err.Error(), "f.path:") {
		t.Errorf("a missing path: %q, %v", got, err)
	}
}

func TestDefaultDirsOrder(t *testing.T) {
	t.Setenv("COZYHR_PLUGINS_PATH", "/a:/b")
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("PATH", "/usr/bin:/bin")
	got := strings.Join(DefaultDirs(), ":")
	if got != "/a:/b:/cfg/cozyhr/plugins:/usr/bin:/bin" {
		t.Errorf("DefaultDirs = %s", got)
	}
}
