// Package testenv starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with the Flux CRDs installed, for cozyhr's tests and demo.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/core/kube"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// CRDsEnv names the directory of the CRDs the Flux controllers ship
// (hack/flux-controllers.sh).
const CRDsEnv = "COZYHR_TEST_CRDS"

// Env is a running API server.
type Env struct {
	env *envtest.Environment
	// Config connects as cluster admin.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file for the same admin user.
	Kubeconfig string
	// Client knows the core and Flux types.
	Client client.Client
}

// Start launches etcd and kube-apiserver from KUBEBUILDER_ASSETS and
// installs the CRDs found in COZYHR_TEST_CRDS. kubeconfigDir receives the
// kubeconfig file.
func Start(kubeconfigDir string) (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run the tests with make test, which builds kube-apiserver and etcd once and caches them")
	}
	crds := os.Getenv(CRDsEnv)
	if crds == "" {
		return nil, fmt.Errorf("%s is not set: run the tests with make test, which generates the Flux CRDs", CRDsEnv)
	}
	e := &envtest.Environment{
		CRDDirectoryPaths:       []string{crds},
		ErrorIfCRDPathMissing:   true,
		ControlPlaneStopTimeout: 30 * time.Second,
	}
	// Resolve webhook and aggregated-API services through Endpoints, not
	// DNS. Nothing runs behind a chart's webhooks here and no controller
	// writes Endpoints, so a webhook call fails at once instead of dialling
	// a service name that could resolve off this machine.
	e.ControlPlane.GetAPIServer().Configure().Set("enable-aggregator-routing", "true")
	cfg, err := e.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	env := &Env{env: e, Config: cfg}
	user, err := e.AddUser(envtest.User{Name: "cozyhr-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = e.Stop()
		return nil, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		_ = e.Stop()
		return nil, err
	}
	env.Kubeconfig = filepath.Join(kubeconfigDir, "kubeconfig")
	if err := os.WriteFile(env.Kubeconfig, kc, 0o600); err != nil {
		_ = e.Stop()
		return nil, err
	}
	env.Client, err = client.New(cfg, client.Options{Scheme: kube.Scheme()})
	if err != nil {
		_ = e.Stop()
		return nil, err
	}
	return env, nil
}

// SharedChartPrerequisites creates what a real cluster already has for the
// shared umbrella charts: a control-plane Node (kubeovn's templates look it
// up) and cert-manager's kinds (ingress-nginx issues its webhook
// certificate with them; the cozystack cert-manager chart splits its CRDs
// into another chart).
func (e *Env) SharedChartPrerequisites(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "control-plane-0", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if err := e.Client.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}}
	if err := e.Client.Status().Update(ctx, node); err != nil {
		return err
	}
	for _, kind := range []string{"Certificate", "Issuer"} {
		if err := e.Client.Create(ctx, StubCRD("cert-manager.io", kind)); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// AppChartPrerequisites serves the kinds a Cozystack application chart
// (packages/apps/*) writes beside its own objects: the platform's
// WorkloadMonitor and the operators' custom resources, as a platform
// cluster already has them.
func (e *Env) AppChartPrerequisites(ctx context.Context) error {
	for _, k := range []struct{ group, version, kind string }{
		{"cozystack.io", "v1alpha1", "WorkloadMonitor"},
		{"databases.spotahome.com", "v1", "RedisFailover"},
		{"operator.victoriametrics.com", "v1beta1", "VMServiceScrape"},
	} {
		crd := StubCRD(k.group, k.kind)
		crd.Spec.Versions[0].Name = k.version
		if err := e.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// StubCRD serves a kind with an open schema, standing in for a CRD that
// another chart installs (cert-manager's, for ingress-nginx).
func StubCRD(group, kind string) *apiextensionsv1.CustomResourceDefinition {
	plural := strings.ToLower(kind) + "s"
	open := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Plural: plural, ListKind: kind + "List", Singular: strings.ToLower(kind)},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &open,
				}},
			}},
		},
	}
}

// Stop shuts the API server and etcd down.
func (e *Env) Stop() error { return e.env.Stop() }

// CreateNamespace creates a namespace if it does not exist.
func (e *Env) CreateNamespace(ctx context.Context, name string) error {
	err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Main runs a package's tests with an API server in *env when
// KUBEBUILDER_ASSETS says where one is (make test builds it), and without
// (*env nil: the tests that need it skip) otherwise. It returns the exit
// code for os.Exit.
func Main(m *testing.M, env **Env) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "cozyhr-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv("KUBECACHEDIR", filepath.Join(dir, "cache"))
	e, err := Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()
	*env = e
	return m.Run()
}

// Need skips t when no API server runs.
func Need(t testing.TB, env *Env) {
	t.Helper()
	if env == nil {
		t.Skip("no API server: KUBEBUILDER_ASSETS is not set (make test sets it)")
	}
}

// Cluster is a kube.Cluster connected to the API server as its admin, as
// cozyhr connects through a kubeconfig.
func (e *Env) Cluster() *kube.Cluster {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &e.Kubeconfig
	return kube.NewCluster(flags)
}
