package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// DefaultRequestTimeout bounds each API read, so that a frozen or
// unreachable API server gives one clear error in seconds rather than
// client-go's minutes of retries.
const DefaultRequestTimeout = 10 * time.Second

// minWriteTimeout is the least a write may take: admission webhooks are
// allowed up to 30 s each by the API server.
const minWriteTimeout = 45 * time.Second

// RequestTimeouts bounds every API request except watches and log streams,
// which are meant to last. Once the server has failed to answer in time,
// later requests fail at once with the same error: a command would
// otherwise wait out the timeout once per request.
type RequestTimeouts struct {
	// Read bounds GET, LIST and HEAD; writes get at least minWriteTimeout.
	// Zero means no bound, as kubectl's --request-timeout=0.
	Read time.Duration

	mu       sync.Mutex
	timedOut *TimeoutError
}

// TimeoutError says which server did not answer, and what to do.
type TimeoutError struct {
	Server  string
	Timeout time.Duration
	Cause   error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the API server %s did not answer within %s", e.Server, e.Timeout)
}

func (e *TimeoutError) Unwrap() error { return e.Cause }

// Wrap bounds the requests made with c.
func (t *RequestTimeouts) Wrap(c *rest.Config) *rest.Config {
	if t == nil || t.Read <= 0 {
		return c
	}
	c.Wrap(func(next http.RoundTripper) http.RoundTripper { return &timeoutTripper{next: next, t: t} })
	return c
}

// TimedOut is the first request that ran out of time in this run, if any.
func (t *RequestTimeouts) TimedOut() *TimeoutError {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.timedOut
}

func (t *RequestTimeouts) record(server string, d time.Duration, cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timedOut == nil {
		t.timedOut = &TimeoutError{Server: server, Timeout: d, Cause: cause}
	}
}

type timeoutTripper struct {
	next http.RoundTripper
	t    *RequestTimeouts
}

func (r *timeoutTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	if q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true" {
		return r.next.RoundTrip(req)
	}
	if te := r.t.TimedOut(); te != nil {
		return nil, te
	}
	d := r.t.Read
	switch req.Method {
	case http.MethodGet, http.MethodHead:
	default:
		d = max(d, minWriteTimeout)
	}
	ctx, cancel := context.WithTimeout(req.Context(), d)
	server := req.URL.Scheme + "://" + req.URL.Host
	resp, err := r.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		// The transport's own timeouts (TLS handshake, dial) may fire
		// first, at the same length: the server did not answer either way.
		var ne net.Error
		if (ctx.Err() == context.DeadlineExceeded || errors.As(err, &ne) && ne.Timeout()) && req.Context().Err() == nil {
			r.t.record(server, d, err)
		}
		cancel()
		return nil, err
	}
	// The deadline covers the body too: a server can freeze mid-answer.
	resp.Body = &timedBody{ReadCloser: resp.Body, ctx: ctx, parent: req.Context(), cancel: cancel,
		timedOut: func(err error) { r.t.record(server, d, err) }}
	return resp, nil
}

type timedBody struct {
	io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelFunc
	timedOut    func(error)
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() == context.DeadlineExceeded && b.parent.Err() == nil {
		b.timedOut(err)
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
