package flux

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/fluxcd/cli-utils/pkg/object"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	goyaml "go.yaml.in/yaml/v2"
	chartv4 "helm.sh/helm/v4/pkg/chart/v2"
	releasev4 "helm.sh/helm/v4/pkg/release/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
)

// observation has the shape of helm-controller's release observation, whose
// JSON encoding is hashed into the history snapshot's digest (Helm v4
// types, as helm-controller 1.5 and later decode them).
type observation struct {
	Name          string           `json:"name"`
	Version       int              `json:"version"`
	Info          releasev4.Info   `json:"info"`
	ChartMetadata chartv4.Metadata `json:"chartMetadata"`
	Config        map[string]any   `json:"config"`
	Manifest      string           `json:"manifest"`
	Hooks         []releasev4.Hook `json:"hooks"`
	Namespace     string           `json:"namespace"`
	OCIDigest     string           `json:"ociDigest,omitempty"`
}

// observe builds the observation of a stored release; test hooks are left
// out, as helm-controller does, so that running tests changes no digest.
func observe(r4 *releasev4.Release) observation {
	obs := observation{Name: r4.Name, Version: r4.Version, Manifest: r4.Manifest, Namespace: r4.Namespace}
	if r4.Info != nil {
		obs.Info = *r4.Info
	}
	if r4.Chart != nil && r4.Chart.Metadata != nil {
		obs.ChartMetadata = *r4.Chart.Metadata
	}
	if len(r4.Config) > 0 {
		obs.Config = r4.Config
	}
	for _, h := range r4.Hooks {
		if h == nil || isTestHook(h) {
			continue
		}
		obs.Hooks = append(obs.Hooks, *h)
	}
	return obs
}

func isTestHook(h *releasev4.Hook) bool {
	for _, e := range h.Events {
		if e == releasev4.HookTest {
			return true
		}
	}
	return false
}

// canonicalDigest is an OCI canonical digest (sha256) of what write emits.
func canonicalDigest(write func(io.Writer) error) (string, error) {
	h := sha256.New()
	if err := write(h); err != nil {
		return "", err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), nil
}

// releaseDigest hashes the JSON encoding of the observation.
func releaseDigest(obs observation) (string, error) {
	return canonicalDigest(func(w io.Writer) error { return json.NewEncoder(w).Encode(obs) })
}

// ConfigDigest hashes values as Flux's chartutil.DigestValues does: YAML
// (yaml.v2) with map keys sorted recursively; empty values hash to nothing.
func ConfigDigest(values map[string]any) (string, error) {
	return canonicalDigest(func(w io.Writer) error {
		if len(values) == 0 {
			return nil
		}
		ms := sigsyaml.JSONObjectToYAMLObject(values)
		sortMapSlice(ms)
		return goyaml.NewEncoder(w).Encode(ms)
	})
}

func sortMapSlice(ms goyaml.MapSlice) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Key.(string) < ms[j].Key.(string) })
	for _, item := range ms {
		sortValue(item.Value)
	}
}

func sortValue(v any) {
	switch t := v.(type) {
	case goyaml.MapSlice:
		sortMapSlice(t)
	case []any:
		for _, el := range t {
			sortValue(el)
		}
	}
}

// jsonDigest hashes the JSON encoding of v, as helm-controller digests
// spec.postRenderers and spec.commonMetadata.
func jsonDigest(v any) (string, error) {
	return canonicalDigest(func(w io.Writer) error { return json.NewEncoder(w).Encode(v) })
}

// snapshot is the history entry helm-controller records for a release.
func snapshot(rel *releasev4.Release, action helmv2.ReleaseAction) (*helmv2.Snapshot, error) {
	obs := observe(rel)
	digest, err := releaseDigest(obs)
	if err != nil {
		return nil, err
	}
	cfgDigest, err := ConfigDigest(obs.Config)
	if err != nil {
		return nil, err
	}
	return &helmv2.Snapshot{
		APIVersion: helmv2.CurrentSnapshotAPIVersion, Digest: digest,
		Name: obs.Name, Namespace: obs.Namespace, Version: obs.Version,
		AppVersion: obs.ChartMetadata.AppVersion, ChartName: obs.ChartMetadata.Name, ChartVersion: obs.ChartMetadata.Version,
		ConfigDigest:  cfgDigest,
		FirstDeployed: metav1.NewTime(obs.Info.FirstDeployed), LastDeployed: metav1.NewTime(obs.Info.LastDeployed),
		Deleted: metav1.NewTime(obs.Info.Deleted), Status: obs.Info.Status.String(), Action: action,
	}, nil
}

// replaceSnapshot puts a re-observed revision in place of its entry in
// history, keeping what only helm-controller knew of it (OCI digest, test
// hooks), as helm-controller does; it reports whether the entry was there.
func replaceSnapshot(history helmv2.Snapshots, s *helmv2.Snapshot) bool {
	for i, h := range history {
		if h.Targets(s.Name, s.Namespace, s.Version) {
			s.OCIDigest = h.OCIDigest
			s.SetTestHooks(h.GetTestHooks())
			history[i] = s
			return true
		}
	}
	return false
}

// ReleaseRecord is what one install or upgrade wrote, for the status.
type ReleaseRecord struct {
	Release *releasev4.Release
	// Superseded is the previous revision as Helm left it after an
	// upgrade (status superseded), nil after an install.
	Superseded       *releasev4.Release
	Values           map[string]any
	Installed        bool
	StorageNamespace string
	Took             time.Duration
	Inventory        *helmv2.ResourceInventory
}

// recordRelease writes the HelmRelease status as helm-controller writes it
// after its own successful install or upgrade: the release snapshot in
// history (the previous one marked superseded, older ones trimmed), the
// inventory, Released and Ready conditions, the lastAttempted* fields and
// observed digests, failures cleared. helm-controller then recognises the
// release as its own when the HelmRelease is resumed. The write re-reads
// and retries on conflict, so it is never dropped.
func recordRelease(ctx context.Context, cl client.Client, key client.ObjectKey, rec ReleaseRecord) error {
	action, reason, verb := helmv2.ReleaseActionUpgrade, helmv2.UpgradeSucceededReason, "upgrade"
	if rec.Installed {
		action, reason, verb = helmv2.ReleaseActionInstall, helmv2.InstallSucceededReason, "install"
	}
	snap, err := snapshot(rec.Release, action)
	if err != nil {
		return err
	}
	var superseded *helmv2.Snapshot
	if rec.Superseded != nil {
		if superseded, err = snapshot(rec.Superseded, ""); err != nil {
			return err
		}
	}
	valuesDigest, err := ConfigDigest(rec.Values)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Helm %s succeeded for release %s with chart %s", verb, snap.FullReleaseName(), snap.VersionedChartName())

	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		hr := &helmv2.HelmRelease{}
		if err := cl.Get(ctx, key, hr); err != nil {
			return err
		}
		st := &hr.Status
		if newer := newerRecorded(st.History, snap.Name, snap.Namespace, snap.Version); newer != nil {
			return &StaleRecordError{newer: newer}
		}
		if rec.Installed {
			st.ClearHistory()
		}
		if superseded != nil {
			// Helm rewrote the previous revision as superseded. Like
			// helm-controller, re-observe it, its action left empty.
			replaceSnapshot(st.History, superseded)
		}
		st.History = append(helmv2.Snapshots{snap}, st.History...)
		// As helm-controller does once the release is in sync: keep the
		// latest and the previous successful release.
		st.History.Truncate(hr.GetTest().IgnoreFailures)
		st.Inventory = rec.Inventory
		st.StorageNamespace = rec.StorageNamespace
		st.LastAttemptedReleaseAction = action
		st.LastAttemptedRevision = snap.ChartVersion
		st.LastAttemptedConfigDigest = valuesDigest
		st.LastAttemptedGeneration = hr.Generation
		st.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: rec.Took}
		st.ObservedGeneration = hr.Generation
		st.Failures, st.InstallFailures, st.UpgradeFailures = 0, 0, 0
		st.ObservedPostRenderersDigest, st.ObservedCommonMetadataDigest = "", ""
		if len(hr.Spec.PostRenderers) > 0 {
			if st.ObservedPostRenderersDigest, err = jsonDigest(hr.Spec.PostRenderers); err != nil {
				return err
			}
		}
		if hr.Spec.CommonMetadata != nil {
			if st.ObservedCommonMetadataDigest, err = jsonDigest(hr.Spec.CommonMetadata); err != nil {
				return err
			}
		}
		for _, t := range []string{helmv2.ReleasedCondition, "Ready"} {
			apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
				Type: t, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: hr.Generation,
			})
		}
		apimeta.RemoveStatusCondition(&st.Conditions, "Stalled")
		// A new install or upgrade ends any remediation, as in helm-controller.
		apimeta.RemoveStatusCondition(&st.Conditions, helmv2.RemediatedCondition)
		apimeta.RemoveStatusCondition(&st.Conditions, helmv2.TestSuccessCondition)
		return cl.Status().Update(ctx, hr)
	})
}

// ReleaseInventory lists what helm-controller records in status.inventory:
// the release's resources (not its hooks), namespaced ones given the
// release namespace when the manifest leaves it out, then the chart's CRDs.
func ReleaseInventory(rel *releasev4.Release, crds []manifest.Object, mapper apimeta.RESTMapper) (*helmv2.ResourceInventory, error) {
	inv := &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{}}
	objs, err := manifest.ParseManifests([]byte(rel.Manifest))
	if err != nil {
		return nil, fmt.Errorf("release %s manifest: %w", rel.Name, err)
	}
	add := func(o manifest.Object) {
		m := object.UnstructuredToObjMetadata(o.Unstructured)
		inv.Entries = append(inv.Entries, helmv2.ResourceRef{ID: m.String(), Version: o.GroupVersionKind().Version})
	}
	for _, o := range objs {
		if _, hook := o.GetAnnotations()[releasev4.HookAnnotation]; hook {
			continue
		}
		if o.GetNamespace() == "" {
			gvk := o.GroupVersionKind()
			if mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil && mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
				o.SetNamespace(rel.Namespace)
			}
		}
		add(o)
	}
	for _, o := range crds {
		add(o)
	}
	return inv, nil
}

// ReleaseFailure is a failed install or upgrade, for the status.
type ReleaseFailure struct {
	Installed                     bool
	ReleaseName, ReleaseNamespace string
	ChartName, ChartVersion       string
	Values                        map[string]any
	// Err is Helm's own error.
	Err error
	// Failed is the revision Helm stored as failed, if it got that far.
	Failed *releasev4.Release
	// Previous is the revision the run started from, 0 for none.
	Previous int
}

// newerRecorded is a revision of the release in history newer than
// version: another writer (a run that won a race, helm-controller) has
// recorded its outcome since, and its record stands. An uninstalled
// revision is not newer: revisions start again at 1 after an uninstall.
func newerRecorded(history helmv2.Snapshots, name, namespace string, version int) *helmv2.Snapshot {
	latest := history.Latest()
	if latest == nil || latest.Name != name || latest.Namespace != namespace || latest.Version <= version || latest.Status == "uninstalled" {
		return nil
	}
	return latest
}

// StaleRecordError says why this run's outcome was not recorded.
type StaleRecordError struct{ newer *helmv2.Snapshot }

func (e *StaleRecordError) Error() string {
	return fmt.Sprintf("the HelmRelease already records the newer revision %d (%s), written by another run; its record is kept", e.newer.Version, e.newer.Status)
}

// recordFailure marks the HelmRelease as helm-controller does after a failed
// install or upgrade: the failed revision in history, Released and Ready
// False with helm-controller's message, failures counted.
func recordFailure(ctx context.Context, cl client.Client, key client.ObjectKey, f ReleaseFailure) error {
	valuesDigest, err := ConfigDigest(f.Values)
	if err != nil {
		return err
	}
	action, reason, verb := helmv2.ReleaseActionUpgrade, helmv2.UpgradeFailedReason, "upgrade"
	if f.Installed {
		action, reason, verb = helmv2.ReleaseActionInstall, helmv2.InstallFailedReason, "install"
	}
	var failed *helmv2.Snapshot
	if f.Failed != nil {
		if failed, err = snapshot(f.Failed, action); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("Helm %s failed for release %s/%s with chart %s@%s: %s", verb, f.ReleaseNamespace, f.ReleaseName, f.ChartName, f.ChartVersion, f.Err)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		hr := &helmv2.HelmRelease{}
		if err := cl.Get(ctx, key, hr); err != nil {
			return err
		}
		st := &hr.Status
		// The revision this run wrote, or, if Helm failed before storing
		// one, the one it started from.
		version := f.Previous
		if failed != nil {
			version = failed.Version
		}
		if newer := newerRecorded(st.History, f.ReleaseName, f.ReleaseNamespace, version); newer != nil {
			return &StaleRecordError{newer: newer}
		}
		if failed != nil {
			if f.Installed {
				st.ClearHistory()
			}
			st.History = append(helmv2.Snapshots{failed}, st.History...)
		}
		st.LastAttemptedReleaseAction = action
		st.LastAttemptedRevision = f.ChartVersion
		st.LastAttemptedConfigDigest = valuesDigest
		st.LastAttemptedGeneration = hr.Generation
		st.Failures++
		if f.Installed {
			st.InstallFailures++
		} else {
			st.UpgradeFailures++
		}
		apimeta.RemoveStatusCondition(&st.Conditions, helmv2.RemediatedCondition)
		apimeta.RemoveStatusCondition(&st.Conditions, helmv2.TestSuccessCondition)
		for _, t := range []string{helmv2.ReleasedCondition, "Ready"} {
			apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
				Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: hr.Generation,
			})
		}
		return cl.Status().Update(ctx, hr)
	})
}

// recordUninstall marks the HelmRelease's release as uninstalled: Released
// and Ready False with reason UninstallSucceeded, no inventory.
func recordUninstall(ctx context.Context, cl client.Client, key client.ObjectKey, name, namespace, msg string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		hr := &helmv2.HelmRelease{}
		if err := cl.Get(ctx, key, hr); err != nil {
			return err
		}
		st := &hr.Status
		st.Inventory = nil
		// Helm uninstalls the release's newest revision, whatever its
		// status (a failed upgrade's too), and helm-controller records
		// that revision as uninstalled; a later install's record then
		// follows it (see newerRecorded).
		for i, s := range st.History {
			if s.Status == "deployed" || (i == 0 && s.Name == name && s.Namespace == namespace) {
				s.Status = "uninstalled"
			}
		}
		for _, t := range []string{helmv2.ReleasedCondition, "Ready"} {
			apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
				Type: t, Status: metav1.ConditionFalse, Reason: helmv2.UninstallSucceededReason, Message: msg, ObservedGeneration: hr.Generation,
			})
		}
		return cl.Status().Update(ctx, hr)
	})
}

// Rollback is a rollback's outcome: the revision rolled back to, the
// revisions Helm wrote (new, or changed status) and the error, if any.
type Rollback struct {
	To      *releasev4.Release
	Written []*releasev4.Release
	Err     error
}

// What implements Record.
func (Rollback) What() string { return "the rollback" }

// Optional implements Record: a failed rollback's record is best effort.
func (r Rollback) Optional() bool { return r.Err != nil }

// Write implements Record.
func (r Rollback) Write(ctx context.Context, cl client.Client, key client.ObjectKey) error {
	return recordRollback(ctx, cl, key, r.To, r.Written, r.Err)
}

// recordRollback writes the HelmRelease status as helm-controller writes it
// after its own rollback: the new revision and the one it replaced
// re-observed with action rollback, Remediated True (or False with the
// error, counting the failure), and Ready summarised from it: False, as
// helm-controller holds any rolled-back release to be.
func recordRollback(ctx context.Context, cl client.Client, key client.ObjectKey, to *releasev4.Release, written []*releasev4.Release, cause error) error {
	target, err := snapshot(to, helmv2.ReleaseActionRollback)
	if err != nil {
		return err
	}
	var snaps []*helmv2.Snapshot
	for _, r := range written {
		s, err := snapshot(r, helmv2.ReleaseActionRollback)
		if err != nil {
			return err
		}
		snaps = append(snaps, s)
	}
	status, reason := metav1.ConditionTrue, helmv2.RollbackSucceededReason
	msg := fmt.Sprintf("Helm rollback to previous release %s with chart %s succeeded", target.FullReleaseName(), target.VersionedChartName())
	if cause != nil {
		status, reason = metav1.ConditionFalse, helmv2.RollbackFailedReason
		msg = fmt.Sprintf("Helm rollback to previous release %s with chart %s failed: %s", target.FullReleaseName(), target.VersionedChartName(), cause)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		hr := &helmv2.HelmRelease{}
		if err := cl.Get(ctx, key, hr); err != nil {
			return err
		}
		st := &hr.Status
		for _, s := range snaps {
			if !replaceSnapshot(st.History, s) {
				st.History = append(helmv2.Snapshots{s}, st.History...)
			}
		}
		if cause != nil {
			st.Failures++
		}
		apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: helmv2.RemediatedCondition, Status: status, Reason: reason, Message: msg, ObservedGeneration: hr.Generation,
		})
		apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: "Ready", Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: hr.Generation,
		})
		return cl.Status().Update(ctx, hr)
	})
}

// ConditionsLine is a HelmRelease's conditions, Ready first, then the other conditions, one line.
func ConditionsLine(hr *helmv2.HelmRelease) string {
	conds := append([]metav1.Condition(nil), hr.Status.Conditions...)
	sort.SliceStable(conds, func(i, j int) bool { return conds[i].Type == "Ready" && conds[j].Type != "Ready" })
	var parts []string
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s (%s) %s", c.Type, c.Status, c.Reason, c.Message))
	}
	if hr.Spec.Suspend {
		parts = append(parts, "suspended")
	}
	if len(parts) == 0 {
		return "no conditions yet"
	}
	if r := apimeta.FindStatusCondition(hr.Status.Conditions, "Ready"); r == nil {
		parts = append([]string{"Ready=Unknown"}, parts...)
	}
	return strings.Join(parts, "; ")
}
