// Package hooks runs the pre and post hooks .cozyhr.yaml declares for each
// stage, streaming their output line by line.
package hooks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/iox"
	"github.com/cozyhr/cozyhr/plugins/host"
)

// Stages that have hooks.
const (
	StageUpdate = "update"
	StageImage  = "image"
	StageShow   = "show"
	StageDiff   = "diff"
	StageApply  = "apply"
	StageDelete = "delete"
)

// Of returns the configured hooks of a stage.
func Of(cfg *config.Chart, stage string) config.StageHooks {
	h := cfg.Hooks
	switch stage {
	case StageUpdate:
		return h.Update
	case StageImage:
		return h.Image
	case StageShow:
		return h.Show
	case StageDiff:
		return h.Diff
	case StageApply:
		return h.Apply
	case StageDelete:
		return h.Delete
	}
	return config.StageHooks{}
}

// Error is a hook that failed; Code is its exit code, which a command
// line passes on as make would.
type Error struct {
	Hook  string
	Stage string
	When  string
	Code  int
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("hook %s (%s-%s) failed: %v", e.Hook, e.When, e.Stage, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Env is the environment every hook gets on top of cozyhr's own:
// CHART_DIR, RELEASE, NAMESPACE, COZYHR_STAGE and COZYHR_HOOK (pre or
// post), plus what the stage adds (see docs/hooks.md).
func Env(cfg *config.Chart, stage string) map[string]string {
	return map[string]string{
		"CHART_DIR":    cfg.Dir,
		"RELEASE":      cfg.Release.Name,
		"NAMESPACE":    cfg.Release.Namespace,
		"COZYHR_STAGE": stage,
	}
}

// Run runs the pre or post hooks of a stage in order, streaming their
// output to out as "[hook NAME] line". A failing hook stops the stage
// unless it says continueOnError.
func Run(ctx context.Context, cfg *config.Chart, stage, when string, env map[string]string, out io.Writer) error {
	hooks := Of(cfg, stage).Pre
	if when == "post" {
		hooks = Of(cfg, stage).Post
	}
	for i, h := range hooks {
		name := cmp.Or(h.Name, fmt.Sprintf("%s[%d]", when, i))
		err := runHook(ctx, cfg, h, name, stage, when, env, out)
		if err == nil {
			continue
		}
		if h.ContinueOnError {
			fmt.Fprintf(out, "[hook %s] failed, continuing (continueOnError): %v\n", name, err)
			continue
		}
		return err
	}
	return nil
}

func runHook(ctx context.Context, cfg *config.Chart, h config.Hook, name, stage, when string, env map[string]string, out io.Writer) error {
	full := iox.Environ()
	for k, v := range env {
		full[k] = v
	}
	full["COZYHR_HOOK"] = when
	// A hook's own env may refer to the others: ${CHART_DIR}/bin.
	for _, k := range slices.Sorted(maps.Keys(h.Env)) {
		full[k] = os.Expand(h.Env[k], func(v string) string { return full[v] })
	}
	dir := cfg.Dir
	if h.Dir != "" {
		dir = h.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(cfg.Dir, dir)
		}
	}
	cmd := exec.CommandContext(ctx, h.Command, h.Args...)
	host.DieWithParent(cmd)
	cmd.Dir = dir
	for _, k := range slices.Sorted(maps.Keys(full)) {
		cmd.Env = append(cmd.Env, k+"="+full[k])
	}
	w := iox.PrefixLines(out, "[hook "+name+"] ")
	cmd.Stdout, cmd.Stderr = w, w
	fmt.Fprintf(out, "[hook %s] %s-%s: %s\n", name, when, stage, strings.Join(append([]string{h.Command}, h.Args...), " "))
	err := cmd.Run()
	_ = w.Flush()
	if err == nil {
		return nil
	}
	he := &Error{Hook: name, Stage: stage, When: when, Code: 1, Err: err}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		he.Code = exit.ExitCode()
		he.Err = fmt.Errorf("exit code %d", he.Code)
	} else if errors.Is(err, exec.ErrNotFound) {
		he.Err = fmt.Errorf("%s: command not found (hooks.%s.%s)", h.Command, stage, when)
	}
	return he
}
