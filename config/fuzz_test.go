package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The .cozyhr.yaml loader turns any input into a configuration or an error
// that names the file; it never panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: x\n"))
	f.Add([]byte("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nplugins:\n  postProcessors:\n    - name: a\n      sha256: 12\n"))
	f.Add([]byte("[\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nupstream: {helm: {repo: x}, oci: {url: y}}\n"))
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: fuzz\nversion: 0.1.0\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(LoadOptions{Dir: dir, File: file})
		if err == nil && c == nil {
			t.Fatal("no configuration and no error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("an empty error message")
		}
	})
}
