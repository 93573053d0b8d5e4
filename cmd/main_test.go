package cmd

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/test/testtree"

	"github.com/cozyhr/cozyhr/test/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// env is the API server shared by every test in this package; tests isolate
// themselves by namespace.
var env *testenv.Env

// goldenRoot is absolute because some tests change the working directory.
var goldenRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if goldenRoot, err = filepath.Abs("testdata"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "cozyhr-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Runs over many charts remember what each took in the user cache:
	// the tests keep theirs apart.
	os.Setenv("COZYHR_CACHE", filepath.Join(dir, "cache"))
	testPlugins.parent = dir // the plugins built for the tests go with it
	env, err = testenv.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()
	// Keep discovery caches of this throwaway server out of the user's home.
	os.Setenv("KUBECACHEDIR", filepath.Join(dir, "cache"))
	return m.Run()
}

// result is one run of the real root command.
type result struct {
	out, err string
	code     int
}

// cozyhr runs the root command with args against the test API server.
func cozyhr(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"--kubeconfig", env.Kubeconfig}, args...)
	err := Execute(context.Background(), full, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{out: out.String(), err: errOut.String(), code: ExitCode(err)}
}

// mustRun fails the test unless the command exits with want.
func (r result) expect(t *testing.T, want int) result {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.out, r.err)
	}
	return r
}

// golden compares got with testdata/NAME.golden, rewriting it with -update.
// Paths of temporary directories are replaced so output is stable.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = tempPath.ReplaceAllString(got, "$$TMP")
	path := filepath.Join(goldenRoot, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./cmd -run %s -update to create it): %v", t.Name(), err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test ./cmd -run %s -update rewrites it)\n--- want\n%s\n--- got\n%s", path, t.Name(), want, got)
	}
}

var tempPath = regexp.MustCompile(`/tmp/[^\s:"']*?/(\d+)`)

// chartCopy copies examples/hello into a temporary directory with its
// .cozyhr.yaml pointed at namespace ns, so that a test can edit it freely.
func chartCopy(t *testing.T, ns string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "hello")
	testtree.Copy(t, filepath.Join("..", "examples", "hello"), dst, nil)
	writeFile(t, filepath.Join(dst, ".cozyhr.yaml"), fmt.Sprintf(`apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: hello
  namespace: %s
`, ns))
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
