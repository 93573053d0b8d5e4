package post

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteParts writes a review's comments into dir as part-1.md and on, and
// removes the parts of an earlier, longer review there, which would
// otherwise be posted again.
func WriteParts(dir string, parts []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, p := range parts {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.md", i+1)), []byte(p), 0o644); err != nil {
			return err
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, "part-*.md"))
	for _, f := range old {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(f), "part-%d.md", &n); err == nil && n > len(parts) {
			os.Remove(f)
		}
	}
	return nil
}
