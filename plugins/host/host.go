// Package host starts cozyhr plugins as go-plugin subprocesses, one process
// per plugin per run, and turns everything that can go wrong with a
// separate program (a wrong checksum or protocol, a crash, a hang, noise on
// stdout, an error) into an Error that names the plugin and the stage and
// carries the plugin's stderr.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// Prefix is how a plugin found by name is named on disk.
const Prefix = "cozyhr-plugin-"

// Spec says which plugin to run for a stage.
type Spec struct {
	// Name finds cozyhr-plugin-NAME on the search path unless Path is set.
	Name string
	// Path, relative to BaseDir when not absolute, skips the search.
	Path    string
	BaseDir string
	// SHA256, hex, is checked against the binary before it is started.
	SHA256 string
	// Timeout bounds each call (and the handshake).
	Timeout time.Duration
	// Stage names the caller in errors: "post-process", "image".
	Stage string
	// Field is where the plugin is configured, for errors:
	// ".cozyhr.yaml plugins.postProcessors[0]".
	Field string
}

// Options configure a Host.
type Options struct {
	// Dirs are searched in order for cozyhr-plugin-NAME.
	Dirs []string
	// Debug, when set, receives the plugins' stderr as it is written, and
	// go-plugin's own log.
	Debug io.Writer
}

// DefaultDirs is the plugin search path: $COZYHR_PLUGINS_PATH (a list),
// then $XDG_CONFIG_HOME/cozyhr/plugins (~/.config/cozyhr/plugins), then
// $PATH.
func DefaultDirs() []string {
	var dirs []string
	dirs = append(dirs, filepath.SplitList(os.Getenv("COZYHR_PLUGINS_PATH"))...)
	if cfg, err := os.UserConfigDir(); err == nil {
		dirs = append(dirs, filepath.Join(cfg, "cozyhr", "plugins"))
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	out := dirs[:0]
	for _, d := range dirs {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// Host runs plugins for one cozyhr run. Close kills them all.
type Host struct {
	opts Options

	mu      sync.Mutex
	running map[string]*process
	closed  bool
}

// New returns a Host; no process starts until a plugin is first used.
func New(opts Options) *Host {
	if opts.Dirs == nil {
		opts.Dirs = DefaultDirs()
	}
	return &Host{opts: opts, running: map[string]*process{}}
}

// Error is a plugin failure.
type Error struct {
	Plugin string
	Stage  string
	Err    error
	// Stderr is the tail of what the plugin wrote to stderr.
	Stderr string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("plugin %s (%s): %v", e.Plugin, e.Stage, e.Err)
	if s := strings.Trim(e.Stderr, "\n"); s != "" {
		msg += "\nplugin stderr:\n  " + strings.ReplaceAll(s, "\n", "\n  ")
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Find resolves a spec to the binary it runs.
func (h *Host) Find(spec Spec) (string, error) {
	if spec.Path != "" {
		p := spec.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(spec.BaseDir, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%s.path: %w", spec.Field, err)
		}
		if fi.IsDir() {
			return "", fmt.Errorf("%s.path: %s is a directory; give the plugin binary's path (go build -o %s/NAME, then path: %s/NAME)", spec.Field, p, spec.Path, spec.Path)
		}
		if !isExecutable(p) {
			return "", fmt.Errorf("%s.path: %s is not an executable file; build the plugin there, or chmod +x %s", spec.Field, p, p)
		}
		return p, nil
	}
	for _, dir := range h.opts.Dirs {
		p := filepath.Join(dir, Prefix+spec.Name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no built-in named %q and no %s%s in %s; build it there, or set path",
		spec.Field, spec.Name, Prefix, spec.Name, strings.Join(h.opts.Dirs, string(os.PathListSeparator)))
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// process is one started plugin.
type process struct {
	spec   Spec
	path   string
	client *plugin.Client
	rpc    plugin.ClientProtocol
	stderr *tail
}

func (p *process) fail(err error) *Error {
	return &Error{Plugin: p.spec.Name, Stage: p.spec.Stage, Err: err, Stderr: p.stderr.String()}
}

// start launches the plugin once per path and stage's kind.
func (h *Host) start(ctx context.Context, spec Spec) (*process, error) {
	path, err := h.Find(spec)
	if err != nil {
		return nil, &Error{Plugin: spec.Name, Stage: spec.Stage, Err: err}
	}
	key := path + "\x00" + spec.SHA256
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, &Error{Plugin: spec.Name, Stage: spec.Stage, Err: context.Canceled}
	}
	if p, ok := h.running[key]; ok && !p.client.Exited() {
		return p, nil
	}
	p := &process{spec: spec, path: path, stderr: &tail{max: 16 << 10}}
	var stderr io.Writer = p.stderr
	if h.opts.Debug != nil {
		stderr = io.MultiWriter(p.stderr, prefixed(h.opts.Debug, spec.Name))
	}
	logOut, level := io.Discard, hclog.Off
	if h.opts.Debug != nil {
		logOut, level = h.opts.Debug, hclog.Warn
	}
	cmd := exec.Command(path)
	DieWithParent(cmd)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPlugins(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     startTimeout(spec.Timeout),
		Stderr:           stderr,
		SyncStderr:       stderr,
		SyncStdout:       stderr,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: logOut, Level: level}),
	}
	if spec.SHA256 != "" {
		sum, err := hex.DecodeString(spec.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, p.fail(fmt.Errorf("%s.sha256 %q is not a hex sha256", spec.Field, spec.SHA256))
		}
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	p.client = plugin.NewClient(cfg)

	type started struct {
		rpc plugin.ClientProtocol
		err error
	}
	done := make(chan started, 1)
	go func() {
		rpc, err := p.client.Client()
		done <- started{rpc, err}
	}()
	select {
	case <-ctx.Done():
		p.client.Kill()
		return nil, p.fail(ctx.Err())
	case s := <-done:
		if s.err != nil {
			p.client.Kill()
			return nil, p.fail(explainStart(s.err, spec, path))
		}
		p.rpc = s.rpc
	}
	h.running[key] = p
	return p, nil
}

func startTimeout(call time.Duration) time.Duration {
	const max = 30 * time.Second
	if call > 0 && call < max {
		return call
	}
	return max
}

// explainStart says what a failed handshake means for the user.
func explainStart(err error, spec Spec, path string) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		actual, _ := fileSHA256(path)
		return fmt.Errorf("%s has sha256 %s but %s.sha256 pins %s: refusing to start it; if you rebuilt it on purpose, pin the new sum",
			path, actual, spec.Field, spec.SHA256)
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		return fmt.Errorf("protocol mismatch: %s. This cozyhr speaks plugin protocol %d: rebuild the plugin against the plugins/sdk of this cozyhr version",
			firstLine(msg), sdk.ProtocolVersion)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		line := strings.TrimPrefix(firstLine(msg), "Unrecognized remote plugin message: ")
		if strings.TrimSpace(line) == "" {
			return fmt.Errorf("%s is not a cozyhr plugin: it ended or printed nothing instead of the handshake; a plugin calls sdk.Serve from plugins/sdk", path)
		}
		return fmt.Errorf("it printed %q to stdout before the handshake, or is not a cozyhr plugin: a plugin must not write to stdout (log to stderr) and must call sdk.Serve", line)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("no handshake within %s: is %s a cozyhr plugin that calls sdk.Serve?", startTimeout(spec.Timeout), path)
	case strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Errorf("%s exited before the handshake", path)
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Close kills every plugin this host started and waits for them to exit.
// It is safe to call more than once.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	procs := h.running
	h.running = map[string]*process{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.client.Kill() }()
	}
	wg.Wait()
}

// call runs fn with the plugin's timeout and explains its failure.
func (p *process) call(ctx context.Context, fn func(ctx context.Context) error) error {
	callCtx := ctx
	if p.spec.Timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, p.spec.Timeout)
		defer cancel()
	}
	err := fn(callCtx)
	if err == nil {
		return nil
	}
	// gRPC sends the deadline to the plugin, whose server may cancel the
	// stream a moment before the host's own timer fires.
	if code := status.Code(err); code == codes.Canceled || code == codes.DeadlineExceeded {
		select {
		case <-callCtx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	switch {
	case ctx.Err() != nil:
		p.client.Kill()
		return p.fail(fmt.Errorf("interrupted: %w", ctx.Err()))
	case callCtx.Err() != nil:
		// A hung plugin is killed now rather than at Close.
		p.client.Kill()
		return p.fail(fmt.Errorf("no answer within %s: killed it; if it needs longer, raise its timeout (%s.timeout)", p.spec.Timeout, p.spec.Field))
	}
	if code := status.Code(err); (code == codes.Unavailable || code == codes.Internal || code == codes.Canceled) && p.exited() {
		return p.fail(fmt.Errorf("crashed: the process exited during the call"))
	}
	return p.fail(rpcMessage(err))
}

// exited waits briefly for go-plugin to notice a process that died: the
// broken connection is often seen first.
func (p *process) exited() bool {
	for range 20 {
		if p.client.Exited() {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// Found is a plugin binary on the search path.
type Found struct {
	Name string
	Path string
}

// Discover lists cozyhr-plugin-* executables on the search path; a name
// found twice is the first one, as Find would run.
func (h *Host) Discover() []Found {
	var out []Found
	seen := map[string]bool{}
	for _, dir := range h.opts.Dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), Prefix)
			if !ok || name == "" || seen[name] {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if !isExecutable(p) {
				continue
			}
			seen[name] = true
			out = append(out, Found{Name: name, Path: p})
		}
	}
	return out
}

// ParseTimeout reads a plugin's configured call timeout; empty means def.
// field names the setting in errors.
func ParseTimeout(s string, def time.Duration, field string) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s.timeout: %w", field, err)
	}
	return d, nil
}
