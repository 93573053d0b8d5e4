package cmd

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// resume --instances reads as a log: each instance's messages under the
// line that says how it ended, and a summary in the run's order whose
// result says what was done; no empty section per instance.
func TestResumeInstancesSaysEachOnceUnderItsName(t *testing.T) {
	names := []string{"resume-many-a", "resume-many-b", "resume-many-c", "resume-many-d"}
	for _, ns := range names {
		hr := createHelmRelease(t, ns, "hello", `{}`)
		// Other tests' HelmReleases are made from chart hello too.
		hr.Labels = map[string]string{"test": "resume-many"}
		if err := env.Client.Update(context.Background(), hr); err != nil {
			t.Fatal(err)
		}
	}
	dir := chartCopy(t, names[0])
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ninstances: {selector: test=resume-many}\n")
	r := cozyhr(t, "-C", dir, "resume", "--instances", "--yes").expect(t, 0)
	if strings.Contains(r.out, "==>") {
		t.Errorf("sections with nothing in them:\n%s", r.out)
	}
	lines := strings.Split(r.err, "\n")
	var rows []string
	for _, ns := range names {
		key := ns + "/hello"
		i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, " "+key+": resumed (") })
		if i < 0 || i+1 >= len(lines) || lines[i+1] != "    Resumed HelmRelease "+key+"." || strings.Count(r.err, "Resumed HelmRelease "+key+".") != 1 {
			t.Errorf("%s's message is not said once, under the line saying how it ended:\n%s", key, r.err)
		}
		rows = append(rows, key+" "+key+" resumed")
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
		got = append(got, strings.Join(strings.Fields(l)[:3], " "))
	}
	if !slices.Equal(got, rows) {
		t.Errorf("summary rows %q, want %q", got, rows)
	}
}
