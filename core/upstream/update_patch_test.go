package upstream

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A patch that only applies with fuzz is applied, said to need fuzz, and
// leaves no backup or reject file in the chart.
func TestPatchWithFuzzIsReportedAndLeavesNothingBehind(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("GNU patch is not installed")
	}
	root := t.TempDir()
	file := filepath.Join(root, "templates", "ds.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	// The first context line differs from the one the patch was made on.
	if err := os.WriteFile(file, []byte("a: 1\nb: changed upstream\nc: 3\nmtu: 1400\nd: 4\ne: 5\nf: 6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	diff := `--- a/templates/ds.yaml
+++ b/templates/ds.yaml
@@ -1,7 +1,7 @@
 a: 1
 b: 2
 c: 3
-mtu: 1400
+mtu: 9000
 d: 4
 e: 5
 f: 6
`
	patchFile := filepath.Join(t.TempDir(), "mtu.diff")
	if err := os.WriteFile(patchFile, []byte(diff), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := applyPatch(context.Background(), root, patchFile, 1)
	if err != nil {
		t.Fatalf("patch: %v\n%s", err, out)
	}
	if !strings.Contains(out, "with fuzz") {
		t.Errorf("patch output does not say fuzz was needed:\n%s", out)
	}
	left, err := patchLeftovers(root)
	if err != nil || len(left) > 0 {
		t.Errorf("files left in the chart: %v %v", left, err)
	}
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), "mtu: 9000") {
		t.Errorf("not patched:\n%s", data)
	}
}
