package upstream

import (
	"strings"
	"testing"
)

func TestEditYAMLChangesOnlyTheScalars(t *testing.T) {
	src := `# top comment

metallb:
  controller:
    image:
      # the repository
      repository: ghcr.io/old/metallb-controller   # trailing comment
      tag: "v1.6.0@sha256:aaaa"

  speaker:
    image:
      repository: 'ghcr.io/old/speaker'
      tag: v1
list: [a, b]
`
	got, err := EditYAML([]byte(src), []PathValue{
		{"metallb.controller.image.repository", "127.0.0.1:5000/metallb-controller"},
		{"metallb.controller.image.tag", "v1.7.0@sha256:bbbb"},
		{"metallb.speaker.image.repository", "it's"},
		{"metallb.speaker.image.tag", "yes"},
		{"metallb.speaker.image.digest", "sha256:cccc"},
		{"global.registry.address", "r.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `# top comment

global:
  registry:
    address: r.example
metallb:
  controller:
    image:
      # the repository
      repository: 127.0.0.1:5000/metallb-controller   # trailing comment
      tag: "v1.7.0@sha256:bbbb"

  speaker:
    image:
      digest: sha256:cccc
      repository: 'it''s'
      tag: "yes"
list: [a, b]
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEditYAMLRefusesWhatItCannotEditInPlace(t *testing.T) {
	for _, tc := range []struct{ src, path, want string }{
		{"a:\n  b: |\n    x\n", "a.b", "block scalar"},
		{"a: [1]\n", "a", "sequence"},
		{"a: {}\n", "a.b", "flow"},
		{"a: 1\n", "a.b", "not a mapping"},
	} {
		_, err := EditYAML([]byte(tc.src), []PathValue{{tc.path, "v"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q at %s: error %v, want %q", tc.src, tc.path, err, tc.want)
		}
	}
}
