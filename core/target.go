package core

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// Workspace is one chart directory and the cluster it is developed against.
type Workspace struct {
	Config *config.Chart
	// Cluster is nil when working offline.
	Cluster *kube.Cluster
	// Notices receives one-line remarks (plain Helm mode, defaults taken).
	Notices io.Writer
	// Pipeline overrides the stages; nil means the one .cozyhr.yaml declares.
	Pipeline *Pipeline
	// Plugins starts the plugins .cozyhr.yaml names; nil when none may run.
	Plugins PluginHost

	// Recorded are production's inputs of the release, from a snapshot:
	// its HelmRelease, values, Capabilities and lookups, read from there
	// and from no cluster.
	Recorded *Recorded

	// target is resolved once per run, so its notices print once.
	target *Target
}

// Recorded are a release's inputs as a snapshot of production holds them.
type Recorded struct {
	HelmRelease *helmv2.HelmRelease
	// Values are composed as helm-controller composed them; those at
	// SecretValuePaths are the snapshot's placeholders.
	Values           map[string]any
	SecretValuePaths [][]string
	Capabilities     *common.Capabilities
	Lookups          *snapshot.Answers
	// Revision is the release's newest revision, 0 when not installed:
	// .Release says what the next upgrade will.
	Revision int
}

// Target is the resolved identity of the release a command acts on.
type Target struct {
	ReleaseName      string
	Namespace        string
	StorageNamespace string
	// HelmReleaseKey is the HelmRelease the chart stands for; zero in plain
	// Helm mode by configuration.
	HelmReleaseKey types.NamespacedName
	// HelmRelease is the live object, nil when it does not exist. Offline
	// it holds only the name and namespace from .cozyhr.yaml.
	HelmRelease *helmv2.HelmRelease
	// Offline says HelmRelease was not read from a cluster.
	Offline bool
	// HelmReleaseFile holds, offline, the objects of the repository file
	// the HelmRelease was read from, where its valuesFrom is looked up;
	// nil when it was not read from a file.
	HelmReleaseFile *flux.FileObjects
}

// FluxMode reports whether a live HelmRelease governs the release.
func (t *Target) FluxMode() bool { return t.HelmRelease != nil }

// ResolveTarget fills what the configuration leaves open from the cluster:
// the kubeconfig namespace, and whether the HelmRelease exists.
func (w *Workspace) ResolveTarget(ctx context.Context) (*Target, error) {
	if w.target != nil {
		cp := *w.target
		return &cp, nil
	}
	t, err := w.resolveTarget(ctx)
	if err == nil {
		w.target = t
		cp := *t
		t = &cp
	}
	return t, err
}

func (w *Workspace) resolveTarget(ctx context.Context) (*Target, error) {
	c := w.Config
	t := &Target{ReleaseName: c.Release.Name, Namespace: c.Release.Namespace}
	if t.Namespace == "" {
		t.Namespace = "default"
		if w.Cluster != nil {
			t.Namespace = w.Cluster.DefaultNamespace()
		}
	}
	t.StorageNamespace = c.Release.StorageNamespace
	if t.StorageNamespace == "" {
		t.StorageNamespace = t.Namespace
	}
	if c.File == "" && !c.HelmRelease.IsNamed() {
		w.notice("no %s in %s: using release %q in namespace %q, %s", config.FileName, c.Dir, t.ReleaseName, t.Namespace, namedHow(c, t))
	}
	// A recorded instance is its HelmRelease, whatever the file says.
	if rec := w.Recorded; rec != nil {
		hr := rec.HelmRelease
		t.HelmRelease, t.Offline = hr, true
		t.HelmReleaseKey = types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}
		t.ReleaseName, t.Namespace, t.StorageNamespace = flux.ReleaseName(hr), hr.GetReleaseNamespace(), hr.GetStorageNamespace()
		return t, nil
	}
	if !c.HelmRelease.IsEnabled() {
		return t, nil
	}
	t.HelmReleaseKey = types.NamespacedName{Namespace: c.HelmRelease.Namespace, Name: c.HelmRelease.Name}
	if t.HelmReleaseKey.Name == "" {
		t.HelmReleaseKey.Name = t.ReleaseName
	}
	if t.HelmReleaseKey.Namespace == "" {
		t.HelmReleaseKey.Namespace = t.Namespace
	}
	if w.Cluster == nil {
		if !c.HelmRelease.IsNamed() {
			return t, nil
		}
		if c.HelmRelease.File != "" {
			return w.targetFromFile(t)
		}
		// Offline, render as helm-controller would as far as the files
		// say: the HelmRelease's origin labels on every object, the
		// release identity and values from .cozyhr.yaml.
		t.HelmRelease = &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: t.HelmReleaseKey.Name, Namespace: t.HelmReleaseKey.Namespace}}
		t.Offline = true
		w.notice("offline: HelmRelease %s is not read, so its spec.values, valuesFrom, postRenderers and commonMetadata are not applied (its origin labels are)", t.HelmReleaseKey)
		return t, nil
	}
	cl, err := w.Cluster.Client()
	if err != nil {
		return nil, err
	}
	hr, err := flux.Get(ctx, cl, t.HelmReleaseKey)
	if err != nil {
		return nil, err
	}
	t.HelmRelease = hr
	if hr == nil {
		if c.HelmRelease.IsNamed() {
			// Named on purpose: never fall back to another release quietly.
			return nil, &HelmReleaseNotFoundError{Key: t.HelmReleaseKey, Release: t.ReleaseName, Namespace: t.Namespace}
		}
		w.notice("HelmRelease %s not found: working in plain Helm mode", t.HelmReleaseKey)
		return t, nil
	}
	// The release is the one helm-controller manages: its name and
	// namespaces come from the HelmRelease.
	// Said only where .cozyhr.yaml itself named another release: a
	// release named after the chart or the HelmRelease is no surprise,
	// and the notice would repeat on every command.
	name, ns, storage := flux.ReleaseName(hr), hr.GetReleaseNamespace(), hr.GetStorageNamespace()
	nameInFile := c.NameFrom == "" && name != t.ReleaseName
	namespaceInFile := c.NamespaceFrom == "" && c.Release.Namespace != "" && ns != t.Namespace
	if nameInFile || namespaceInFile {
		w.notice("HelmRelease %s manages release %s in namespace %s; using that", t.HelmReleaseKey, name, ns)
	}
	t.ReleaseName, t.Namespace, t.StorageNamespace = name, ns, storage
	return t, nil
}

// targetFromFile is the target offline when .cozyhr.yaml points at the
// HelmRelease's manifest in the repository: rendered as helm-controller
// would render that HelmRelease.
func (w *Workspace) targetFromFile(t *Target) (*Target, error) {
	c := w.Config
	path := c.HelmRelease.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.Dir, path)
	}
	name := c.HelmRelease.Name
	hr, objs, err := flux.ReadFile(path, types.NamespacedName{Namespace: t.HelmReleaseKey.Namespace, Name: name})
	if err != nil {
		return nil, fmt.Errorf("%s: helmRelease.file: %w", c.Source(), err)
	}
	t.HelmRelease, t.HelmReleaseFile, t.Offline = hr, objs, true
	t.HelmReleaseKey = types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}
	t.ReleaseName, t.Namespace, t.StorageNamespace = flux.ReleaseName(hr), hr.GetReleaseNamespace(), hr.GetStorageNamespace()
	return t, nil
}

// namedHow says where a release without a .cozyhr.yaml got its name and
// namespace, as a notice ends.
func namedHow(c *config.Chart, t *Target) string {
	switch {
	case c.NameFrom == config.NamedByMakefile && c.NamespaceFrom == config.NamedByMakefile:
		return "as its Makefile names them (NAME, NAMESPACE)"
	case c.NameFrom == config.NamedByMakefile:
		return "as its Makefile names it (NAME)"
	case c.NameFrom != config.NamedByChart:
		return "as named"
	case c.NamespaceFrom == config.NamedByMakefile:
		return "named after the chart, in the namespace its Makefile names (NAMESPACE)"
	}
	return "named after the chart; give the HelmRelease's name as an argument (cozyhr show NAME -n NAMESPACE) to work on another"
}

func (w *Workspace) notice(format string, args ...any) {
	if w.Notices != nil {
		fmt.Fprintf(w.Notices, "cozyhr: "+format+"\n", args...)
	}
}

// Lock takes the release's lock for command (apply, delete, rollback); see
// lock.Acquire. createNamespace lets a first install make the release's
// namespace to hold it in.
func (w *Workspace) Lock(ctx context.Context, command string, wait, createNamespace bool, log func(string)) (*lock.ReleaseLock, error) {
	if w.Cluster == nil {
		return nil, &NeedsClusterError{What: "cozyhr " + command}
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := w.Cluster.Client()
	if err != nil {
		return nil, err
	}
	return lock.Acquire(ctx, cl, t.StorageNamespace, t.ReleaseName, lock.Options{Command: command, Wait: wait, CreateNamespace: createNamespace, Log: log})
}

// Unlock breaks the release's lock, whoever holds it, and says who did.
func (w *Workspace) Unlock(ctx context.Context) (string, error) {
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return "", err
	}
	cl, err := w.Cluster.Client()
	if err != nil {
		return "", err
	}
	return lock.Break(ctx, cl, t.StorageNamespace, t.ReleaseName)
}

// helmConfig is Helm's configuration for the target's release.
func (w *Workspace) helmConfig(t *Target, debug io.Writer) (*action.Configuration, error) {
	if w.Cluster == nil {
		return nil, &NeedsClusterError{What: "this"}
	}
	return w.Cluster.HelmConfig(t.StorageNamespace, t.Namespace, debug)
}

// liveReader reads the target's live objects; in Flux mode only those that
// carry the HelmRelease's origin labels are listed.
func (w *Workspace) liveReader(t *Target, parallelism int) (*kube.LiveReader, error) {
	selector := ""
	if info := t.ReleaseInfo(); info.HelmRelease != nil {
		selector = flux.OriginNameLabel + "=" + info.HelmRelease.Name + "," + flux.OriginNamespaceLabel + "=" + info.HelmRelease.Namespace
	}
	return w.Cluster.NewLiveReader(t.Namespace, selector, parallelism)
}
