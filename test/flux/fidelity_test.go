package flux_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fidelityCase is a chart Flux installs before cozyhr looks at it.
type fidelityCase struct {
	name, src, namespace string
	mutate               func(*helmv2.HelmRelease)
}

// TestFluxInstallsThenCozyhrAgrees lets helm-controller install each chart,
// then expects cozyhr to find nothing to change (in both diff modes) and
// its render to equal, object by object and byte for byte, the manifest and
// hooks helm-controller stored in the release.
func TestFluxInstallsThenCozyhrAgrees(t *testing.T) {
	cases := []fidelityCase{{
		name: "hello", src: filepath.Join("..", "..", "examples", "hello"), namespace: "fidelity-hello",
		mutate: func(hr *helmv2.HelmRelease) {
			hr.Spec.CommonMetadata = &helmv2.CommonMetadata{Labels: map[string]string{"team": "demo"}, Annotations: map[string]string{"owner": "sre"}}
			hr.Spec.Values = jsonValues(t, `{"message": "Hello from the HelmRelease"}`)
		},
	}}
	// The shared charts and the corpus are TestCorpus's.
	clusterPrerequisites(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.src); err != nil {
				t.Skipf("no chart %s", tc.src)
			}
			c := newFluxChart(t, tc.src, tc.name, tc.namespace)
			hr := c.helmRelease(t, tc.mutate)
			key := client.ObjectKeyFromObject(hr)
			t.Cleanup(func() { deleteAndWait(t, key) })
			waitReady(t, key, 3*time.Minute)

			args := []string{"-C", c.Dir}
			diff := cozyhr(t, append(args, "diff", "--exit-code")...)
			t.Logf("%s: diff --exit-code after Flux installed: exit %d", tc.name, diff.code)
			if diff.code != 0 {
				t.Errorf("diff after Flux installed is not clean (exit %d):\n%s\n%s", diff.code, diff.out, diff.err)
			}
			ssa := cozyhr(t, append(args, "diff", "--server-side", "--exit-code")...)
			t.Logf("%s: diff --server-side --exit-code after Flux installed: exit %d", tc.name, ssa.code)
			if ssa.code != 0 {
				t.Errorf("server-side diff after Flux installed is not clean (exit %d):\n%s\n%s", ssa.code, ssa.out, ssa.err)
			}

			show := cozyhr(t, append(args, "show", "--show-secrets")...).expect(t, 0)
			rel := storedRelease(t, c.Namespace, c.Name)
			want := splitDocuments(strings.TrimSpace(rel.Manifest) + "\n") // as helm template prints it
			// show renders what apply would install next: revision N+1.
			// hello's hook prints its revision, and differs by that alone.
			stored, next := fmt.Sprintf("revision: %q", strconv.Itoa(rel.Version)), fmt.Sprintf("revision: %q", strconv.Itoa(rel.Version+1))
			for _, h := range rel.Hooks {
				want = append(want, document{Source: h.Path, Text: strings.ReplaceAll(h.Manifest, stored, next) + "\n"})
			}
			var got []document
			for _, d := range splitDocuments(show.out) {
				// show prints the crds/ directories first; the release
				// stores templates only.
				if strings.Contains(d.Source, "/templates/") {
					got = append(got, d)
				}
			}
			same := compareDocuments(t, got, want)
			t.Logf("%s: show equals the stored manifest and hooks: %v (%d objects, %d hooks)", tc.name, same, len(want)-len(rel.Hooks), len(rel.Hooks))
		})
	}
}

// compareDocuments reports every object whose text differs.
func compareDocuments(t *testing.T, got, want []document) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("show has %d objects, the stored release %d", len(got), len(want))
		var g, w []string
		for _, d := range got {
			g = append(g, d.Source)
		}
		for _, d := range want {
			w = append(w, d.Source)
		}
		t.Logf("show: %v\nstored: %v", g, w)
		return false
	}
	same := true
	for i := range want {
		if got[i] != want[i] {
			same = false
			t.Errorf("object %d (%s) differs from what helm-controller stored:\n--- show (%s)\n%q\n--- stored (%s)\n%q", i, want[i].Source, got[i].Source, got[i].Text, want[i].Source, want[i].Text)
		}
	}
	return same
}
