package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc/status"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// PostProcessor starts (once) the plugin spec names and returns it as an
// sdk.PostProcessor whose calls are bounded by spec.Timeout.
func (h *Host) PostProcessor(ctx context.Context, spec Spec) (sdk.PostProcessor, error) {
	p, err := h.start(ctx, spec)
	if err != nil {
		return nil, err
	}
	raw, err := p.dispense(sdk.KindPostProcessor)
	if err != nil {
		return nil, err
	}
	return &postProcessor{p: p, impl: raw.(sdk.PostProcessor)}, nil
}

// ImageBuilder starts (once) the plugin spec names and returns it as an
// sdk.ImageBuilder.
func (h *Host) ImageBuilder(ctx context.Context, spec Spec) (sdk.ImageBuilder, error) {
	p, err := h.start(ctx, spec)
	if err != nil {
		return nil, err
	}
	raw, err := p.dispense(sdk.KindImageBuilder)
	if err != nil {
		return nil, err
	}
	return &imageBuilder{p: p, impl: raw.(sdk.ImageBuilder)}, nil
}

// Describe starts the plugin at path (or found by name) and asks what it is.
func (h *Host) Describe(ctx context.Context, spec Spec) (*Description, error) {
	p, err := h.start(ctx, spec)
	if err != nil {
		return nil, err
	}
	raw, err := p.dispense(sdk.KindInfo)
	if err != nil {
		return nil, err
	}
	d := &Description{Path: p.path, Protocol: p.client.NegotiatedVersion()}
	err = p.call(ctx, func(ctx context.Context) error {
		info, err := raw.(sdk.Describer).Describe(ctx)
		if err == nil {
			d.Info = *info
		}
		return err
	})
	return d, err
}

// Description is what a plugin says about itself.
type Description struct {
	sdk.Info
	Path     string
	Protocol int
}

func (p *process) dispense(kind string) (any, error) {
	raw, err := p.rpc.Dispense(kind)
	if err != nil {
		return nil, p.fail(fmt.Errorf("does not serve %s: %w", kind, err))
	}
	return raw, nil
}

type postProcessor struct {
	p    *process
	impl sdk.PostProcessor
}

func (pp *postProcessor) PostProcess(ctx context.Context, req *sdk.PostProcessRequest) (*sdk.PostProcessResponse, error) {
	var resp *sdk.PostProcessResponse
	err := pp.p.call(ctx, func(ctx context.Context) error {
		var err error
		resp, err = pp.impl.PostProcess(ctx, req)
		return err
	})
	return resp, err
}

// Fail wraps err as this plugin's error, with its stderr: for problems
// the caller finds in a plugin's answer, such as invalid YAML.
func Fail(plugin any, err error) error {
	switch pl := plugin.(type) {
	case *postProcessor:
		return pl.p.fail(err)
	case *imageBuilder:
		return pl.p.fail(err)
	}
	return err
}

type imageBuilder struct {
	p    *process
	impl sdk.ImageBuilder
}

func (ib *imageBuilder) Build(ctx context.Context, req *sdk.BuildRequest, logs io.Writer) (*sdk.BuildResult, error) {
	var res *sdk.BuildResult
	err := ib.p.call(ctx, func(ctx context.Context) error {
		var err error
		res, err = ib.impl.Build(ctx, req, logs)
		return err
	})
	return res, err
}

// rpcMessage is the plugin's own error text without gRPC's wrapping.
func rpcMessage(err error) error {
	if s, ok := status.FromError(err); ok {
		return errors.New(s.Message())
	}
	return err
}

// tail keeps the last max bytes written.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	// go-plugin's own debug lines ("plugin address") are noise to a user.
	if bytes.HasPrefix(p, []byte(`{"@level":"debug"`)) {
		return len(p), nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// prefixed writes each line to w as "[name] line".
func prefixed(w io.Writer, name string) io.Writer {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(w, "[%s] %s\n", name, bytes.TrimRight(sc.Bytes(), "\r"))
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}
