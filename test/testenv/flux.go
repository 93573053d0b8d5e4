package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// FluxEnv names the directory holding the helm-controller and
// source-controller binaries that hack/flux-controllers.sh builds.
const FluxEnv = "COZYHR_FLUX"

// Flux is the real helm-controller and source-controller, running as
// processes out of cluster against the test API server. Everything they
// serve listens on 127.0.0.1 only.
type Flux struct {
	dir   string
	procs []*controller
}

type controller struct {
	name   string
	cmd    *exec.Cmd
	log    *syncBuffer
	done   chan struct{}
	health string
}

// syncBuffer collects a process's output for tests to search.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	f   *os.File
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	return b.f.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FluxAvailable reports whether the controllers were built (make test does).
func FluxAvailable() bool {
	dir := os.Getenv(FluxEnv)
	if dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "helm-controller"))
	return err == nil
}

// StartFlux starts source-controller and helm-controller with workDir for
// their storage and logs, and waits until both report healthy.
func (e *Env) StartFlux(workDir string) (*Flux, error) {
	bin := os.Getenv(FluxEnv)
	if bin == "" {
		return nil, fmt.Errorf("%s is not set: run the tests with make test, which builds helm-controller and source-controller once", FluxEnv)
	}
	f := &Flux{dir: workDir}
	storage, err := freeAddr()
	if err != nil {
		return nil, err
	}
	storagePath := filepath.Join(workDir, "source-controller-storage")
	if err := os.MkdirAll(storagePath, 0o755); err != nil {
		return nil, err
	}
	common := []string{
		"--enable-leader-election=false",
		"--watch-all-namespaces=true",
		"--metrics-addr=0",
		"--events-addr=",
		"--log-level=debug",
		"--log-encoding=json",
	}
	sc := append([]string{
		"--storage-path=" + storagePath,
		"--storage-addr=" + storage,
		"--storage-adv-addr=" + storage,
		"--artifact-retention-ttl=1m",
	}, common...)
	if err := f.start(e, filepath.Join(bin, "source-controller"), "source-controller", sc); err != nil {
		f.Stop()
		return nil, err
	}
	if err := f.start(e, filepath.Join(bin, "helm-controller"), "helm-controller", append([]string{"--concurrent=4"}, common...)); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

func (f *Flux) start(e *Env, bin, name string, args []string) error {
	health, err := freeAddr()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(f.dir, name+".log"))
	if err != nil {
		return err
	}
	c := &controller{name: name, log: &syncBuffer{f: logFile}, done: make(chan struct{}), health: health}
	c.cmd = exec.Command(bin, append(args, "--health-addr="+health)...)
	c.cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "RUNTIME_NAMESPACE=flux-system")
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	// The controllers die with the test process even if it is killed.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = c.cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	f.procs = append(f.procs, c)
	return c.waitHealthy(60 * time.Second)
}

func (c *controller) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + c.health + "/readyz"
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return fmt.Errorf("%s exited: %s", c.name, tail(c.log.String(), 2000))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %s", c.name, timeout, tail(c.log.String(), 2000))
}

// Log returns what the named controller has logged so far.
func (f *Flux) Log(name string) string {
	for _, c := range f.procs {
		if c.name == name {
			return c.log.String()
		}
	}
	return ""
}

// Stop ends both controllers and waits for them.
func (f *Flux) Stop() {
	for _, c := range f.procs {
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, c := range f.procs {
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	f.procs = nil
}

// WaitFor polls cond until it reports done, fails, or ctx ends.
func WaitFor(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	if s == "" {
		return errors.New("no output").Error()
	}
	return s
}
