package cmd

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/test/testenv"
)

var clockTime = regexp.MustCompile(`\b\d\d:\d\d:\d\d\b`)

// asyncCozyhr runs cozyhr in the background; the result arrives on the channel.
func asyncCozyhr(t *testing.T, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- cozyhr(t, args...) }()
	return ch
}

// watchedCozyhr runs cozyhr in the background, its stderr readable while
// it runs, so that a test waits for what the command says rather than for
// a time.
func watchedCozyhr(t *testing.T, args ...string) (<-chan result, *lockedBuffer) {
	ch := make(chan result, 1)
	errOut := &lockedBuffer{}
	go func() {
		var out bytes.Buffer
		err := Execute(context.Background(), append([]string{"--kubeconfig", env.Kubeconfig}, args...), IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: errOut})
		ch <- result{out: out.String(), err: errOut.String(), code: ExitCode(err)}
	}()
	return ch, errOut
}

// waitForObject polls until obj exists.
func waitForObject(t *testing.T, key client.ObjectKey, obj client.Object) {
	t.Helper()
	err := testenv.WaitFor(context.Background(), 30*time.Second, func(ctx context.Context) (bool, error) {
		return env.Client.Get(ctx, key, obj) == nil, nil
	})
	if err != nil {
		t.Fatalf("%s never appeared: %v", key, err)
	}
}

// No kubelet runs here, so a Deployment never becomes ready: the wait names
// it, with kstatus's reason, within the timeout.
func TestApplyWaitNamesWhatIsNotReady(t *testing.T) {
	dir := chartCopy(t, "wait-not-ready")
	start := time.Now()
	r := cozyhr(t, "-C", dir, "apply", "--wait", "--timeout", "4s", "--set", "widget.enabled=false").expect(t, 1)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the wait took %s for a 4s timeout", took)
	}
	if !strings.Contains(r.err, "Not ready:\n  ✗ Deployment hello: InProgress, pods ready 0/1") {
		t.Errorf("the wait does not name the Deployment that is not ready:\n%s", r.err)
	}
	// The plain (piped) view: one timestamped line per change.
	var view []string
	for _, l := range strings.Split(r.err, "\n") {
		if clockTime.MatchString(l) {
			view = append(view, clockTime.ReplaceAllString(l, "HH:MM:SS"))
		}
	}
	golden(t, "wait-plain-view", strings.Join(view, "\n")+"\n")
}

// Objects the test makes ready (their status patched, as a kubelet and the
// controllers would) are reported Current, and apply --wait succeeds.
func TestApplyWaitReportsObjectsMadeReady(t *testing.T) {
	const ns = "wait-ready"
	dir := chartCopy(t, ns)
	done, progress := watchedCozyhr(t, "-C", dir, "apply", "--wait", "--timeout", "60s", "--set", "widget.enabled=false")
	dep := &appsv1.Deployment{}
	waitForObject(t, client.ObjectKey{Namespace: ns, Name: "hello"}, dep)
	waitForOutput(t, progress, "Deployment hello: InProgress") // the view saw it in progress
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := env.Client.Status().Update(context.Background(), dep); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("apply --wait did not return after the Deployment became ready")
	}
	r.expect(t, 0)
	if !strings.Contains(r.err, "Deployment hello: InProgress") || !strings.Contains(r.err, "Deployment hello: Current") {
		t.Errorf("the view does not show the Deployment going from InProgress to Current:\n%s", r.err)
	}
}

// A hook Job that fails is shown with its state while Helm waits for it,
// and named when apply fails.
func TestFailingHookJobShowsItsState(t *testing.T) {
	const ns = "wait-hook-job"
	dir := chartCopy(t, ns)
	writeFile(t, filepath.Join(dir, "templates", "hook-job.yaml"), `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
          command: ["false"]
`)
	done, progress := watchedCozyhr(t, "-C", dir, "apply", "--timeout", "60s")
	job := &batchv1.Job{}
	waitForObject(t, client.ObjectKey{Namespace: ns, Name: "hello-migrate"}, job)
	waitForOutput(t, progress, "Job hello-migrate: InProgress")
	now := metav1.Now()
	job.Status = batchv1.JobStatus{
		StartTime: &now, Failed: 1,
		Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		},
	}
	if err := env.Client.Status().Update(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("apply did not return after the hook Job failed")
	}
	r.expect(t, 1)
	for _, want := range []string{"Job hello-migrate: InProgress", "(hook)", "✗ Job hello-migrate: Failed"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
}

// history lists both revisions with who wrote them; rollback goes back to
// the first, suspends the HelmRelease and records the rollback as
// helm-controller does.
func TestHistoryAndRollback(t *testing.T) {
	const ns = "history-rollback"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{"message":"one"}`)
	cozyhr(t, "-C", dir, "apply", "--set", "widget.enabled=false").expect(t, 0)
	cozyhr(t, "-C", dir, "apply", "--set", "widget.enabled=false", "--set", "replicas=2").expect(t, 0)

	h := cozyhr(t, "-C", dir, "history").expect(t, 0)
	golden(t, "history-two-revisions", regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAllString(h.out, "TIMESTAMP           "))

	cozyhr(t, "-C", dir, "resume").expect(t, 0)
	r := cozyhr(t, "-C", dir, "rollback").expect(t, 0)
	if !strings.Contains(r.err, "back from revision 2 to 1: now revision 3") || !strings.Contains(r.err, "Suspended HelmRelease "+ns+"/hello") {
		t.Errorf("rollback output:\n%s%s", r.out, r.err)
	}
	hr := getHelmRelease(t, ns, "hello")
	if !hr.Spec.Suspend {
		t.Error("rollback did not suspend the HelmRelease")
	}
	rem := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.RemediatedCondition)
	ready := apimeta.FindStatusCondition(hr.Status.Conditions, "Ready")
	wantMsg := "Helm rollback to previous release " + ns + "/hello.v1 with chart hello@0.1.0 succeeded"
	if rem == nil || rem.Status != metav1.ConditionTrue || rem.Reason != helmv2.RollbackSucceededReason || rem.Message != wantMsg {
		t.Errorf("Remediated: %+v", rem)
	}
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != helmv2.RollbackSucceededReason || ready.Message != wantMsg {
		t.Errorf("Ready: %+v", ready)
	}
	var got []string
	for _, s := range hr.Status.History {
		got = append(got, s.Status+"/"+string(s.Action)+"/v"+strconv.Itoa(s.Version))
	}
	if want := "deployed/rollback/v3 superseded/rollback/v2 superseded//v1"; strings.Join(got, " ") != want {
		t.Errorf("history %q, want %q", strings.Join(got, " "), want)
	}
	for _, s := range hr.Status.History {
		if s.Digest != storedReleaseDigest(t, ns, "hello", s.Version) {
			t.Errorf("snapshot v%d digest %s is not the stored release's", s.Version, s.Digest)
		}
	}
	if h := cozyhr(t, "-C", dir, "history", "-o", "json").expect(t, 0); strings.Count(h.out, `"writtenBy": "cozyhr"`) != 3 {
		t.Errorf("history does not say cozyhr wrote all three revisions:\n%s", h.out)
	}
	// The release is the first revision's again.
	dep := &appsv1.Deployment{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello"}, dep); err != nil || *dep.Spec.Replicas != 1 {
		t.Errorf("after rollback replicas %v, want 1 (%v)", dep.Spec.Replicas, err)
	}
}

// get --watch prints the HelmRelease's conditions as they change, and
// events lists what happened to it and its objects.
func TestGetWatchAndEvents(t *testing.T) {
	const ns = "watch-events"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	// The watch runs until the test has seen what it waits for, however
	// slow the machine: first the state before the apply, then Ready.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var watched lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Execute(ctx, []string{"--kubeconfig", env.Kubeconfig, "-C", dir, "get", "--watch"},
			IOStreams{In: strings.NewReader(""), Out: &watched, ErrOut: io.Discard})
	}()
	waitForOutput(t, &watched, "no conditions yet", "Ready=Unknown")
	cozyhr(t, "-C", dir, "apply", "--set", "widget.enabled=false").expect(t, 0)
	waitForOutput(t, &watched, "Ready=True (InstallSucceeded)")
	stop()
	if err := <-done; err != nil {
		t.Errorf("get --watch ended by its caller: %v", err)
	}

	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "hello.warn", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "hello", Namespace: ns},
		Type:           corev1.EventTypeWarning, Reason: "FailedCreate", Message: "quota exceeded",
		LastTimestamp: metav1.Now(),
	}
	if err := env.Client.Create(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	e := cozyhr(t, "-C", dir, "events").expect(t, 0)
	if !strings.Contains(e.out, "Warning") || !strings.Contains(e.out, "Deployment/hello") || !strings.Contains(e.out, "quota exceeded") {
		t.Errorf("events:\n%s", e.out)
	}
}

// waitForOutput waits until what a running command wrote holds any of
// wants.
func waitForOutput(t *testing.T, b *lockedBuffer, wants ...string) {
	t.Helper()
	err := testenv.WaitFor(context.Background(), 2*time.Minute, func(context.Context) (bool, error) {
		out := b.String()
		return slices.ContainsFunc(wants, func(w string) bool { return strings.Contains(out, w) }), nil
	})
	if err != nil {
		t.Fatalf("the output never held %q:\n%s", wants, b.String())
	}
}
