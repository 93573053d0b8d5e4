package output

import (
	"fmt"
	"io"

	"github.com/cozyhr/cozyhr/core/upstream"
)

// Images prints the built images.
func Images(w io.Writer, results []upstream.ImageResult) {
	for _, r := range results {
		if r.Digest == "" {
			fmt.Fprintf(w, "Built %s: %s (not pushed; values.yaml unchanged)\n", r.Name, r.Reference)
			continue
		}
		fmt.Fprintf(w, "Pushed %s: %s@%s\n", r.Name, r.Reference, r.Digest)
		for _, wr := range r.Written {
			fmt.Fprintf(w, "  wrote %s\n", wr)
		}
	}
}

// Update prints what an update changed.
func Update(w io.Writer, res *upstream.UpdateResult) {
	verb := "Updated"
	if res.DryRun {
		verb = "Would update"
	}
	from := res.OldVersion
	if from == "" {
		from = "(none)"
	}
	fmt.Fprintf(w, "%s %s in %s: %s -> %s (appVersion %s)\n", verb, res.Chart, res.Dest, from, res.NewVersion, res.AppVersion)
	fmt.Fprintf(w, "Files: %d added, %d removed, %d changed\n", len(res.Added), len(res.Removed), len(res.Changed))
	listFiles(w, "+", res.Added)
	listFiles(w, "-", res.Removed)
	listFiles(w, "~", res.Changed)
	for _, p := range res.Patches {
		fmt.Fprintf(w, "Patch applied: %s\n", p)
	}
	for _, f := range res.Fuzzy {
		fmt.Fprintf(w, "Warning: patch did not apply exactly, refresh it: %s\n", f)
	}
	for _, p := range res.Propagated {
		fmt.Fprintf(w, "Version written to: %s\n", p)
	}
}

// listFiles prints up to 20 files of a kind: a first vendoring adds
// hundreds, and the counts above say how many.
func listFiles(w io.Writer, mark string, files []string) {
	const most = 20
	for i, f := range files {
		if i == most {
			fmt.Fprintf(w, "  %s ... and %d more\n", mark, len(files)-most)
			return
		}
		fmt.Fprintf(w, "  %s %s\n", mark, f)
	}
}
