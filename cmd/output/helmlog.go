package output

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// HelmLog is where libraries' slog lines go (Helm logs through slog's
// default logger): a warning prints as a "Warning:" line, as the API
// server's do; the rest (Helm's info, such as "found symbolic link in
// path" for a library chart linked under charts/) only with --debug.
type HelmLog struct {
	mu    *sync.Mutex
	w     io.Writer
	debug func() bool
	attrs []slog.Attr
}

// NewHelmLog writes to w; debug says whether --debug is on now.
func NewHelmLog(w io.Writer, debug func() bool) *HelmLog {
	return &HelmLog{mu: &sync.Mutex{}, w: w, debug: debug}
}

func (h *HelmLog) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.debug()
}

func (h *HelmLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if r.Level >= slog.LevelWarn {
		b.WriteString("Warning: ")
	} else {
		b.WriteString("helm: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Key != "" {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		}
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteString("\n")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *HelmLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	cp := *h
	cp.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &cp
}

// WithGroup keeps attributes flat: the lines are for people, not parsers.
func (h *HelmLog) WithGroup(string) slog.Handler { return h }
