package core

import (
	"errors"
	"fmt"
	"io"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// helmConfig builds Helm's action configuration for the target: releases
// stored in the storage namespace, objects created in the release namespace.
func (w *Workspace) helmConfig(t *Target, debug io.Writer) (*action.Configuration, error) {
	if w.Cluster == nil {
		return nil, errors.New("this needs a cluster; drop --offline")
	}
	cfg := new(action.Configuration)
	logf := func(string, ...any) {}
	if debug != nil {
		logf = func(format string, v ...any) { fmt.Fprintf(debug, "helm: "+format+"\n", v...) }
	}
	if err := cfg.Init(w.Cluster.Getter, t.StorageNamespace, "secret", logf); err != nil {
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
	rel, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release %s: %w", name, err)
	}
	return rel, nil
}
