package review_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core/review"
)

func TestGoldenFilesAreWrittenCheckedAndFoundStale(t *testing.T) {
	top := t.TempDir()
	chdir(t, top)
	golden := filepath.Join(top, "golden")
	chartDir := filepath.Join("packages", "app")

	def := review.GoldenFile(golden, chartDir, "")
	ha := review.GoldenFile(golden, chartDir, "ha")
	if want := filepath.Join(golden, "packages", "app", "default.yaml"); def != want {
		t.Errorf("default case file %s, want %s", def, want)
	}
	if filepath.Base(ha) != "ha.yaml" || filepath.Dir(ha) != filepath.Dir(def) {
		t.Errorf("case ha file %s", ha)
	}
	// A chart outside the working directory is kept under its own name.
	if got := review.GoldenFile(golden, "/somewhere/else/app", "x"); got != filepath.Join(golden, "app", "x.yaml") {
		t.Errorf("outside chart: %s", got)
	}

	st, err := review.CheckGolden(def, []byte("a: 1\n"))
	if err != nil || !st.Missing || !st.Stale() {
		t.Fatalf("a file not written yet: %+v, %v", st, err)
	}
	if err := review.WriteGolden(def, []byte("a: 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := review.WriteGolden(ha, []byte("a: 2\n")); err != nil {
		t.Fatal(err)
	}
	if st, err := review.CheckGolden(def, []byte("a: 1\n")); err != nil || st.Stale() {
		t.Errorf("the same render: %+v, %v", st, err)
	}
	st, err = review.CheckGolden(def, []byte("a: 3\n"))
	if err != nil || !st.Stale() || st.Missing {
		t.Fatalf("a changed render: %+v, %v", st, err)
	}
	for _, want := range []string{def + " (committed)", def + " (rendered now)", "-a: 1", "+a: 3"} {
		if !strings.Contains(st.Diff, want) {
			t.Errorf("the diff lacks %q:\n%s", want, st.Diff)
		}
	}
	if got := review.OrphanGolden(golden, chartDir, map[string]bool{def: true, ha: true}); len(got) != 0 {
		t.Errorf("orphans %q while every case exists", got)
	}
	if got := review.OrphanGolden(golden, chartDir, map[string]bool{def: true}); len(got) != 1 || got[0] != ha {
		t.Errorf("orphans %q, want the file of the removed case ha", got)
	}
	if err := os.Chmod(golden, 0o500); err == nil && os.Geteuid() != 0 {
		defer os.Chmod(golden, 0o755)
		if err := review.WriteGolden(filepath.Join(golden, "new", "default.yaml"), nil); err == nil {
			t.Error("writing below a read-only directory succeeded")
		}
	}
}
