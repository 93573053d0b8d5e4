// Package seeded gives template functions that stand in for the random
// ones (randAlphaNum, uuidv4, genCA, bcrypt, htpasswd, encryptAES,
// shuffle, ...) and the clock's (now, ago), seeded by the chart,
// the function, its arguments and the call: the same render gives the same
// bytes, for review between revisions and golden files.
package seeded

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"sync"
	"text/template"
	"time"
)

// Funcs replace the random template functions (and now) with ones
// that give the same output for the same chart, function, arguments and
// call: two renders of a chart that does not touch them show no change
// there. For review and golden files only; never for apply or the live
// diff. Keys and certificates (genCA and the like) are seeded too, and
// valid from the fixed now.
func Funcs(chartName string) template.FuncMap {
	var mu sync.Mutex
	calls := map[string]int{}
	stream := func(fn string, args ...any) *rand.ChaCha8 {
		mu.Lock()
		key := fmt.Sprint(fn, args)
		n := calls[key]
		calls[key]++
		mu.Unlock()
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", chartName, key, n))
		return rand.NewChaCha8(sum)
	}
	source := func(fn string, args ...any) *rand.Rand { return rand.New(stream(fn, args...)) }
	pick := func(fn, alphabet string, n int) string {
		r := source(fn, n)
		b := make([]byte, max(n, 0))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	const (
		letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		digits  = "0123456789"
	)
	var ascii []byte
	for c := byte(32); c < 127; c++ {
		ascii = append(ascii, c)
	}
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	funcs := seededCertFuncs(func(fn string, args ...any) io.Reader { return keyReader{stream(fn, args...)} }, now)
	maps.Copy(funcs, seededSecretFuncs(func(fn string, args ...any) io.Reader { return stream(fn, args...) }, now))
	own := template.FuncMap{
		"randAlphaNum": func(n int) string { return pick("randAlphaNum", letters+digits, n) },
		"randAlpha":    func(n int) string { return pick("randAlpha", letters, n) },
		"randNumeric":  func(n int) string { return pick("randNumeric", digits, n) },
		"randAscii":    func(n int) string { return pick("randAscii", string(ascii), n) },
		"randInt": func(min, max int) int {
			if max <= min {
				return min
			}
			return min + source("randInt", min, max).IntN(max-min)
		},
		"uuidv4": func() string {
			var b [16]byte
			r := source("uuidv4")
			binary.BigEndian.PutUint64(b[:8], r.Uint64())
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
			b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		},
		"now": func() time.Time { return now },
	}
	maps.Copy(funcs, own)
	return funcs
}

// keyReader is a seeded stream for key generation. Go's key generators
// read one byte, or not, at random before they start (randutil's
// MaybeReadByte), to keep callers from relying on their output: a one-byte
// read here does not advance the stream, so the key is the same either way.
type keyReader struct{ c *rand.ChaCha8 }

func (r keyReader) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0
		return 1, nil
	}
	return r.c.Read(p)
}
