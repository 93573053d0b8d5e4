package core

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cozyhr/cozyhr/core/iox"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// helmConfig builds Helm's action configuration for the target: releases
// stored in the storage namespace, objects created in the release namespace.
func (w *Workspace) helmConfig(t *Target, debug io.Writer) (*action.Configuration, error) {
	if w.Cluster == nil {
		return nil, errors.New("this needs a cluster; drop --offline")
	}
	var handler slog.Handler = slog.DiscardHandler
	if debug != nil {
		handler = slog.NewTextHandler(iox.PrefixLines(debug, "helm: "), &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(handler))
	if err := cfg.Init(w.Cluster.Getter, t.StorageNamespace, "secret"); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = t.Namespace
	}
	caps, err := w.Cluster.Capabilities()
	if err != nil {
		return nil, err
	}
	cfg.Capabilities = caps
	return cfg, nil
}

// lastRelease returns the newest revision of the release, or nil.
func lastRelease(cfg *action.Configuration, name string) (*release.Release, error) {
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release %s: %w", name, err)
	}
	return asRelease(r)
}

// asRelease narrows Helm 4's release interface to the chart API v2 release,
// the only kind helm-controller supports too.
func asRelease(r any) (*release.Release, error) {
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("release of type %T: only chart API v2 releases are supported", r)
	}
	return rel, nil
}
