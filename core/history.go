package core

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/cozyhr/cozyhr/core/kube"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Revision is one stored revision of a release.
type Revision struct {
	Revision    int       `json:"revision"`
	Updated     time.Time `json:"updated"`
	Status      string    `json:"status"`
	Chart       string    `json:"chart"`
	AppVersion  string    `json:"appVersion"`
	ApplyMethod string    `json:"applyMethod,omitempty"`
	// WrittenBy is the program that stored the revision: the field manager
	// that created its storage Secret (cozyhr, helm-controller, helm).
	WrittenBy   string `json:"writtenBy"`
	Description string `json:"description"`
}

// History lists the release's stored revisions, oldest first, as helm
// history does, adding who wrote each.
func (w *Workspace) History(ctx context.Context, debug io.Writer) (*Target, []Revision, error) {
	if w.Cluster == nil {
		return nil, nil, fmt.Errorf("history needs a cluster")
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := w.helmConfig(t, debug)
	if err != nil {
		return nil, nil, err
	}
	rels, err := cfg.Releases.History(t.ReleaseName)
	if err != nil {
		return t, nil, fmt.Errorf("release %s in namespace %s: %w", t.ReleaseName, t.StorageNamespace, err)
	}
	writers, err := w.releaseWriters(ctx, t)
	if err != nil {
		return t, nil, err
	}
	var out []Revision
	for _, r := range rels {
		rel, err := kube.AsRelease(r)
		if err != nil {
			return t, nil, err
		}
		rev := Revision{Revision: rel.Version, WrittenBy: writers[rel.Version], ApplyMethod: rel.ApplyMethod}
		if rel.Info != nil {
			rev.Updated, rev.Status, rev.Description = rel.Info.LastDeployed, rel.Info.Status.String(), rel.Info.Description
		}
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			rev.Chart = rel.Chart.Metadata.Name + "-" + rel.Chart.Metadata.Version
			rev.AppVersion = rel.Chart.Metadata.AppVersion
		}
		out = append(out, rev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return t, out, nil
}

// releaseWriters maps each revision to the field manager that created its
// storage Secret: the manager with the oldest managed-fields entry.
func (w *Workspace) releaseWriters(ctx context.Context, t *Target) (map[int]string, error) {
	cl, err := w.Cluster.Client()
	if err != nil {
		return nil, err
	}
	var secrets corev1.SecretList
	if err := cl.List(ctx, &secrets, client.InNamespace(t.StorageNamespace), client.MatchingLabels{"owner": "helm", "name": t.ReleaseName}); err != nil {
		return nil, fmt.Errorf("list the storage of release %s: %w", t.ReleaseName, err)
	}
	out := map[int]string{}
	for _, s := range secrets.Items {
		v, err := strconv.Atoi(s.Labels["version"])
		if err != nil {
			continue
		}
		var first time.Time
		for _, m := range s.ManagedFields {
			if m.Time == nil {
				continue
			}
			if out[v] == "" || m.Time.Time.Before(first) {
				out[v], first = m.Manager, m.Time.Time
			}
		}
	}
	return out, nil
}
