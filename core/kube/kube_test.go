package kube_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// requests counts the API requests a cluster's clients make, by method and
// path.
type requests struct {
	mu    sync.Mutex
	paths []string
}

func (r *requests) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.paths {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

type counting struct {
	next http.RoundTripper
	r    *requests
}

func (c counting) RoundTrip(req *http.Request) (*http.Response, error) {
	c.r.mu.Lock()
	c.r.paths = append(c.r.paths, req.Method+" "+req.URL.Path)
	c.r.mu.Unlock()
	return c.next.RoundTrip(req)
}

// cluster connects to the test API server, counting requests.
func cluster(t *testing.T, namespace string) (*kube.Cluster, *requests) {
	t.Helper()
	testenv.Need(t, env)
	r := &requests{}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &env.Kubeconfig
	if namespace != "" {
		flags.Namespace = &namespace
	}
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c = kube.TuneRESTConfig(c)
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return counting{next: rt, r: r} })
		return c
	}
	return kube.NewCluster(flags), r
}

func configMapObject(ns, name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

func TestClustersClientsAreMadeOnceAndKnowFlux(t *testing.T) {
	c, _ := cluster(t, "")
	cl, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Client()
	if cl != again {
		t.Error("a second controller-runtime client was made")
	}
	cs, _ := c.Clientset()
	cs2, _ := c.Clientset()
	dyn, _ := c.Dynamic()
	dyn2, _ := c.Dynamic()
	if cs != cs2 || dyn != dyn2 {
		t.Error("the typed or dynamic client was made twice")
	}
	caps, err := c.Capabilities()
	if err != nil {
		t.Fatal(err)
	}
	if caps.KubeVersion.Version != "v1.37.2" || !caps.APIVersions.Has("helm.toolkit.fluxcd.io/v2") || !caps.APIVersions.Has("apps/v1") {
		t.Errorf("capabilities: %s, Flux served %v", caps.KubeVersion.Version, caps.APIVersions.Has("helm.toolkit.fluxcd.io/v2"))
	}
	if kube.Scheme().Recognizes(schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}) == false {
		t.Error("the scheme does not know HelmRelease")
	}
	if got := c.DefaultNamespace(); got != "default" {
		t.Errorf("default namespace %q", got)
	}
	named, _ := cluster(t, "team-a")
	if got := named.DefaultNamespace(); got != "team-a" {
		t.Errorf("-n team-a: %q", got)
	}
}

func TestAMissingKubeconfigIsTyped(t *testing.T) {
	flags := genericclioptions.NewConfigFlags(false)
	missing := filepath.Join(t.TempDir(), "none")
	flags.KubeConfig = &missing
	t.Setenv("KUBECONFIG", "")
	_, err := kube.NewCluster(flags).RESTConfig()
	var ke *kube.KubeconfigError
	if !errors.As(err, &ke) {
		t.Fatalf("want a kubeconfig error, got %v", err)
	}

	garbage := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(garbage, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags.KubeConfig = &garbage
	_, err = kube.NewCluster(flags).Client()
	if !errors.As(err, &ke) || ke.Missing || !strings.Contains(err.Error(), "not readable as a kubeconfig file") {
		t.Errorf("an unreadable kubeconfig: %v", err)
	}
}

func TestAnUnreachableServerIsTyped(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	_, err := kube.NewCluster(flags).Capabilities()
	var ue *kube.UnreachableError
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "cannot reach the cluster: ") {
		t.Errorf("want unreachable, got %v", err)
	}
}

// The live reader reads each kind in a namespace with one LIST, in pages,
// and says which objects are absent and which kinds are not served.
func TestLiveReaderListsOnceAKindAndFindsWhatIsThere(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "kube-live"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"helm.toolkit.fluxcd.io/name": "app"}
	const n = 260 // more than one page
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cm-%03d", i), Labels: labels}}
		if err := env.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	// Present but not labelled: a selected LIST misses it, a GET finds it.
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unlabelled"}}); err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for i := range n {
		objs = append(objs, configMapObject(ns, fmt.Sprintf("cm-%03d", i), nil))
	}
	objs = append(objs, configMapObject(ns, "absent", nil), configMapObject(ns, "unlabelled", nil))
	widget := &unstructured.Unstructured{}
	widget.SetAPIVersion("example.com/v1")
	widget.SetKind("Widget")
	widget.SetName("w")
	objs = append(objs, widget)

	c, reqs := cluster(t, ns)
	reader, err := c.NewLiveReader(ns, "helm.toolkit.fluxcd.io/name=app", 4)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	found, absent, unknown := 0, []string{}, []string{}
	err = reader.Visit(ctx, objs, func(obj, live *unstructured.Unstructured, isUnknown bool) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case isUnknown:
			unknown = append(unknown, obj.GetKind())
		case live == nil:
			absent = append(absent, obj.GetName())
		default:
			found++
			if live.GetName() != obj.GetName() {
				t.Errorf("%s matched %s", obj.GetName(), live.GetName())
			}
			// Only other managers' entries stay (ForeignManagers).
			for _, m := range live.GetManagedFields() {
				if m.Manager == "helm" || m.Manager == "helm-controller" || m.Subresource == "status" {
					t.Errorf("%s keeps %s's managedFields", live.GetName(), m.Manager)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != n+1 || fmt.Sprint(absent) != "[absent]" || fmt.Sprint(unknown) != "[Widget]" {
		t.Errorf("found %d, absent %v, unknown %v", found, absent, unknown)
	}
	lists := reqs.count("GET /api/v1/namespaces/" + ns + "/configmaps")
	if lists < 2 || lists > 6 {
		t.Errorf("%d requests for the ConfigMaps: want a LIST in pages and GETs for the two the LIST missed", lists)
	}

	state, err := reader.ReadAll(ctx, objs[:3])
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Objects) != 3 || len(state.Unknown) != 0 {
		t.Errorf("ReadAll: %d objects, unknown %v", len(state.Objects), state.Unknown)
	}
}

func TestLiveReaderDefaultsNamespacesAsHelmDoes(t *testing.T) {
	c, _ := cluster(t, "")
	reader, err := c.NewLiveReader("release-ns", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	cm := configMapObject("", "cm", nil)
	reader.DefaultNamespace(cm)
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName("x")
	ns.SetNamespace("release-ns")
	reader.DefaultNamespace(ns)
	if cm.GetNamespace() != "release-ns" || ns.GetNamespace() != "" {
		t.Errorf("ConfigMap in %q, Namespace in %q", cm.GetNamespace(), ns.GetNamespace())
	}
	owned := kube.WithHelmOwnership(configMapObject("release-ns", "cm", map[string]string{"a": "b"}), "app", "release-ns")
	if owned.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" || owned.GetAnnotations()["meta.helm.sh/release-name"] != "app" ||
		owned.GetAnnotations()["meta.helm.sh/release-namespace"] != "release-ns" || owned.GetLabels()["a"] != "b" {
		t.Errorf("ownership: %v %v", owned.GetLabels(), owned.GetAnnotations())
	}
}

// A request the server does not answer in time is the run's timeout, said
// once, and every later request fails at once with it.
func TestRequestTimeoutsBoundReads(t *testing.T) {
	var served atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	timeouts := &kube.RequestTimeouts{Read: 200 * time.Millisecond}
	cfg := timeouts.Wrap(&rest.Config{Host: srv.URL})
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Get(srv.URL + "/api")
	if err == nil {
		t.Fatal("a frozen server answered")
	}
	te := timeouts.TimedOut()
	if te == nil || te.Server != srv.URL || te.Timeout != 200*time.Millisecond || !strings.Contains(te.Error(), "did not answer within 200ms") {
		t.Fatalf("timeout %v", te)
	}
	before := served.Load()
	_, err = client.Get(srv.URL + "/apis")
	if !errors.As(err, &te) || served.Load() != before {
		t.Errorf("a request after the timeout was sent: %v", err)
	}
	// No limit, no wrapping.
	if (&kube.RequestTimeouts{}).Wrap(&rest.Config{}).WrapTransport != nil || (*kube.RequestTimeouts)(nil).TimedOut() != nil {
		t.Error("a zero timeout wrapped the transport")
	}
}
