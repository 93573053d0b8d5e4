package batch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cozyhr/cozyhr/config"
)

// Timings remember how long each chart's run of each command took, in
// cozyhr's cache ($COZYHR_CACHE, or the user's cache directory), so that the next run over many starts the costliest
// charts first: a chart's size on disk says little of what it costs to
// render and diff (kubeovn, the slowest of the shared charts, is the
// smallest directory). Best effort: a cache that cannot be read or
// written only loses the order.
type Timings struct {
	path string
	// Took is milliseconds by command and absolute chart directory.
	Took map[string]int64 `json:"took"`
}

const timingsFile = "timings.json"

// CacheDir is cozyhr's cache: $COZYHR_CACHE, or cozyhr under the user's
// cache directory; "" when there is none.
func CacheDir() string {
	if dir := os.Getenv("COZYHR_CACHE"); dir != "" {
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "cozyhr")
}

// LoadTimings reads the timings kept in the cache directory dir; with dir
// "" nothing is read or kept.
func LoadTimings(dir string) *Timings {
	t := &Timings{Took: map[string]int64{}}
	if dir == "" {
		return t
	}
	t.path = filepath.Join(dir, timingsFile)
	if data, err := os.ReadFile(t.path); err == nil {
		_ = json.Unmarshal(data, t)
		if t.Took == nil {
			t.Took = map[string]int64{}
		}
	}
	return t
}

func timingKey(command, dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return command + " " + dir
}

// Weights estimate each chart's cost for the command: what its last run
// took, or, for a chart not run before, its size on disk scaled by what a
// byte cost the charts that were.
func (t *Timings) Weights(command string, dirs []string) []int64 {
	out := make([]int64, len(dirs))
	// Sizes on disk are read only when some chart has no timing yet: a
	// chart's tree is walked for nothing otherwise.
	all := true
	for i, d := range dirs {
		ms, ok := t.Took[timingKey(command, d)]
		out[i], all = ms*1000, all && ok
	}
	if all {
		return out
	}
	sizes := make([]int64, len(dirs))
	var perByte []float64
	for i, d := range dirs {
		sizes[i] = config.SizeOnDisk(d)
		if ms, ok := t.Took[timingKey(command, d)]; ok && sizes[i] > 0 {
			perByte = append(perByte, float64(ms*1000)/float64(sizes[i]))
		}
	}
	scale := 1.0
	if len(perByte) > 0 {
		slices.Sort(perByte)
		scale = perByte[len(perByte)/2]
	}
	for i, d := range dirs {
		if ms, ok := t.Took[timingKey(command, d)]; ok {
			out[i] = ms * 1000
		} else {
			out[i] = int64(float64(sizes[i]) * scale)
		}
	}
	return out
}

// Record keeps what each chart that ran took, and writes the cache.
func (t *Timings) Record(command string, dirs []string, took []time.Duration) {
	if t.path == "" {
		return
	}
	for i, d := range dirs {
		if took[i] > 0 {
			t.Took[timingKey(command, d)] = max(took[i].Milliseconds(), 1)
		}
	}
	data, err := json.Marshal(t)
	if err != nil || os.MkdirAll(filepath.Dir(t.path), 0o755) != nil {
		return
	}
	tmp := t.path + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		_ = os.Rename(tmp, t.path)
	}
}
