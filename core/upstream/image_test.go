package upstream

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// chattyBuilder logs a last line with no newline, as a builder whose
// process is killed mid-line, or a plugin's final message, does.
type chattyBuilder struct{}

func (chattyBuilder) Build(_ context.Context, req *sdk.BuildRequest, logs io.Writer) (*sdk.BuildResult, error) {
	io.WriteString(logs, "STEP 1/1: FROM scratch\nCOMMIT "+req.Repository)
	return &sdk.BuildResult{Reference: req.Repository + ":" + req.Tag}, nil
}

type stubBuilders struct{}

func (stubBuilders) ImageBuilder(context.Context, host.Spec) (sdk.ImageBuilder, error) {
	return chattyBuilder{}, nil
}

func TestBuildLogKeepsALastLineWithoutNewline(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "images", "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Chart{Dir: dir, Images: []config.Image{{Name: "app", Builder: "chatty", Tag: "v1"}}}
	var logs bytes.Buffer
	if _, err := BuildImages(context.Background(), cfg, stubBuilders{}, ImageOptions{}, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "[app] COMMIT app\n") {
		t.Errorf("the builder's last line was dropped:\n%s", logs.String())
	}
}
