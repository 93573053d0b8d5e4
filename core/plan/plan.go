// Package plan prepares a run over many charts that follows dependencies:
// each chart's job (its HelmRelease, what it depends on), and the checks
// of the whole before anything runs.
package plan

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
)

// Job describes the workspace's chart for a run over many: its key is its
// HelmRelease (its release in plain mode), and it depends on the
// HelmRelease's spec.dependsOn and .cozyhr.yaml's dependsOn. A chart whose
// target cannot be resolved gets no key: its own run reports why.
func Job(ctx context.Context, w *core.Workspace, name string) batch.Job {
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

// Jobs are the jobs of a run over the charts in dirs that follows
// dependencies: each chart's HelmRelease is read for them, several at
// once for a remote API server's round trips. A chart whose configuration
// does not load gets a job with its name alone: its own run says why.
func Jobs(ctx context.Context, cluster *kube.Cluster, dirs []string) []batch.Job {
	jobs := batch.Named(dirs)
	var eg errgroup.Group
	eg.SetLimit(8)
	for i, dir := range dirs {
		eg.Go(func() error {
			if cfg, err := config.Load(config.LoadOptions{Dir: dir}); err == nil {
				w := &core.Workspace{Config: cfg, Cluster: cluster, Notices: io.Discard}
				jobs[i] = Job(ctx, w, dir)
			}
			return nil
		})
	}
	_ = eg.Wait()
	return jobs
}

// Check refuses two charts of one run that write the same release (the
// second would wait on the first's lock, or overwrite it), and warns on
// warn of a dependency that is neither in the run nor a HelmRelease in the
// cluster: Flux would wait for it forever.
func Check(ctx context.Context, cluster *kube.Cluster, jobs []batch.Job, warn io.Writer) error {
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
