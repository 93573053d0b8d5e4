package upstream

import (
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// The buildx builder passes what the Makefiles passed to docker buildx build.
func TestBuildxArgs(t *testing.T) {
	req := &sdk.BuildRequest{ContextDir: "/c/images/metallb", Dockerfile: "/c/images/metallb/Dockerfile", Target: "controller",
		BuildArgs: map[string]string{"VERSION": "v0.15.2", "A": "1"}, Platforms: []string{"linux/amd64", "linux/arm64"}, Push: true}
	got := strings.Join(buildxArgs(req, buildxConfig{ExtraArgs: []string{"--provenance=false"}}, "r/metallb-controller:v1", "/tmp/m.json"), " ")
	want := "buildx build /c/images/metallb -f /c/images/metallb/Dockerfile -t r/metallb-controller:v1 --metadata-file /tmp/m.json --target controller --build-arg A=1 --build-arg VERSION=v0.15.2 --platform linux/amd64,linux/arm64 --push --provenance=false"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
