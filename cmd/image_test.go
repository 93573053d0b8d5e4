package cmd

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// localRegistry is a real OCI registry on 127.0.0.1; it returns host:port.
func localRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// registryDigest asks the registry for ref's digest, independently of cozyhr.
func registryDigest(t *testing.T, ref string) string {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag, remote.WithContext(context.Background()))
	if err != nil {
		t.Fatalf("the registry has no %s: %v", ref, err)
	}
	return desc.Digest.String()
}

const imageValues = `# Values of the app umbrella chart.
widget:
  # The image cozyhr image writes.
  image:
    repository: example.com/widget
    tag: "2.0.0"

  greeting: hello # kept as is
`

func imageConfig(builder, extra string) string {
	return `apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: app
  namespace: default
images:
  - name: widget
    builder: ` + builder + `
    registry: "{{ .Env.REGISTRY }}"
    repository: team/widget
    tag: "{{ .Env.IMAGE_TAG }}"
    buildArgs:
      VERSION: "{{ .AppVersion }}"
    values:
      repository: widget.image.repository
      tag: widget.image.tag
    tagFile: images/widget.tag
` + extra
}

// expectImageWritten checks values.yaml changed in exactly the two scalars
// and carries the registry's digest.
func expectImageWritten(t *testing.T, dir, reg string) string {
	t.Helper()
	digest := registryDigest(t, reg+"/team/widget:v1.2.3")
	want := strings.NewReplacer(
		"repository: example.com/widget", "repository: "+reg+"/team/widget",
		`tag: "2.0.0"`, `tag: "v1.2.3@`+digest+`"`,
	).Replace(imageValues)
	if got := readFile(t, filepath.Join(dir, "values.yaml")); got != want {
		t.Errorf("values.yaml:\n%s\nwant:\n%s", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "images/widget.tag")); got != reg+"/team/widget:v1.2.3@"+digest+"\n" {
		t.Errorf("images/widget.tag: %q", got)
	}
	return digest
}

func TestImageWithBuildah(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah is not installed (make test installs it where it can: hack/tools.sh)")
	}
	reg := localRegistry(t)
	t.Setenv("REGISTRY", reg)
	t.Setenv("IMAGE_TAG", "v1.2.3")
	dir := umbrella(t, imageConfig("buildah", ""))
	writeFile(t, filepath.Join(dir, "values.yaml"), imageValues)

	r := cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 0)
	digest := expectImageWritten(t, dir, reg)
	if !strings.Contains(r.out, "Pushed widget: "+reg+"/team/widget:v1.2.3@"+digest) {
		t.Errorf("output:\n%s", r.out)
	}
	if !strings.Contains(r.err, "[widget] ") {
		t.Errorf("build log is not streamed with the image name:\n%s", r.err)
	}

	// A build that fails leaves values.yaml untouched.
	writeFile(t, filepath.Join(dir, "images/widget/Dockerfile"), "FROM scratch\nCOPY missing.txt /\n")
	before := readFile(t, filepath.Join(dir, "values.yaml"))
	r = cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 1)
	if !strings.Contains(r.err, "build image widget: buildah") {
		t.Errorf("stderr:\n%s", r.err)
	}
	if readFile(t, filepath.Join(dir, "values.yaml")) != before {
		t.Errorf("a failed build changed values.yaml")
	}
}

func TestImageWithBuilderPlugin(t *testing.T) {
	plugins := pluginDir(t)
	reg := localRegistry(t)
	t.Setenv("REGISTRY", "example.com") // replaced by the plugin's config.registry
	t.Setenv("IMAGE_TAG", "v1.2.3")
	dir := umbrella(t, imageConfig("layer-builder", `plugins:
  imageBuilders:
    - name: layer-builder
      config:
        registry: `+reg+`
        entrypoint: [/hello.txt]
`))
	writeFile(t, filepath.Join(dir, "values.yaml"), imageValues)
	r := cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 0)
	if !strings.Contains(r.err, "[widget] pushed "+reg+"/team/widget:v1.2.3@sha256:") {
		t.Errorf("the plugin's build log is not streamed:\n%s", r.err)
	}
	// The plugin pushes to its registry; values.yaml names what was pushed.
	digest := registryDigest(t, reg+"/team/widget:v1.2.3")
	if got := readFile(t, filepath.Join(dir, "values.yaml")); !strings.Contains(got, `tag: "v1.2.3@`+digest+`"`) {
		t.Errorf("values.yaml:\n%s", got)
	}
	expectNoPluginProcesses(t, plugins)

	// --push=false builds nothing into values.yaml.
	before := readFile(t, filepath.Join(dir, "values.yaml"))
	r = cozyhr(t, "-C", dir, "image", "--push=false").expect(t, 1)
	if !strings.Contains(r.err, "plugin layer-builder (image): layer-builder only pushes") {
		t.Errorf("stderr:\n%s", r.err)
	}
	if readFile(t, filepath.Join(dir, "values.yaml")) != before {
		t.Errorf("values.yaml changed")
	}
}

func TestImageErrors(t *testing.T) {
	t.Setenv("IMAGE_TAG", "v1")
	dir := umbrella(t, imageConfig("buildah", ""))
	r := cozyhr(t, "-C", dir, "image", "nope").expect(t, 1)
	if !strings.Contains(r.err, `no image named "nope"`) || !strings.Contains(r.err, "(images: widget)") {
		t.Errorf("stderr:\n%s", r.err)
	}
	r = cozyhr(t, "-C", dir, "image").expect(t, 1)
	if !strings.Contains(r.err, "images[0].registry") || !strings.Contains(r.err, `map has no entry for key "REGISTRY"`) {
		t.Errorf("an unset variable is not named:\n%s", r.err)
	}
}
