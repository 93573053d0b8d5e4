package readiness_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/readiness"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// lines is a plain (not live) Display that keeps each change it is told.
type lines struct {
	mu      sync.Mutex
	changed []readiness.ObjectStatus
	first   chan struct{}
	once    sync.Once
}

func (l *lines) Live() bool                      { return false }
func (l *lines) Redraw([]readiness.ObjectStatus) { panic("a plain display is never redrawn") }
func (l *lines) Changed(_ time.Time, s readiness.ObjectStatus) {
	l.mu.Lock()
	l.changed = append(l.changed, s)
	l.mu.Unlock()
	l.once.Do(func() { close(l.first) })
}

const objectsYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Service
metadata:
  name: not-yet
spec:
  ports: [{port: 80}]
`

const hookYAML = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: busybox}]
`

func TestTheViewShowsWhatIsNotReadyAndWhy(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "readiness"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ParseManifests([]byte(objectsYAML))
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := manifest.ParseManifests([]byte(hookYAML))
	if err != nil {
		t.Fatal(err)
	}
	// The ConfigMap and the Deployment exist (no controller makes the
	// Deployment's pods here); the Service and the hook do not yet.
	for _, o := range objs[:2] {
		u := o.DeepCopy()
		u.SetNamespace(ns)
		if err := env.Client.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	cluster := env.Cluster()
	reader, err := cluster.NewLiveReader(ns, "", 4)
	if err != nil {
		t.Fatal(err)
	}
	display := &lines{first: make(chan struct{})}
	view := readiness.Start(ctx, reader, hooks, objs, display)
	<-display.first
	pending := view.Stop(ctx)

	byKind := map[string]readiness.ObjectStatus{}
	for _, s := range pending {
		byKind[s.Ref.Kind] = s
	}
	if _, ok := byKind["ConfigMap"]; ok {
		t.Error("a ConfigMap is ready as soon as it exists")
	}
	if _, ok := byKind["Job"]; ok {
		t.Error("a hook Helm has not created yet is waited for")
	}
	d := byKind["Deployment"]
	if d.Status != kstatus.InProgressStatus || d.Pods != "0/2" || d.Ref.Namespace != ns {
		t.Errorf("Deployment: %+v", d)
	}
	if svc := byKind["Service"]; svc.Status != kstatus.NotFoundStatus || svc.Message != "not created yet" {
		t.Errorf("Service: %+v", svc)
	}
	if line := d.Line(); !strings.HasPrefix(line, "Deployment web: InProgress, pods ready 0/2") {
		t.Errorf("line %q", line)
	}
	display.mu.Lock()
	for _, s := range display.changed {
		if s.Status == kstatus.NotFoundStatus || s.Ref.Kind == "ConfigMap" {
			t.Errorf("a plain display was told of %s %s", s.Ref, s.Status)
		}
	}
	display.mu.Unlock()

	// Why: the Deployment's Warning events, newest first.
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	for i, reason := range []string{"Older", "Newer"} {
		ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-" + strings.ToLower(reason)},
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web", Namespace: ns}, Type: corev1.EventTypeWarning,
			Reason: reason, Message: "  something " + reason + " ", LastTimestamp: metav1.NewTime(time.Now().Add(time.Duration(i) * time.Minute))}
		if err := env.Client.Create(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	explained := readiness.Explain(ctx, cs, []readiness.ObjectStatus{d})
	if len(explained) != 1 || strings.Join(explained[0].Events, "|") != "Warning Newer: something Newer|Warning Older: something Older" {
		t.Errorf("events %q", explained[0].Events)
	}
	if none := readiness.Explain(ctx, nil, []readiness.ObjectStatus{d}); len(none) != 1 || none[0].Events != nil {
		t.Errorf("no client: %+v", none)
	}
}

func TestLineAndEventTime(t *testing.T) {
	s := readiness.ObjectStatus{Ref: manifest.Ref{Kind: "Job", Name: "migrate"}, Status: kstatus.FailedStatus, Message: "BackoffLimitExceeded", Hook: true}
	if got := s.Line(); got != "Job migrate: Failed: BackoffLimitExceeded (hook)" {
		t.Errorf("line %q", got)
	}
	now := time.Now()
	created := corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))}}
	if !readiness.EventTime(created).Equal(created.CreationTimestamp.Time) {
		t.Error("an event with no other time is as old as the object")
	}
	micro := created
	micro.EventTime = metav1.NewMicroTime(now.Add(-time.Minute))
	if !readiness.EventTime(micro).Equal(micro.EventTime.Time) {
		t.Error("eventTime wins over creation")
	}
	last := micro
	last.LastTimestamp = metav1.NewTime(now)
	if !readiness.EventTime(last).Equal(last.LastTimestamp.Time) {
		t.Error("lastTimestamp wins")
	}
}
