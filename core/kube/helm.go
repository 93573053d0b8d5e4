package kube

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cozyhr/cozyhr/core/iox"
	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// HelmConfig builds Helm's action configuration for a release: stored in
// storageNamespace, its objects created in namespace. Helm's debug log goes
// to debug, when set.
func (c *Cluster) HelmConfig(storageNamespace, namespace string, debug io.Writer) (*action.Configuration, error) {
	var handler slog.Handler = slog.DiscardHandler
	if debug != nil {
		handler = slog.NewTextHandler(iox.PrefixLines(debug, "helm: "), &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	// Built as Configuration.Init builds it for the "secret" driver, which
	// helm-controller uses too; Init would link the SQL driver's migrations
	// as well, which nothing here can choose.
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(handler))
	cs, err := c.Clientset()
	if err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	secrets := driver.NewSecrets(cs.CoreV1().Secrets(storageNamespace))
	secrets.SetLogger(handler)
	kc := helmkube.New(c.Getter)
	kc.SetLogger(handler)
	kc.Namespace = namespace
	cfg.RESTClientGetter = c.Getter
	cfg.KubeClient = kc
	cfg.Releases = storage.Init(secrets)
	cfg.HookOutputFunc = func(_, _, _ string) io.Writer { return io.Discard }
	caps, err := c.Capabilities()
	if err != nil {
		return nil, err
	}
	cfg.Capabilities = caps
	return cfg, nil
}

// LastRelease returns the newest revision of the release, or nil.
func LastRelease(cfg *action.Configuration, name string) (*release.Release, error) {
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release %s: %w", name, err)
	}
	return AsRelease(r)
}

// AsRelease narrows Helm 4's release interface to the chart API v2 release,
// the only kind helm-controller supports too.
func AsRelease(r any) (*release.Release, error) {
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("release of type %T: only chart API v2 releases are supported", r)
	}
	return rel, nil
}
