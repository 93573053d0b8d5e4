// Package kube is cozyhr's access to the cluster: shared clients for one
// kubeconfig context, request timeouts, batched reads of live objects,
// Helm's storage.
package kube

import (
	"fmt"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	helmkube "helm.sh/helm/v4/pkg/kube"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Client-side rate limits high enough that the limiter never dominates a
// diff of thousands of objects; the API server's own flow control still
// applies.
const (
	clientQPS   = 200
	clientBurst = 400
)

// UserAgent names cozyhr to the API server; its first word is the field
// manager of what cozyhr writes without naming one (Helm's release
// storage), which is how history tells cozyhr's revisions apart.
const UserAgent = "cozyhr"

// TuneRESTConfig raises client-go's rate limits for cozyhr's bursty reads
// and names cozyhr as the client.
func TuneRESTConfig(c *rest.Config) *rest.Config {
	c.QPS, c.Burst = clientQPS, clientBurst
	c.UserAgent = UserAgent
	return c
}

// Cluster gives lazily created, shared clients for one kubeconfig context.
type Cluster struct {
	Getter genericclioptions.RESTClientGetter

	mu        sync.Mutex
	rest      *rest.Config
	dynamic   dynamic.Interface
	clientset kubernetes.Interface
	dryRun    dynamic.Interface
	mapper    meta.RESTMapper
	client    client.Client
	caps      *common.Capabilities

	// applies lets applies that share Helm's field manager run together.
	applies fieldManagerGate
}

// fieldManagerGate: Helm reads the field manager it writes with from one
// package variable, so when charts are applied in parallel, applies with
// another field manager (plain mode beside Flux mode) wait their turn.
type fieldManagerGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	manager string
	active  int
}

// WithFieldManager runs a Helm write with Helm's field manager set to
// manager. Helm reads it from one package variable, so when charts are
// applied in parallel, writes with another field manager wait their turn.
func (c *Cluster) WithFieldManager(manager string) (leave func()) {
	return c.applies.enter(manager, func(m string) { helmkube.ManagedFieldsManager = m })
}

// enter waits until manager may be set, sets it, and returns the release.
func (g *fieldManagerGate) enter(manager string, set func(string)) (leave func()) {
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	for g.active > 0 && g.manager != manager {
		g.cond.Wait()
	}
	if g.active == 0 {
		// Only when no apply is reading it: the others use the same.
		g.manager = manager
		set(manager)
	}
	g.active++
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.active--
		g.cond.Broadcast()
		g.mu.Unlock()
	}
}

// NewCluster wraps a kubeconfig getter such as genericclioptions.ConfigFlags.
func NewCluster(getter genericclioptions.RESTClientGetter) *Cluster {
	return &Cluster{Getter: getter}
}

// Scheme knows the core types and the Flux types cozyhr reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, helmv2.AddToScheme, sourcev1.AddToScheme} {
		if err := add(s); err != nil {
			panic(fmt.Sprintf("building scheme: %v", err)) // static registration; cannot fail at run time
		}
	}
	return s
}

// RESTConfig returns the connection settings.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rest == nil {
		raw, err := c.Getter.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, &KubeconfigError{Err: err}
		}
		if len(raw.Contexts) == 0 && len(raw.Clusters) == 0 {
			if f, ok := c.Getter.(*genericclioptions.ConfigFlags); !ok || f.APIServer == nil || *f.APIServer == "" {
				return nil, &KubeconfigError{Missing: true}
			}
		}
		cfg, err := c.Getter.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		c.rest = TuneRESTConfig(rest.CopyConfig(cfg))
	}
	return c.rest, nil
}

// Mapper maps kinds to resources using cached discovery.
func (c *Cluster) Mapper() (meta.RESTMapper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mapper == nil {
		m, err := c.Getter.ToRESTMapper()
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		c.mapper = m
	}
	return c.mapper, nil
}

// Dynamic returns a dynamic client.
func (c *Cluster) Dynamic() (dynamic.Interface, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dynamic == nil {
		d, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		c.dynamic = d
	}
	return c.dynamic, nil
}

// Dry-run rate limits: a server-side diff sends one dry-run apply per
// object, which writes nothing; at clientQPS they, not the server, would
// bound the diff (5,000 objects: 25 s). The server's own flow control
// still applies.
const (
	dryRunQPS   = 1000
	dryRunBurst = 1000
)

// DryRunDynamic is a dynamic client for dry-run requests, with rate limits
// of its own; made on first use, as only a server-side diff needs it.
func (c *Cluster) DryRunDynamic() (dynamic.Interface, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dryRun == nil {
		cfg = rest.CopyConfig(cfg)
		cfg.QPS, cfg.Burst = dryRunQPS, dryRunBurst
		if c.dryRun, err = dynamic.NewForConfig(cfg); err != nil {
			return nil, err
		}
	}
	return c.dryRun, nil
}

// Client returns a typed client that knows the Flux API types.
func (c *Cluster) Client() (client.Client, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	mapper, err := c.Mapper()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		cl, err := client.New(cfg, client.Options{Scheme: Scheme(), Mapper: mapper})
		if err != nil {
			return nil, err
		}
		c.client = cl
	}
	return c.client, nil
}

// Capabilities reads the server version and API versions once per run, for
// .Capabilities in templates.
func (c *Cluster) Capabilities() (*common.Capabilities, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caps != nil {
		return c.caps, nil
	}
	dc, err := c.Getter.ToDiscoveryClient()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, &UnreachableError{Err: err}
	}
	versions, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("discover API versions: %w", err)
	}
	c.caps = &common.Capabilities{
		KubeVersion: common.KubeVersion{Version: v.GitVersion, Major: v.Major, Minor: v.Minor},
		APIVersions: versions,
		HelmVersion: common.DefaultCapabilities.HelmVersion,
	}
	return c.caps, nil
}

// DefaultNamespace is the namespace of the current kubeconfig context.
func (c *Cluster) DefaultNamespace() string {
	ns, _, err := c.Getter.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// ResetDiscovery forgets cached discovery, after CRDs were created, so that
// their kinds map.
func (c *Cluster) ResetDiscovery() {
	if dc, err := c.Getter.ToDiscoveryClient(); err == nil {
		dc.Invalidate()
	}
	if m, err := c.Getter.ToRESTMapper(); err == nil {
		if r, ok := m.(meta.ResettableRESTMapper); ok {
			r.Reset()
		}
	}
	c.mu.Lock()
	c.caps = nil
	c.mu.Unlock()
}

// KubeconfigError is a kubeconfig that is missing or not readable.
type KubeconfigError struct {
	// Missing says no kubeconfig was found at all.
	Missing bool
	Err     error
}

func (e *KubeconfigError) Error() string {
	if e.Missing {
		return "no kubeconfig found"
	}
	return fmt.Sprintf("kubeconfig is not readable as a kubeconfig file (%v)", e.Err)
}

func (e *KubeconfigError) Unwrap() error { return e.Err }

// UnreachableError is a cluster whose API server did not answer discovery.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the cluster: %v", e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Clientset is a typed client for the core API (Helm's storage, events,
// pod logs), made once: Helm's configuration asks for it for every release.
func (c *Cluster) Clientset() (kubernetes.Interface, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clientset == nil {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		c.clientset = cs
	}
	return c.clientset, nil
}

// OfflineCapabilities are .Capabilities with no cluster: Helm's defaults,
// the Kubernetes version and the API versions given on top.
func OfflineCapabilities(kubeVersion string, apiVersions []string) (*common.Capabilities, error) {
	caps := *common.DefaultCapabilities
	caps.APIVersions = append(common.VersionSet(nil), common.DefaultVersionSet...)
	if kubeVersion != "" {
		kv, err := common.ParseKubeVersion(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("Kubernetes version %q: %w", kubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	for _, v := range apiVersions {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				caps.APIVersions = append(caps.APIVersions, s)
			}
		}
	}
	return &caps, nil
}
