package iox

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Links that end somewhere are no loop.
	for link, target := range map[string]string{"templates/sibling": "sub", "templates/file": "../Chart.yaml"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if link, _, found := SymlinkLoop(dir); found {
		t.Fatalf("a loop found at %s", link)
	}
	for _, target := range []string{".", "..", "../.."} {
		link := filepath.Join(dir, "templates", "sub", "loop")
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		got, to, found := SymlinkLoop(dir)
		if !found || got != filepath.Join("templates", "sub", "loop") || to != target {
			t.Errorf("a link to %s: %q %q %v", target, got, to, found)
		}
	}
}
