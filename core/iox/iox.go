// Package iox holds the small io helpers the engine shares: line-prefixed
// output for child processes, atomic file writes, the environment.
package iox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// LineWriter writes each line to W with a prefix. A last line without a
// newline is held until Flush, which whoever started the writer must call
// once the producer is done, or that line is lost.
type LineWriter struct {
	w       io.Writer
	prefix  string
	mu      sync.Mutex
	partial []byte
}

// PrefixLines returns a LineWriter over w.
func PrefixLines(w io.Writer, prefix string) *LineWriter {
	return &LineWriter{w: w, prefix: prefix}
}

func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.partial[:i]); err != nil {
			return 0, err
		}
		l.partial = l.partial[i+1:]
	}
}

// Flush writes a last line that had no newline, ending it with one.
func (l *LineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.partial)
	l.partial = nil
	return err
}

// Environ is the process environment as a map.
func Environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// WriteFileAtomic replaces path with data through a temporary file in the
// same directory and a rename, keeping the file's mode: a reader (or a
// crash) sees the old file or the new one, never half of one.
func WriteFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteFrom writes what r holds to path, making its directory, with mode
// (owner-writable whatever the source said, so that it can be replaced).
func WriteFrom(path string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
