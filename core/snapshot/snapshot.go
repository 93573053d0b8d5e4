// Package snapshot is the file that records production's inputs once, so
// that a review renders every live instance of a chart as production would,
// offline and without credentials: each HelmRelease, its values as
// helm-controller composes them, the objects its templates read with
// lookup, its deployed manifest, and the cluster's Capabilities. Secret
// values never reach the file: each is a placeholder (scrub.go).
package snapshot

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

const (
	// APIVersion and Kind name the format in the file.
	APIVersion = "cozyhr.io/v1alpha1"
	Kind       = "Snapshot"
	// Format is the version of the layout; a reader refuses any other.
	Format = 1
)

// Header is what a snapshot says of itself, before its instances.
type Header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Format     int    `json:"format"`
	// Taken is when; Cluster a digest of the API server's address (never
	// the address, never a credential), to tell two clusters apart.
	Taken         time.Time `json:"taken"`
	Cluster       string    `json:"cluster"`
	CozyhrVersion string    `json:"cozyhrVersion"`
	// Capabilities are the cluster's, as templates see them.
	Capabilities Capabilities `json:"capabilities"`
}

// Capabilities are a cluster's .Capabilities.
type Capabilities struct {
	KubeVersion string   `json:"kubeVersion"`
	APIVersions []string `json:"apiVersions"`
}

// Instance is one HelmRelease as production has it.
type Instance struct {
	// Chart is the chart the instance was recorded for (its name).
	Chart string `json:"chart"`
	// HelmRelease is the object with its spec and the status fields that
	// matter (conditions, history, last applied revision); no managed
	// fields.
	HelmRelease *helmv2.HelmRelease `json:"helmRelease"`
	// Values are composed as helm-controller composes them; those from
	// Secrets are placeholders, at SecretValuePaths.
	Values           map[string]any `json:"values"`
	SecretValuePaths [][]string     `json:"secretValuePaths,omitempty"`
	// Lookups are the objects its templates read, each as lookup returned
	// it ({} for one not found).
	Lookups []Lookup `json:"lookups,omitempty"`
	// Deployed is its release's newest revision; nil when never installed.
	Deployed *Deployed `json:"deployed,omitempty"`
	// Error says what could not be recorded (values that do not compose,
	// a render that fails): the instance is still reviewed, with it.
	Error string `json:"error,omitempty"`
}

// Key is the instance's HelmRelease as namespace/name.
func (in *Instance) Key() string { return in.HelmRelease.Namespace + "/" + in.HelmRelease.Name }

// Lookup is one call of lookup and what it returned.
type Lookup struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Namespace  string         `json:"namespace,omitempty"`
	Name       string         `json:"name,omitempty"`
	Result     map[string]any `json:"result"`
}

// Deployed is a release's newest revision.
type Deployed struct {
	Revision     int    `json:"revision"`
	Status       string `json:"status"`
	ChartVersion string `json:"chartVersion"`
	// ApplyMethod is how Helm wrote it: "ssa" or "csa".
	ApplyMethod string `json:"applyMethod,omitempty"`
	// Manifest is the release's manifest, Secrets' data as placeholders.
	Manifest string `json:"manifest"`
}

// The digest is the first line of the file and covers every byte after
// it, so that an edited or cut file is told from one as taken.
const digestPrefix = `{"digest":"sha256:`

// DigestLine is the first line of a snapshot whose other lines are rest.
func DigestLine(rest []byte) string {
	sum := sha256.Sum256(rest)
	return digestPrefix + hex.EncodeToString(sum[:]) + "\",\n"
}

// Writer writes a snapshot one instance at a time, so that a fleet is
// never held whole.
type Writer struct {
	// Scrub, when set, replaces every secret value it has seen in each
	// instance written.
	Scrub *Scrubber

	path, tmp string
	f         *os.File
	buf       *bufio.Writer
	hash      io.Writer
	sum       interface{ Sum([]byte) []byte }
	n         int
}

// Create starts a snapshot at path, readable by its owner only.
func Create(path string, h Header) (*Writer, error) {
	h.APIVersion, h.Kind, h.Format = APIVersion, Kind, Format
	f, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	sum := sha256.New()
	w := &Writer{path: path, tmp: f.Name(), f: f, buf: bufio.NewWriter(f), sum: sum}
	w.hash = io.MultiWriter(w.buf, sum)
	// The first line holds the digest; it is written last, in place.
	fmt.Fprintf(w.buf, "%s%s\",\n", digestPrefix, hex.EncodeToString(make([]byte, 32)))
	head, err := json.Marshal(h)
	if err != nil {
		w.Abort()
		return nil, err
	}
	fmt.Fprintf(w.hash, "%s,\n\"instances\":[", head[1:len(head)-1])
	return w, nil
}

// Add writes one instance.
func (w *Writer) Add(in *Instance) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("snapshot of %s: %w", in.Key(), err)
	}
	if w.Scrub != nil {
		data = w.Scrub.Text(data)
	}
	if w.n > 0 {
		io.WriteString(w.hash, ",")
	}
	w.n++
	io.WriteString(w.hash, "\n")
	_, err = w.hash.Write(data)
	return err
}

// Close ends the file, writes its digest and puts it in place.
func (w *Writer) Close() error {
	io.WriteString(w.hash, "\n]}\n")
	err := w.buf.Flush()
	if err == nil {
		_, err = w.f.WriteAt([]byte(digestPrefix+hex.EncodeToString(w.sum.Sum(nil))), 0)
	}
	if err == nil {
		err = w.f.Close()
	}
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		w.Abort()
	}
	return err
}

// Abort removes what was written.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

// Error is a snapshot that cannot be read: it names the file and says what
// to do.
type Error struct {
	Path string
	What string
}

func (e *Error) Error() string { return "snapshot " + e.Path + ": " + e.What }

const takeAgain = "take the snapshot again, or use the file as it was written"

// Open checks the snapshot at path (its digest, its format and, with
// maxAge, its age at now) and returns its header. Nothing of a file that
// fails is used.
func Open(path string, maxAge time.Duration, now time.Time) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, What: fmt.Sprintf("%v: give a snapshot file", errors.Unwrap(err))}
	}
	defer f.Close()
	r := bufio.NewReader(f)
	first, err := r.ReadString('\n')
	want, ok := bytes.CutPrefix([]byte(first), []byte(digestPrefix))
	if err != nil || !ok || len(want) < 64 {
		return nil, &Error{Path: path, What: "not a snapshot cozyhr wrote (its first line is not its digest): give a snapshot file"}
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, r); err != nil {
		return nil, &Error{Path: path, What: err.Error()}
	}
	if hex.EncodeToString(sum.Sum(nil)) != string(want[:64]) {
		return nil, &Error{Path: path, What: "its content does not match its digest: it was edited or cut after it was taken; " + takeAgain}
	}
	h, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	if age := now.Sub(h.Taken); maxAge > 0 && age > maxAge {
		return nil, &Error{Path: path, What: fmt.Sprintf("taken %s ago (%s), older than the %s allowed: take a new one", age.Round(time.Minute), h.Taken.Format(time.RFC3339), maxAge)}
	}
	return h, nil
}

// readHeader decodes the fields before the instances.
func readHeader(path string) (*Header, error) {
	var h Header
	err := each(path, &h, nil, func(*Instance) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if h.APIVersion != APIVersion || h.Kind != Kind {
		return nil, &Error{Path: path, What: fmt.Sprintf("apiVersion %q, kind %q: not a snapshot cozyhr wrote; give a snapshot file", h.APIVersion, h.Kind)}
	}
	if h.Format != Format {
		return nil, &Error{Path: path, What: fmt.Sprintf("format %d, and this cozyhr reads format %d: take the snapshot again with this version", h.Format, Format)}
	}
	return &h, nil
}

var errStop = errors.New("stop")

// Each calls fn with every instance of the snapshot at path, one at a time,
// in the order taken; Open checks the file first.
func Each(path string, fn func(*Instance) error) error {
	return EachOf(path, nil, fn)
}

// EachOf is Each for the instances whose HelmRelease keep accepts (all with
// keep nil): the others are never decoded whole, so that a run over many
// charts, each reading the file for its own instances, does not decode
// every instance's values, lookups and manifest once per chart.
func EachOf(path string, keep func(*helmv2.HelmRelease) (bool, error), fn func(*Instance) error) error {
	var h Header
	return each(path, &h, keep, fn)
}

// each decodes the header into h and streams the instances keep accepts
// to fn.
func each(path string, h *Header, keep func(*helmv2.HelmRelease) (bool, error), fn func(*Instance) error) error {
	f, err := os.Open(path)
	if err != nil {
		return &Error{Path: path, What: err.Error()}
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if _, err := r.ReadString('\n'); err != nil {
		return &Error{Path: path, What: "empty: " + takeAgain}
	}
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader([]byte("{")), r))
	bad := func(err error) error {
		return &Error{Path: path, What: fmt.Sprintf("byte %d: %v; %s", dec.InputOffset(), err, takeAgain)}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	fields := map[string]any{"apiVersion": &h.APIVersion, "kind": &h.Kind, "format": &h.Format, "taken": &h.Taken,
		"cluster": &h.Cluster, "cozyhrVersion": &h.CozyhrVersion, "capabilities": &h.Capabilities}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		name, _ := tok.(string)
		if name != "instances" {
			into, ok := fields[name]
			if !ok {
				var skip json.RawMessage
				into = &skip
			}
			if err := dec.Decode(into); err != nil {
				return bad(fmt.Errorf("%s: %w", name, err))
			}
			continue
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
		for n := 0; dec.More(); n++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return bad(fmt.Errorf("instances[%d]: %w", n, err))
			}
			var named struct {
				HelmRelease *helmv2.HelmRelease `json:"helmRelease"`
			}
			if err := json.Unmarshal(raw, &named); err != nil {
				return bad(fmt.Errorf("instances[%d]: %w", n, err))
			}
			if named.HelmRelease == nil {
				return bad(fmt.Errorf("instances[%d]: no helmRelease", n))
			}
			if keep != nil {
				if ok, err := keep(named.HelmRelease); err != nil || !ok {
					if err != nil {
						return err
					}
					continue
				}
			}
			in := &Instance{}
			if err := json.Unmarshal(raw, in); err != nil {
				return bad(fmt.Errorf("instances[%d]: %w", n, err))
			}
			if err := fn(in); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
	return nil
}

// Capabilities lists the API versions sorted, so that two snapshots of one
// cluster are alike.
func (c Capabilities) Sorted() Capabilities {
	c.APIVersions = slices.Clone(c.APIVersions)
	slices.Sort(c.APIVersions)
	c.APIVersions = slices.Compact(c.APIVersions)
	return c
}
