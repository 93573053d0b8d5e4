package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run over many starts the chart the last run found slowest first, not
// the largest directory; a chart not run before is estimated from its size
// at what a byte cost the others.
func TestRunTimingsOrderByWhatTheLastRunTook(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	small, large, fresh := filepath.Join(root, "small"), filepath.Join(root, "large"), filepath.Join(root, "fresh")
	for dir, size := range map[string]int{small: 100, large: 10000, fresh: 5000} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := LoadTimings(dir).Weights("diff", []string{small, large})
	if before[0] >= before[1] {
		t.Errorf("before any run the larger directory should weigh more: %v", before)
	}
	LoadTimings(dir).Record("diff", []string{small, large}, []time.Duration{900 * time.Millisecond, 100 * time.Millisecond})
	after := LoadTimings(dir).Weights("diff", []string{small, large, fresh})
	if after[0] <= after[1] {
		t.Errorf("the chart that took longest should weigh most: %v", after)
	}
	if after[2] <= 0 {
		t.Errorf("a chart never run gets an estimate: %v", after)
	}
	if other := LoadTimings(dir).Weights("apply", []string{small, large}); other[0] >= other[1] {
		t.Errorf("timings are per command: %v", other)
	}
}
