package core

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
)

// BatchJob describes the workspace's chart for a run over many: its key is
// its HelmRelease (its release in plain mode), and it depends on the
// HelmRelease's spec.dependsOn and .cozyhr.yaml's dependsOn. A chart whose
// target cannot be resolved gets no key: its own run reports why.
func (w *Workspace) BatchJob(ctx context.Context, name string) batch.Job {
	j := batch.Job{Name: name}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return j
	}
	ns := t.Namespace
	j.Key = t.Namespace + "/" + t.ReleaseName
	if t.FluxMode() {
		ns = t.HelmReleaseKey.Namespace
		j.Key = t.HelmReleaseKey.String()
		for _, d := range t.HelmRelease.Spec.DependsOn {
			j.DependsOn = append(j.DependsOn, cmp.Or(d.Namespace, ns)+"/"+d.Name)
		}
	}
	for _, d := range w.Config.DependsOn {
		if !strings.Contains(d, "/") {
			d = ns + "/" + d
		}
		j.DependsOn = append(j.DependsOn, d)
	}
	return j
}

// CheckJobs refuses two charts of one run that write the same release (the
// second would wait on the first's lock, or overwrite it), and warns on
// warn of a dependency that is neither in the run nor a HelmRelease in the
// cluster: Flux would wait for it forever.
func CheckJobs(ctx context.Context, cluster *kube.Cluster, jobs []batch.Job, warn io.Writer) error {
	byKey := map[string]string{}
	for _, j := range jobs {
		if j.Key == "" {
			continue
		}
		if other, ok := byKey[j.Key]; ok {
			return fmt.Errorf("charts %s and %s both stand for %s: one run cannot write a release twice; give each its own release (release.name or helmRelease.name in %s)", other, j.Name, j.Key, config.FileName)
		}
		byKey[j.Key] = j.Name
	}
	cl, err := cluster.Client()
	if err != nil {
		return nil // the charts' own runs report the connection
	}
	for _, j := range jobs {
		for _, d := range j.DependsOn {
			if _, ok := byKey[d]; ok {
				continue
			}
			ns, name, _ := strings.Cut(d, "/")
			err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &helmv2.HelmRelease{})
			if apierrors.IsNotFound(err) {
				fmt.Fprintf(warn, "Warning: %s depends on %s, which is neither a chart of this run nor a HelmRelease in the cluster; Flux would wait for it forever (a typo in dependsOn?)\n", j.Name, d)
			}
		}
	}
	return nil
}
