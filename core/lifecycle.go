package core

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
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
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
)

// Flux's reconcile request annotations (github.com/fluxcd/pkg/apis/meta).
const (
	ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"
	ForceRequestAnnotation     = "reconcile.fluxcd.io/forceAt"
)

// ListHelmReleases lists HelmReleases in a namespace ("" for all) matching
// a label selector, sorted by namespace and name.
func ListHelmReleases(ctx context.Context, cl client.Client, namespace, selector string) ([]helmv2.HelmRelease, error) {
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

// PrintOptions say how HelmReleases are printed.
type PrintOptions struct {
	// Output is table (default), wide, json, yaml or name.
	Output        string
	AllNamespaces bool
	Now           time.Time
	// Single prints one HelmRelease as itself with json and yaml, as
	// kubectl get NAME does, rather than as a List.
	Single bool
}

// WriteHelmReleases prints HelmReleases as flux get helmreleases does.
func WriteHelmReleases(out io.Writer, items []helmv2.HelmRelease, o PrintOptions) error {
	switch o.Output {
	case "", "table", "wide":
		if len(items) == 0 {
			_, err := fmt.Fprintln(out, "No HelmReleases found.")
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
		cols := []string{"NAME", "READY", "STATUS", "SUSPENDED", "AGE"}
		if o.AllNamespaces {
			cols = append([]string{"NAMESPACE"}, cols...)
		}
		if o.Output == "wide" {
			cols = append(cols, "REVISION")
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, hr := range items {
			ready, status := "Unknown", "Not reconciled yet"
			if c := apimeta.FindStatusCondition(hr.Status.Conditions, "Ready"); c != nil {
				ready, status = string(c.Status), c.Message
			}
			row := []string{hr.Name, ready, status, fmt.Sprint(hr.Spec.Suspend), duration.HumanDuration(o.Now.Sub(hr.CreationTimestamp.Time))}
			if o.AllNamespaces {
				row = append([]string{hr.Namespace}, row...)
			}
			if o.Output == "wide" {
				row = append(row, hr.Status.LastAttemptedRevision)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		return tw.Flush()
	case "name":
		for _, hr := range items {
			if _, err := fmt.Fprintf(out, "helmrelease.helm.toolkit.fluxcd.io/%s\n", hr.Name); err != nil {
				return err
			}
		}
		return nil
	case "json", "yaml":
		var list any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		for i := range items {
			items[i].APIVersion, items[i].Kind = helmv2.GroupVersion.String(), helmv2.HelmReleaseKind
			items[i].ManagedFields = nil
		}
		if o.Single && len(items) == 1 {
			list = items[0]
		}
		if o.Output == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		data, err := sigsyaml.Marshal(list)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	return fmt.Errorf("unknown output format %q: use table, wide, json, yaml or name", o.Output)
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
	if err := cl.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FluxFieldManager)); err != nil {
		return "", fmt.Errorf("request reconciliation of %s %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return token, nil
}

// handledGetter reads lastHandledReconcileAt and the Ready condition.
type handledGetter interface {
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
func waitHandled(ctx context.Context, cl client.Client, obj handledGetter, token string, timeout time.Duration, log io.Writer) error {
	key, kind := client.ObjectKeyFromObject(obj), kindOf(obj)
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
		if r := apimeta.FindStatusCondition(obj.GetConditions(), "Ready"); !settled && r != nil && r.Message != lastMessage {
			lastMessage = r.Message
			fmt.Fprintf(log, "◎ %s\n", r.Message)
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

// ReconcileOptions tune Reconcile and Resume.
type ReconcileOptions struct {
	Force      bool
	WithSource bool
	Timeout    time.Duration
}

// fluxTarget resolves the chart's HelmRelease, failing in plain Helm mode.
func (w *Workspace) fluxTarget(ctx context.Context) (*Target, client.Client, error) {
	if w.Cluster == nil {
		return nil, nil, errors.New("needs a cluster")
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !t.FluxMode() {
		return nil, nil, fmt.Errorf("HelmRelease %s does not exist; set helmRelease.name in .cozyhr.yaml if it has another name", t.HelmReleaseKey)
	}
	cl, err := w.Cluster.Client()
	return t, cl, err
}

// Reconcile asks Flux to reconcile the chart's HelmRelease now, and first
// its chart source with WithSource, waiting for each to be handled.
func (w *Workspace) Reconcile(ctx context.Context, o ReconcileOptions, log io.Writer) error {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return err
	}
	hr := t.HelmRelease
	if hr.Spec.Suspend {
		return fmt.Errorf("HelmRelease %s/%s is suspended, so Flux would ignore the request; resume it first with: cozyhr resume", hr.Namespace, hr.Name)
	}
	if o.WithSource {
		if ref := hr.Spec.ChartRef; ref != nil && ref.Kind == sourcev1.ExternalArtifactKind {
			ns := cmp.Or(ref.Namespace, hr.Namespace)
			// No controller reconciles an ExternalArtifact: its producer
			// (an ArtifactGenerator of Flux's source-watcher, in
			// Cozystack) rewrites it when its own sources change.
			fmt.Fprintf(log, "◎ ExternalArtifact %s/%s is written by its generator (an ArtifactGenerator of Flux's source-watcher), which cozyhr cannot ask for a new artifact; reconcile the generator's sources with flux to refresh it. Reconciling the HelmRelease only.\n", ns, ref.Name)
		}
		for _, src := range chartSources(ctx, cl, hr) {
			if err := reconcileAndWait(ctx, cl, src, false, o.Timeout, log); err != nil {
				return err
			}
		}
	}
	return reconcileAndWait(ctx, cl, hr, o.Force, o.Timeout, log)
}

// Suspend suspends the chart's HelmRelease, as flux suspend does.
func (w *Workspace) Suspend(ctx context.Context) (*Target, error) {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return nil, err
	}
	return t, setSuspend(ctx, cl, t.HelmRelease, true)
}

// Resume unsuspends the HelmRelease and, with wait, asks for a
// reconciliation and waits for it as flux resume does.
func (w *Workspace) Resume(ctx context.Context, wait bool, timeout time.Duration, log io.Writer) (*Target, error) {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return nil, err
	}
	if err := setSuspend(ctx, cl, t.HelmRelease, false); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Resumed HelmRelease %s.\n", t.HelmReleaseKey)
	if !wait {
		return t, nil
	}
	return t, reconcileAndWait(ctx, cl, t.HelmRelease, false, timeout, log)
}

// chartSources are the objects whose reconciliation brings a new chart:
// the HelmChart or OCIRepository the HelmRelease uses, and the
// HelmRepository behind a HelmChart.
func chartSources(ctx context.Context, cl client.Client, hr *helmv2.HelmRelease) []handledGetter {
	var out []handledGetter
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

func reconcileAndWait(ctx context.Context, cl client.Client, obj handledGetter, force bool, timeout time.Duration, log io.Writer) error {
	key, kind := client.ObjectKeyFromObject(obj), kindOf(obj)
	fmt.Fprintf(log, "► annotating %s %s\n", kind, key)
	token, err := requestReconcile(ctx, cl, obj, force)
	if err != nil {
		fmt.Fprintf(log, "✗ %v\n", err)
		return &ExitError{Code: ExitFailure, Err: err, Silent: true}
	}
	fmt.Fprintf(log, "◎ waiting for %s reconciliation\n", kind)
	if err := waitHandled(ctx, cl, obj, token, timeout, log); err != nil {
		fmt.Fprintf(log, "✗ %v\n", err)
		return &ExitError{Code: ExitFailure, Err: err, Silent: true}
	}
	fmt.Fprintf(log, "✔ %s %s reconciliation completed\n", kind, key)
	return nil
}

// kindOf names a typed object's kind for messages (its Go type name: the
// objects here carry no TypeMeta until read back).
func kindOf(obj client.Object) string {
	t := fmt.Sprintf("%T", obj)
	return t[strings.LastIndex(t, ".")+1:]
}
