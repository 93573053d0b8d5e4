package iox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cozyhr/cozyhr/core/iox"
)

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	w := iox.PrefixLines(&out, "[p] ")
	for _, chunk := range []string{"first li", "ne\nsecond\nthi", "rd", "\n", "last without newline"} {
		if n, err := w.Write([]byte(chunk)); err != nil || n != len(chunk) {
			t.Fatalf("write %q: %d, %v", chunk, n, err)
		}
	}
	if got := out.String(); got != "[p] first line\n[p] second\n[p] third\n" {
		t.Errorf("before Flush: %q (a partial line waits for its end)", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasSuffix(got, "[p] last without newline\n") || strings.Count(got, "last") != 1 {
		t.Errorf("after Flush: %q", got)
	}
}

// Two producers share one writer (a hook's stdout and stderr): lines never
// mix.
func TestLineWriterKeepsConcurrentLinesWhole(t *testing.T) {
	var out bytes.Buffer
	w := iox.PrefixLines(&out, "> ")
	var wg sync.WaitGroup
	for _, word := range []string{"aaaa", "bbbb"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_, _ = w.Write([]byte(word + "\n"))
			}
		}()
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line != "> aaaa" && line != "> bbbb" {
			t.Fatalf("a mixed line: %q", line)
		}
	}
}

func TestEnvironIsTheProcessEnvironment(t *testing.T) {
	t.Setenv("COZYHR_IOX_TEST", "a=b=c")
	env := iox.Environ()
	if env["COZYHR_IOX_TEST"] != "a=b=c" {
		t.Errorf("a value with = in it: %q", env["COZYHR_IOX_TEST"])
	}
	if env["PATH"] != os.Getenv("PATH") {
		t.Error("PATH differs")
	}
}

func TestWriteFileAtomicKeepsTheModeAndLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "values.yaml")
	if err := iox.WriteFileAtomic(path, []byte("a: 1\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("a new file: %v, %v", fi, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := iox.WriteFileAtomic(path, []byte("a: 2\n")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(data) != "a: 2\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced: %q mode %v", data, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := iox.WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestWriteFromMakesTheDirectoryAndAnOwnerWritableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "file")
	if err := iox.WriteFrom(path, strings.NewReader("content"), 0o444); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(data) != "content" || fi.Mode().Perm() != 0o644 {
		t.Errorf("%q mode %v: want the content, owner-writable", data, fi.Mode())
	}
	// Written again over itself, it is replaced, not appended to.
	if err := iox.WriteFrom(path, strings.NewReader("new"), 0o755); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "new" {
		t.Errorf("rewritten: %q", data)
	}
}
