package flux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Flux's reconcile request annotations (github.com/fluxcd/pkg/apis/meta).
const (
	ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"
	ForceRequestAnnotation     = "reconcile.fluxcd.io/forceAt"
)

// List lists HelmReleases in a namespace ("" for all) matching
// a label selector, sorted by namespace and name.
func List(ctx context.Context, cl client.Client, namespace, selector string) ([]helmv2.HelmRelease, error) {
	opts := []client.ListOption{}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if selector != "" {
		sel, err := labels.Parse(selector)
		if err != nil {
			return nil, fmt.Errorf("-l %q: %w", selector, err)
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	var list helmv2.HelmReleaseList
	if err := cl.List(ctx, &list, opts...); err != nil {
		if apimeta.IsNoMatchError(err) {
			return nil, errors.New("the cluster does not serve HelmReleases: Flux's helm-controller CRDs are not installed")
		}
		return nil, fmt.Errorf("list HelmReleases: %w", err)
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	return items, nil
}

// Names are the names of the HelmReleases in namespace, sorted.
func Names(ctx context.Context, cl client.Client, namespace string) ([]string, error) {
	items, err := List(ctx, cl, namespace, "")
	names := make([]string, 0, len(items))
	for _, hr := range items {
		names = append(names, hr.Name)
	}
	return names, err
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt (and forceAt) on an
// object with a merge patch, as the flux CLI does, returning the token.
func requestReconcile(ctx context.Context, cl client.Client, obj client.Object, force bool) (string, error) {
	token := time.Now().Format(time.RFC3339Nano)
	ann := map[string]string{ReconcileRequestAnnotation: token}
	if force {
		ann[ForceRequestAnnotation] = token
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	if err != nil {
		return "", err
	}
	if err := cl.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager)); err != nil {
		return "", fmt.Errorf("request reconciliation of %s %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return token, nil
}

// Reconcilable reads lastHandledReconcileAt and the Ready condition.
type Reconcilable interface {
	client.Object
	GetConditions() []metav1.Condition
}

func lastHandled(obj client.Object) string {
	switch o := obj.(type) {
	case *helmv2.HelmRelease:
		return o.Status.LastHandledReconcileAt
	case *sourcev1.HelmChart:
		return o.Status.LastHandledReconcileAt
	case *sourcev1.HelmRepository:
		return o.Status.LastHandledReconcileAt
	case *sourcev1.OCIRepository:
		return o.Status.LastHandledReconcileAt
	}
	return ""
}

// ErrTimeout is returned when no controller answered in time.
var ErrTimeout = errors.New("timed out")

// waitHandled polls obj until a controller handled the request token and
// its status settled, as the flux CLI waits: kstatus Current is success,
// Failed (Stalled) is failure; while it is in progress (a chart source not
// ready yet, a retry pending) it keeps waiting, and a timeout reports the
// Ready condition's last message.
func waitHandled(ctx context.Context, cl client.Client, obj Reconcilable, token string, timeout time.Duration, r Reporter) error {
	key, kind := client.ObjectKeyFromObject(obj), KindOf(obj)
	var handled bool
	var result *kstatus.Result
	lastMessage := ""
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := cl.Get(ctx, key, obj); err != nil {
			return false, err
		}
		if handled = lastHandled(obj) == token; !handled {
			return false, nil
		}
		data, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return false, err
		}
		if result, err = kstatus.Compute(&unstructured.Unstructured{Object: data}); err != nil {
			return false, err
		}
		settled := result.Status == kstatus.CurrentStatus || result.Status == kstatus.FailedStatus
		// While it is in progress, say what the controller says it is doing.
		if cond := apimeta.FindStatusCondition(obj.GetConditions(), "Ready"); !settled && cond != nil && cond.Message != lastMessage {
			lastMessage = cond.Message
			r.Waiting(cond.Message)
		}
		return settled, nil
	})
	ready := apimeta.FindStatusCondition(obj.GetConditions(), "Ready")
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if !handled {
			return fmt.Errorf("%w after %s waiting for %s %s to be reconciled: no controller handled the request (is Flux running?)", ErrTimeout, timeout, kind, key)
		}
		msg := "still in progress"
		if ready != nil {
			msg = ready.Message
		}
		return fmt.Errorf("%w after %s waiting for %s %s to become ready: %s", ErrTimeout, timeout, kind, key, msg)
	}
	if result.Status == kstatus.FailedStatus {
		msg := result.Message
		if ready != nil && ready.Status == metav1.ConditionFalse {
			msg = ready.Message
		}
		return fmt.Errorf("%s %s reconciliation failed: %s", kind, key, msg)
	}
	return nil
}

// ChartSources are the objects whose reconciliation brings a new chart:
// the HelmChart or OCIRepository the HelmRelease uses, and the
// HelmRepository behind a HelmChart.
func ChartSources(ctx context.Context, cl client.Client, hr *helmv2.HelmRelease) []Reconcilable {
	var out []Reconcilable
	if ref := hr.Spec.ChartRef; ref != nil {
		ns := ref.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		switch ref.Kind {
		case sourcev1.HelmChartKind:
			out = append(out, &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ref.Name}})
		case sourcev1.OCIRepositoryKind:
			out = append(out, &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ref.Name}})
		}
		return out
	}
	if hr.Spec.Chart == nil {
		return nil
	}
	ns := hr.Spec.Chart.Spec.SourceRef.Namespace
	if ns == "" {
		ns = hr.Namespace
	}
	chart := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: hr.GetHelmChartName()}}
	if src := hr.Spec.Chart.Spec.SourceRef; src.Kind == sourcev1.HelmRepositoryKind {
		out = append(out, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: src.Name}})
	}
	return append(out, chart)
}

// Reporter shows how a reconcile request goes, step by step, as the flux
// CLI does; the caller decides how each kind of line looks.
type Reporter interface {
	// Step is an action begun.
	Step(msg string)
	// Waiting is a wait begun, or what the controller says meanwhile.
	Waiting(msg string)
	// Done is a success.
	Done(msg string)
	// Failed is a failure; the error returned is a *ReportedError.
	Failed(err error)
}

// ReportedError is a failure already shown through a Reporter.
type ReportedError struct{ Err error }

func (e *ReportedError) Error() string { return e.Err.Error() }
func (e *ReportedError) Unwrap() error { return e.Err }

// ReconcileAndWait asks for a reconciliation of obj and waits until its
// controller handled it and its status settled.
func ReconcileAndWait(ctx context.Context, cl client.Client, obj Reconcilable, force bool, timeout time.Duration, r Reporter) error {
	key, kind := client.ObjectKeyFromObject(obj), KindOf(obj)
	r.Step(fmt.Sprintf("annotating %s %s", kind, key))
	token, err := requestReconcile(ctx, cl, obj, force)
	if err != nil {
		r.Failed(err)
		return &ReportedError{Err: err}
	}
	r.Waiting(fmt.Sprintf("waiting for %s reconciliation", kind))
	if err := waitHandled(ctx, cl, obj, token, timeout, r); err != nil {
		r.Failed(err)
		return &ReportedError{Err: err}
	}
	r.Done(fmt.Sprintf("%s %s reconciliation completed", kind, key))
	return nil
}

// KindOf names a typed object's kind for messages (its Go type name: the
// objects here carry no TypeMeta until read back).
func KindOf(obj client.Object) string {
	t := fmt.Sprintf("%T", obj)
	return t[strings.LastIndex(t, ".")+1:]
}
