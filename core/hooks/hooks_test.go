package hooks_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/test/testenv"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/hooks"
)

// chart is a configuration whose stage has the given hooks.
func chart(t *testing.T, stage string, pre, post []config.Hook) *config.Chart {
	t.Helper()
	cfg := &config.Chart{Dir: t.TempDir()}
	cfg.Release.Name, cfg.Release.Namespace = "app", "apps"
	sh := config.StageHooks{Pre: pre, Post: post}
	switch stage {
	case hooks.StageUpdate:
		cfg.Hooks.Update = sh
	case hooks.StageImage:
		cfg.Hooks.Image = sh
	case hooks.StageShow:
		cfg.Hooks.Show = sh
	case hooks.StageDiff:
		cfg.Hooks.Diff = sh
	case hooks.StageApply:
		cfg.Hooks.Apply = sh
	case hooks.StageDelete:
		cfg.Hooks.Delete = sh
	}
	return cfg
}

func sh(name, script string) config.Hook {
	return config.Hook{Name: name, Command: "sh", Args: []string{"-c", script}}
}

func TestEveryStageHasItsOwnHooks(t *testing.T) {
	for _, stage := range []string{hooks.StageUpdate, hooks.StageImage, hooks.StageShow, hooks.StageDiff, hooks.StageApply, hooks.StageDelete} {
		cfg := chart(t, stage, []config.Hook{sh("lint", "true")}, nil)
		if got := hooks.Of(cfg, stage); len(got.Pre) != 1 || got.Pre[0].Name != "lint" {
			t.Errorf("%s: %+v", stage, got)
		}
		for _, other := range []string{hooks.StageUpdate, hooks.StageApply} {
			if other != stage && len(hooks.Of(cfg, other).Pre) != 0 {
				t.Errorf("%s's hooks show under %s", stage, other)
			}
		}
	}
	if got := hooks.Of(chart(t, hooks.StageShow, nil, nil), "no-such-stage"); len(got.Pre)+len(got.Post) != 0 {
		t.Errorf("an unknown stage: %+v", got)
	}
}

func TestHooksRunInOrderWithTheirEnvironmentAndOutputPrefixed(t *testing.T) {
	cfg := chart(t, hooks.StageApply, []config.Hook{
		sh("first", `echo "$COZYHR_STAGE $COZYHR_HOOK $RELEASE $NAMESPACE $EXTRA"; echo to-stderr >&2`),
		{Name: "second", Command: "sh", Args: []string{"-c", `printf 'no newline at the end: %s' "$TOOLS"`}, Env: map[string]string{"TOOLS": "${CHART_DIR}/bin"}},
		{Command: "pwd", Dir: "sub"},
	}, nil)
	if err := os.Mkdir(filepath.Join(cfg.Dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := hooks.Env(cfg, hooks.StageApply)
	env["EXTRA"] = "more"
	var out bytes.Buffer
	if err := hooks.Run(context.Background(), cfg, hooks.StageApply, "pre", env, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	want := []string{
		"[hook first] pre-apply: sh -c " + cfg.Hooks.Apply.Pre[0].Args[1],
		"[hook first] apply pre app apps more",
		"[hook first] to-stderr",
		"[hook second] pre-apply: sh -c " + cfg.Hooks.Apply.Pre[1].Args[1],
		"[hook second] no newline at the end: " + cfg.Dir + "/bin",
		"[hook pre[2]] pre-apply: pwd",
		"[hook pre[2]] " + filepath.Join(cfg.Dir, "sub"),
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	if env["CHART_DIR"] != cfg.Dir || env["COZYHR_STAGE"] != "apply" {
		t.Errorf("env %v", env)
	}
}

func TestAFailingHookStopsTheStageWithItsExitCode(t *testing.T) {
	cfg := chart(t, hooks.StageDiff, nil, []config.Hook{
		sh("tolerated", "exit 3"),
		sh("strict", "echo failing; exit 4"),
		sh("never", "echo must not run"),
	})
	cfg.Hooks.Diff.Post[0].ContinueOnError = true
	var out bytes.Buffer
	err := hooks.Run(context.Background(), cfg, hooks.StageDiff, "post", hooks.Env(cfg, hooks.StageDiff), &out)
	var he *hooks.Error
	if !errors.As(err, &he) || he.Hook != "strict" || he.Code != 4 || he.Stage != "diff" || he.When != "post" {
		t.Fatalf("error %#v", err)
	}
	if err.Error() != "hook strict (post-diff) failed: exit code 4" {
		t.Errorf("message %q", err.Error())
	}
	if !strings.Contains(out.String(), "[hook tolerated] failed, continuing (continueOnError): hook tolerated (post-diff) failed: exit code 3") {
		t.Errorf("the tolerated failure is not said:\n%s", out.String())
	}
	if strings.Contains(out.String(), "must not run") {
		t.Errorf("a hook after the failure ran:\n%s", out.String())
	}
	// Pre hooks are not post hooks.
	if err := hooks.Run(context.Background(), cfg, hooks.StageDiff, "pre", nil, &out); err != nil {
		t.Errorf("no pre hooks: %v", err)
	}
}

func TestAMissingCommandSaysWhereItIsConfigured(t *testing.T) {
	cfg := chart(t, hooks.StageShow, []config.Hook{{Name: "lint", Command: "no-such-command-cozyhr"}}, nil)
	err := hooks.Run(context.Background(), cfg, hooks.StageShow, "pre", nil, &bytes.Buffer{})
	var he *hooks.Error
	if !errors.As(err, &he) || he.Code != 1 || !strings.Contains(err.Error(), "no-such-command-cozyhr: command not found (hooks.show.pre)") {
		t.Errorf("error %v", err)
	}
}

func TestHooksStopWithTheirContext(t *testing.T) {
	cfg := chart(t, hooks.StageUpdate, []config.Hook{sh("forever", "sleep 60")}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := hooks.Run(ctx, cfg, hooks.StageUpdate, "pre", nil, &bytes.Buffer{})
	var he *hooks.Error
	if !errors.As(err, &he) {
		t.Errorf("a hook of a cancelled run: %v", err)
	}
}

// A hook that is a shell script with children of its own stops, children
// and all, when its run is stopped: they would otherwise hold its output
// open and the run would wait for them.
func TestAStoppedHookTakesItsChildrenWithIt(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "started")
	cfg := chart(t, hooks.StageApply, []config.Hook{sh("script", "touch "+marker+"; sleep 637 & wait")}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hooks.Run(ctx, cfg, hooks.StageApply, "pre", nil, &bytes.Buffer{}) }()
	waitFor(t, func() bool { _, err := os.Stat(marker); return err == nil })
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a stopped hook succeeded")
	}
	waitFor(t, func() bool { return !sleeping("637") })
}

// waitFor waits for what the test expects.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	if err := testenv.WaitFor(context.Background(), 2*time.Minute, func(context.Context) (bool, error) { return ok(), nil }); err != nil {
		t.Fatal(err)
	}
}

// sleeping reports a running `sleep SECONDS`.
func sleeping(seconds string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && string(b) == "sleep\x00"+seconds+"\x00" {
			return true
		}
	}
	return false
}
