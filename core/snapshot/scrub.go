package snapshot

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/core/manifest"
)

// PlaceholderPrefix starts every value that stands for a secret one.
const PlaceholderPrefix = "cozyhr-secret-"

// substringMin is the shortest secret value replaced inside longer text
// too (a password in a rendered config file): shorter ones are replaced
// only where they are a whole value, lest "true" or "8080" be rewritten
// everywhere.
const substringMin = 8

// Scrubber replaces secret values by placeholders made with a keyed hash:
// within one snapshot the same value gives the same placeholder, so an
// unchanged secret shows no change in a review and a changed one shows a
// change, and without the key, which is never written, a placeholder does
// not give its value away to a guess.
type Scrubber struct {
	key     []byte
	secrets map[string]string // value → placeholder
}

// NewScrubber makes a scrubber with a key of its own.
func NewScrubber() *Scrubber {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on the systems Go supports
	}
	return &Scrubber{key: key, secrets: map[string]string{}}
}

// Placeholder is the stand-in for a secret value, remembered so that the
// value is replaced wherever else it shows (Text).
func (s *Scrubber) Placeholder(value string) string {
	if value == "" || strings.HasPrefix(value, PlaceholderPrefix) {
		return value
	}
	if p, ok := s.secrets[value]; ok {
		return p
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(value))
	p := PlaceholderPrefix + hex.EncodeToString(mac.Sum(nil))[:20]
	s.secrets[value] = p
	return p
}

// Values replaces the values at paths (those that came from Secrets) by
// placeholders. Strings and numbers are replaced; booleans, which say
// little, are kept so that templates branching on them still render.
func (s *Scrubber) Values(vals map[string]any, paths [][]string) {
	for _, p := range paths {
		s.at(vals, p)
	}
}

func (s *Scrubber) at(node any, path []string) {
	m, ok := node.(map[string]any)
	if !ok || len(path) == 0 {
		return
	}
	v, ok := m[path[0]]
	if !ok {
		return
	}
	if len(path) > 1 {
		s.at(v, path[1:])
		return
	}
	m[path[0]] = s.leaf(v)
}

// leaf scrubs a value from a Secret, whole.
func (s *Scrubber) leaf(v any) any {
	switch t := v.(type) {
	case string:
		return s.Placeholder(t)
	case bool, nil:
		return t
	case map[string]any:
		for k, e := range t {
			t[k] = s.leaf(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = s.leaf(e)
		}
		return t
	default:
		data, _ := json.Marshal(t)
		return s.Placeholder(string(data))
	}
}

// Object scrubs a Secret (or a list of them, as lookup returns with no
// name): each data value becomes the base64 of its placeholder, each
// stringData value its placeholder. Any other object is left as it is.
func (s *Scrubber) Object(obj map[string]any) {
	switch obj["kind"] {
	case "Secret":
		if data, ok := obj["data"].(map[string]any); ok {
			for k, v := range data {
				enc, _ := v.(string)
				raw, err := base64.StdEncoding.DecodeString(enc)
				if err != nil {
					raw = []byte(enc)
				}
				data[k] = base64.StdEncoding.EncodeToString([]byte(s.Placeholder(string(raw))))
			}
		}
		if data, ok := obj["stringData"].(map[string]any); ok {
			for k, v := range data {
				str, _ := v.(string)
				data[k] = s.Placeholder(str)
			}
		}
		// The last applied configuration repeats the data.
		if md, ok := obj["metadata"].(map[string]any); ok {
			if ann, ok := md["annotations"].(map[string]any); ok {
				delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			}
			delete(md, "managedFields")
		}
	case "SecretList", "List":
		if items, ok := obj["items"].([]any); ok {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					s.Object(m)
				}
			}
		}
	}
}

// Manifest scrubs every Secret of a release manifest; the other documents
// are kept as they are (Text then replaces secret values inside them).
func (s *Scrubber) Manifest(text string) (string, error) {
	objs, err := manifest.ParseManifests([]byte(text))
	if err != nil {
		return "", err
	}
	docs := make([]string, 0, len(objs))
	for _, o := range objs {
		if o.Unstructured != nil && manifest.IsSecret(o.Unstructured) {
			s.Object(o.Object)
			o.Touch()
		}
		text, err := o.Text()
		if err != nil {
			return "", err
		}
		docs = append(docs, string(text))
	}
	return strings.Join(docs, "\n---\n"), nil
}

// Text replaces, in a JSON document, every secret value seen so far by its
// placeholder: wherever it is a whole string, and inside longer strings
// when it is long enough to be told from ordinary text.
func (s *Scrubber) Text(doc []byte) []byte {
	values := make([]string, 0, len(s.secrets))
	for v := range s.secrets {
		values = append(values, v)
	}
	// Longest first, so that a secret holding another is replaced whole.
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	out := string(doc)
	for _, v := range values {
		enc, _ := json.Marshal(v)
		quoted := string(enc)
		out = strings.ReplaceAll(out, quoted, `"`+s.secrets[v]+`"`)
		if len(v) >= substringMin {
			out = strings.ReplaceAll(out, quoted[1:len(quoted)-1], s.secrets[v])
		}
	}
	return []byte(out)
}
