package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/readiness"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Event is one Kubernetes event about the HelmRelease or its objects.
type Event struct {
	Time    time.Time
	Type    string
	Reason  string
	Object  string
	Message string
}

// Events lists the recent events of the chart's HelmRelease and of the
// objects its release manifest holds, oldest first, as kubectl events.
func (w *Workspace) Events(ctx context.Context, debug io.Writer) ([]Event, error) {
	if w.Cluster == nil {
		return nil, errors.New("events needs a cluster")
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{} // namespace/kind/name
	namespaces := map[string]bool{}
	if t.HelmRelease != nil {
		wanted[t.HelmRelease.Namespace+"/HelmRelease/"+t.HelmRelease.Name] = true
		namespaces[t.HelmRelease.Namespace] = true
	}
	cfg, err := w.helmConfig(t, debug)
	if err != nil {
		return nil, err
	}
	rel, err := kube.LastRelease(cfg, t.ReleaseName)
	if err != nil {
		return nil, err
	}
	if rel != nil {
		objs, err := manifest.ParseManifests([]byte(rel.Manifest))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			ns := o.GetNamespace()
			if ns == "" {
				ns = t.Namespace
			}
			wanted[ns+"/"+o.GetKind()+"/"+o.GetName()] = true
			namespaces[ns] = true
		}
	}
	cs, err := w.Cluster.Clientset()
	if err != nil {
		return nil, err
	}
	var out []Event
	for ns := range namespaces {
		list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list events in namespace %s: %w", ns, err)
		}
		for _, e := range list.Items {
			obj := e.InvolvedObject
			if !wanted[ns+"/"+obj.Kind+"/"+obj.Name] {
				continue
			}
			out = append(out, Event{Time: readiness.EventTime(e), Type: e.Type, Reason: e.Reason, Object: obj.Kind + "/" + obj.Name, Message: strings.TrimSpace(e.Message)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// WatchHelmRelease prints the HelmRelease's conditions whenever they change,
// as kubectl get --watch, until ctx ends or timeout (0: no limit) passes.
func (w *Workspace) WatchHelmRelease(ctx context.Context, out io.Writer, timeout time.Duration) error {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	last := ""
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// Each read gets its own deadline: the watch's end must not turn
		// into an error half-way through a request.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		hr := &helmv2.HelmRelease{}
		err := cl.Get(rctx, client.ObjectKeyFromObject(t.HelmRelease), hr)
		cancel()
		switch {
		case err == nil:
			if line := flux.ConditionsLine(hr); line != last {
				last = line
				fmt.Fprintf(out, "%s %s %s\n", time.Now().UTC().Format("15:04:05"), t.HelmReleaseKey, line)
			}
		case !apierrors.IsNotFound(err):
			return err
		}
		select {
		case <-ctx.Done():
			return nil // Ctrl-C or the watch timeout: the normal end
		case <-tick.C:
		}
	}
}
