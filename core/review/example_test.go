package review_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/cozyhr/cozyhr/core/review"
)

// Review a chart between the last commit and the working tree, with core
// alone: each value case's comparison comes back as data.
func ExampleTrees_Review() {
	dir, _ := os.MkdirTemp("", "cozyhr-example-")
	defer os.RemoveAll(dir)
	files := map[string]string{
		"app/Chart.yaml":  "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"app/values.yaml": "replicas: 1\n",
		"app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n" +
			"data:\n  replicas: {{ .Values.replicas | quote }}\n  password: {{ randAlphaNum 12 | quote }}\n",
	}
	for path, content := range files {
		_ = os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755)
		_ = os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "-q", "-m", "app"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Println(string(out), err)
			return
		}
	}
	// The change under review, not yet committed.
	_ = os.WriteFile(filepath.Join(dir, "app/values.yaml"), []byte("replicas: 3\n"), 0o644)

	trees := &review.Trees{}
	defer trees.Close()
	rev, err := trees.Review(context.Background(), filepath.Join(dir, "app"), review.Options{Base: "HEAD"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s against %s\n", rev.Path, rev.Head, rev.Base.Ref)
	for _, c := range rev.Cases {
		for _, change := range c.Result.Changes {
			for _, d := range change.Report.Diffs {
				fmt.Printf("%s %s: %s\n", change.Action, change.Ref, d.Path)
			}
		}
	}
	// Output:
	// app: the working tree against HEAD
	// change ConfigMap default/app: /data/replicas
}
