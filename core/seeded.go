package core

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"text/template"
	"time"
)

// seededFuncs replace the random template functions (and now) with ones
// that give the same output for the same chart, function, arguments and
// call: two renders of a chart that does not touch them show no change
// there. For review and golden files only; never for apply or the live
// diff. genCA and the other key generators stay random: Go's key
// generation takes no seed.
func seededFuncs(chartName string) template.FuncMap {
	var mu sync.Mutex
	calls := map[string]int{}
	source := func(fn string, args ...any) *rand.Rand {
		mu.Lock()
		key := fmt.Sprint(fn, args)
		n := calls[key]
		calls[key]++
		mu.Unlock()
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", chartName, key, n))
		return rand.New(rand.NewChaCha8(sum))
	}
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
	return template.FuncMap{
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
		"now": func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}
