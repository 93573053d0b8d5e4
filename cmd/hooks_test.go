package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func hookConfig(ns, hooks string) string {
	return `apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: hello
  namespace: ` + ns + `
hooks:
` + hooks
}

func TestHooksRunInOrderWithTheirEnvironment(t *testing.T) {
	dir := chartCopy(t, "hooks")
	logFile := filepath.Join(t.TempDir(), "hooks.log")
	record := func(name, what string) string {
		return `      - name: ` + name + `
        command: sh
        args: [-c, 'echo "` + what + `" >> ` + logFile + `; echo said ` + name + `']
        env:
          GREETING: hi-${RELEASE}
`
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), hookConfig("hooks", `  show:
    pre:
`+record("first", "pre1 $COZYHR_STAGE $COZYHR_HOOK $RELEASE $NAMESPACE $GREETING")+record("second", "pre2 $(basename $CHART_DIR) $(pwd)")+`    post:
`+record("after", "post $COZYHR_STAGE $COZYHR_HOOK")+`        dir: templates
`))
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 0)
	want := "pre1 show pre hello hooks hi-hello\npre2 hello " + dir + "\npost show post\n"
	if got := readFile(t, logFile); got != want {
		t.Errorf("hook log:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(r.out, "said") {
		t.Errorf("hook output went to stdout, mixing with the manifests:\n%s", r.out)
	}
	for _, want := range []string{"[hook first] said first", "[hook second] said second", "[hook after] said after"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}

	// --no-hooks skips them all.
	writeFile(t, logFile, "")
	cozyhr(t, "-C", dir, "show", "--offline", "--no-hooks").expect(t, 0)
	if got := readFile(t, logFile); got != "" {
		t.Errorf("--no-hooks ran hooks:\n%s", got)
	}
}

func TestFailingHookStopsTheStageWithItsExitCode(t *testing.T) {
	dir := chartCopy(t, "hooks")
	logFile := filepath.Join(t.TempDir(), "hooks.log")
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), hookConfig("hooks", `  show:
    pre:
      - name: optional
        command: sh
        args: [-c, 'echo optional failed >&2; exit 4']
        continueOnError: true
      - name: lint
        command: sh
        args: [-c, 'echo "values.yaml: bad indentation" >&2; exit 7']
      - name: never
        command: sh
        args: [-c, 'echo never >> `+logFile+`']
    post:
      - name: never-post
        command: sh
        args: [-c, 'echo never-post >> `+logFile+`']
`))
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 7)
	if r.out != "" {
		t.Errorf("the stage ran after its pre hook failed:\n%s", r.out)
	}
	for _, want := range []string{
		"[hook optional] optional failed", "[hook optional] failed, continuing (continueOnError)",
		"[hook lint] values.yaml: bad indentation", "Error: hook lint (pre-show) failed: exit code 7",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if _, err := os.Stat(logFile); !os.IsNotExist(err) {
		t.Errorf("hooks after the failing one ran: %s", readFile(t, logFile))
	}
}

func TestPostHooksSeeTheStageResult(t *testing.T) {
	reg := localRegistry(t)
	t.Setenv("REGISTRY", reg)
	t.Setenv("IMAGE_TAG", "v1.2.3")
	pluginDir(t)
	logFile := filepath.Join(t.TempDir(), "hooks.log")
	dir := umbrella(t, imageConfig("layer-builder", `plugins:
  imageBuilders:
    - name: layer-builder
hooks:
  image:
    post:
      - name: record
        command: sh
        args: [-c, 'echo "$IMAGE_NAME $IMAGE_REF $IMAGE_DIGEST" > `+logFile+`']
`))
	writeFile(t, filepath.Join(dir, "values.yaml"), imageValues)
	cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 0)
	digest := registryDigest(t, reg+"/team/widget:v1.2.3")
	if got, want := readFile(t, logFile), "widget "+reg+"/team/widget:v1.2.3 "+digest+"\n"; got != want {
		t.Errorf("post hook saw %q, want %q", got, want)
	}
}

// A diff that finds changes has succeeded: its post hooks run, and the
// exit code stays 2.
func TestDiffPostHooksRunWhenThereAreChanges(t *testing.T) {
	ns := "hooks-diff"
	dir := chartCopy(t, ns)
	logFile := filepath.Join(t.TempDir(), "hooks.log")
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), hookConfig(ns, `  diff:
    post:
      - name: notify
        command: sh
        args: [-c, 'echo "$COZYHR_STAGE $COZYHR_HOOK" >> `+logFile+`']
`))
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 2)
	if got := readFile(t, logFile); got != "diff post\n" {
		t.Errorf("post hook log %q", got)
	}
}
