// Package readiness watches a release's objects while Helm applies and
// waits: each object's kstatus, and why those not ready are not.
package readiness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/manifest"
	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
)

// ObjectStatus is one object's readiness as kstatus computes it.
type ObjectStatus struct {
	Ref     manifest.Ref
	Status  kstatus.Status
	Message string
	// Pods is "ready/desired" for workloads, empty otherwise.
	Pods string
	// Hook says Helm runs the object as a hook (a Job, usually).
	Hook bool
}

// Line is the status in one line: kind, name, status, pods and message.
func (s ObjectStatus) Line() string {
	l := fmt.Sprintf("%s %s: %s", s.Ref.Kind, s.Ref.Name, s.Status)
	if s.Pods != "" {
		l += ", pods ready " + s.Pods
	}
	if s.Message != "" {
		l += ": " + s.Message
	}
	if s.Hook {
		l += " (hook)"
	}
	return l
}

// Display shows a View's findings: on a terminal, Redraw replaces the
// previous block with the objects not Current; otherwise Changed is called
// for each object whose state changed.
type Display interface {
	// Live says Redraw is used rather than Changed.
	Live() bool
	Redraw(notCurrent []ObjectStatus)
	Changed(at time.Time, s ObjectStatus)
}

// View shows, while Helm applies and waits, every object of the release
// that is not Current yet, through a Display. It only reads; stopping it
// never touches the release.
type View struct {
	display Display
	now     func() time.Time
	reader  *kube.LiveReader
	// objects are the release's objects, namespaces defaulted as Helm
	// applies them; hooks holds the keys of those Helm runs as hooks.
	objects []*unstructured.Unstructured
	hooks   map[string]bool

	mu     sync.Mutex
	last   map[string]ObjectStatus
	stop   chan struct{}
	done   chan struct{}
	period time.Duration
}

// Start begins polling objects every second: hooks (which Helm waits for
// even without --wait; those it has not created yet are left out) and
// manifests, each given the release namespace as Helm applies it.
func Start(ctx context.Context, reader *kube.LiveReader, hooks, manifests []manifest.Object, display Display) *View {
	v := &View{display: display, now: time.Now, reader: reader, hooks: map[string]bool{},
		last: map[string]ObjectStatus{}, stop: make(chan struct{}), done: make(chan struct{}), period: time.Second}
	add := func(objs []manifest.Object, hook bool) {
		for _, o := range objs {
			if o.Unstructured == nil {
				continue
			}
			u := o.DeepCopy()
			reader.DefaultNamespace(u)
			v.objects = append(v.objects, u)
			if hook {
				v.hooks[manifest.RefOf(u).Key()] = true
			}
		}
	}
	add(hooks, true)
	add(manifests, false)
	go v.run(ctx)
	return v
}

func (v *View) run(ctx context.Context) {
	defer close(v.done)
	t := time.NewTicker(v.period)
	defer t.Stop()
	for {
		v.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-v.stop:
			return
		case <-t.C:
		}
	}
}

// Stop ends the polling and returns the last states of objects that are
// not Current.
func (v *View) Stop(ctx context.Context) []ObjectStatus {
	close(v.stop)
	<-v.done
	v.poll(ctx) // the final state, for the summary
	v.mu.Lock()
	defer v.mu.Unlock()
	var pending []ObjectStatus
	for _, s := range v.last {
		if s.Status != kstatus.CurrentStatus {
			pending = append(pending, s)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].Ref.String() < pending[j].Ref.String() })
	return pending
}

func (v *View) poll(ctx context.Context) {
	live, err := v.reader.ReadAll(ctx, v.objects)
	if err != nil {
		return // a passing read error; the next tick tries again
	}
	var states []ObjectStatus
	for _, o := range v.objects {
		if s, ok := v.status(o, live.Objects[manifest.RefOf(o).Key()]); ok {
			states = append(states, s)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	redraw := v.display.Live()
	if redraw {
		var notCurrent []ObjectStatus
		for _, s := range states {
			if s.Status != kstatus.CurrentStatus {
				notCurrent = append(notCurrent, s)
			}
		}
		v.display.Redraw(notCurrent)
	}
	for _, s := range states {
		key := s.Ref.Key()
		prev, seen := v.last[key]
		v.last[key] = s
		// Plain lines: changes only, and nothing about objects Helm has not
		// created yet or that are ready the first time they are seen.
		firstSight := !seen || prev.Status == kstatus.NotFoundStatus
		if redraw || s.Status == kstatus.NotFoundStatus || (seen && prev.Line() == s.Line()) || (firstSight && s.Status == kstatus.CurrentStatus) {
			continue
		}
		v.display.Changed(v.now(), s)
	}
}

// status computes an object's kstatus from its live state; hooks that
// Helm has not created (or has deleted) yet are left out.
func (v *View) status(o, live *unstructured.Unstructured) (ObjectStatus, bool) {
	ref := manifest.RefOf(o)
	s := ObjectStatus{Ref: ref, Hook: v.hooks[ref.Key()]}
	if live == nil {
		if s.Hook {
			return s, false
		}
		s.Status, s.Message = kstatus.NotFoundStatus, "not created yet"
		return s, true
	}
	res, err := kstatus.Compute(live)
	if err != nil {
		s.Status, s.Message = kstatus.UnknownStatus, err.Error()
		return s, true
	}
	s.Status, s.Message, s.Pods = res.Status, res.Message, podsReady(live)
	return s, true
}

// podsReady is "ready/desired" for the workload kinds that have pods.
func podsReady(u *unstructured.Unstructured) string {
	switch u.GetKind() {
	case "Deployment", "StatefulSet", "ReplicaSet":
		want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		if !found {
			want = 1
		}
		ready, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
		return fmt.Sprintf("%d/%d", ready, want)
	case "DaemonSet":
		want, _, _ := unstructured.NestedInt64(u.Object, "status", "desiredNumberScheduled")
		ready, _, _ := unstructured.NestedInt64(u.Object, "status", "numberReady")
		return fmt.Sprintf("%d/%d", ready, want)
	}
	return ""
}

// NotReady is an object that was not ready when a wait ended, and why:
// its latest Warning events and, for a failed Job, its pods' last lines.
type NotReady struct {
	ObjectStatus
	Events  []string
	LogTail []string
}

// Explain gathers why each pending object is not ready.
func Explain(ctx context.Context, cs kubernetes.Interface, pending []ObjectStatus) []NotReady {
	out := make([]NotReady, 0, len(pending))
	for _, s := range pending {
		n := NotReady{ObjectStatus: s}
		if cs != nil {
			n.Events = warningEvents(ctx, cs, s.Ref, 3)
			if s.Ref.Kind == "Job" && s.Status == kstatus.FailedStatus {
				n.LogTail = jobLogTail(ctx, cs, s.Ref, 10)
			}
		}
		out = append(out, n)
	}
	return out
}

// warningEvents are an object's latest Warning events, newest first.
func warningEvents(ctx context.Context, cs kubernetes.Interface, ref manifest.Ref, n int) []string {
	sel := fmt.Sprintf("involvedObject.name=%s,involvedObject.kind=%s,type=Warning", ref.Name, ref.Kind)
	list, err := cs.CoreV1().Events(ref.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return EventTime(items[i]).After(EventTime(items[j])) })
	var out []string
	for i := 0; i < len(items) && i < n; i++ {
		out = append(out, fmt.Sprintf("Warning %s: %s", items[i].Reason, strings.TrimSpace(items[i].Message)))
	}
	return out
}

// EventTime is when an event last happened, whichever field says so.
func EventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// jobLogTail is the last lines logged by a Job's newest pod.
func jobLogTail(ctx context.Context, cs kubernetes.Interface, ref manifest.Ref, n int64) []string {
	pods, err := cs.CoreV1().Pods(ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + ref.Name})
	if err != nil || len(pods.Items) == 0 {
		return nil
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.After(pods.Items[j].CreationTimestamp.Time)
	})
	data, err := cs.CoreV1().Pods(ref.Namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{TailLines: &n}).DoRaw(ctx)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}
