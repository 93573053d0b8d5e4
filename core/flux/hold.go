package flux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Record is the outcome of a write to a release, as helm-controller would
// put it in the HelmRelease's status.
type Record interface {
	// What names the outcome in messages ("revision 3", "the rollback").
	What() string
	// Optional says a status that could not be written is a warning, not
	// the command's failure (the write itself is done and stands).
	Optional() bool
	// Write puts the outcome in the status of the HelmRelease key, read
	// afresh and retried on conflict. A *StaleRecordError says a newer
	// outcome is recorded there and is kept.
	Write(ctx context.Context, cl client.Client, key client.ObjectKey) error
}

// statusGrace is how long recording an outcome may outlive a Ctrl-C, so
// that the status says what Helm did (or failed to do) rather than nothing.
const statusGrace = 10 * time.Second

// Hold keeps helm-controller off a release while cozyhr writes it, and then
// records the write as helm-controller records its own: the one sequence
// apply, rollback and delete share.
//
//	suspend the HelmRelease (unless it already is), so Flux does not race
//	run act, which writes the release and says what to record
//	record that outcome in the status (nothing when act returns none)
//
// The HelmRelease stays suspended: handing it back to Flux is the caller's
// choice. It reports whether it suspended the HelmRelease, and act's error.
func Hold(ctx context.Context, cl client.Client, hr *helmv2.HelmRelease, why string, log io.Writer, act func() (Record, error)) (suspended bool, err error) {
	if !hr.Spec.Suspend {
		if err := SetSuspend(ctx, cl, hr, true); err != nil {
			return false, err
		}
		suspended = true
		fmt.Fprintf(log, "Suspended HelmRelease %s/%s %s.\n", hr.Namespace, hr.Name, why)
	}
	rec, actErr := act()
	if rec == nil {
		return suspended, actErr
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusGrace)
	defer cancel()
	werr := rec.Write(wctx, cl, client.ObjectKeyFromObject(hr))
	var stale *StaleRecordError
	switch {
	case errors.As(werr, &stale):
		fmt.Fprintf(log, "Note: %s is not recorded in the HelmRelease status: %v\n", rec.What(), stale)
	case werr != nil && (actErr != nil || rec.Optional()):
		fmt.Fprintf(log, "Warning: could not record %s in the HelmRelease status: %v\n", rec.What(), werr)
	case werr != nil:
		return suspended, fmt.Errorf("record %s in the HelmRelease status: %w", rec.What(), werr)
	}
	return suspended, actErr
}

// What implements Record.
func (rec ReleaseRecord) What() string { return fmt.Sprintf("revision %d", rec.Release.Version) }

// Optional implements Record.
func (ReleaseRecord) Optional() bool { return false }

// Write implements Record.
func (rec ReleaseRecord) Write(ctx context.Context, cl client.Client, key client.ObjectKey) error {
	return recordRelease(ctx, cl, key, rec)
}

// What implements Record.
func (ReleaseFailure) What() string { return "this run's failure" }

// Optional implements Record.
func (ReleaseFailure) Optional() bool { return true }

// Write implements Record.
func (f ReleaseFailure) Write(ctx context.Context, cl client.Client, key client.ObjectKey) error {
	return recordFailure(ctx, cl, key, f)
}

// Uninstall records a release uninstalled while its HelmRelease stays.
type Uninstall struct{ Release, Namespace, Message string }

// What implements Record.
func (Uninstall) What() string { return "the uninstall" }

// Optional implements Record.
func (Uninstall) Optional() bool { return true }

// Write implements Record.
func (u Uninstall) Write(ctx context.Context, cl client.Client, key client.ObjectKey) error {
	return recordUninstall(ctx, cl, key, u.Release, u.Namespace, u.Message)
}
