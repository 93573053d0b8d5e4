package cmd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// badCase is one bad input: the command line after -C DIR, the exit code,
// and the words the message must hold (the flag, file or field, and what
// to do).
type badCase struct {
	category string
	args     []string
	code     int
	words    []string
}

// badCases are the suite: every flag that takes a duration, a count, a
// selector or a path, given what it cannot mean, on every command that has
// it; output formats; values overrides; NAMEs; flag conflicts; and files
// that are not what they should be.
func badCases(t *testing.T, dir string) []badCase {
	t.Helper()
	// The commands, and what each takes, that the generated cases cover.
	chartCommands := []string{"show", "diff", "apply", "delete", "get", "suspend", "resume", "reconcile", "values", "history", "events", "rollback", "unlock", "update", "image"}
	manyCommands := []string{"show", "diff", "apply", "delete", "get", "update", "image", "suspend", "resume", "reconcile"}
	nameCommands := []string{"show", "diff", "apply", "delete", "suspend", "resume", "reconcile", "values", "history", "events", "get", "unlock"}
	valueCommands := []string{"show", "diff", "apply", "values"}
	tmp := t.TempDir()
	listValues := filepath.Join(tmp, "list.yaml")
	writeFile(t, listValues, "- a\n- b\n")
	brokenValues := filepath.Join(tmp, "broken.yaml")
	writeFile(t, brokenValues, "a: [\n")
	missing := filepath.Join(tmp, "missing.yaml")
	var cs []badCase
	add := func(category string, words []string, args ...string) {
		cs = append(cs, badCase{category: category, args: args, code: ExitFailure, words: words})
	}

	// Durations: negative (kubectl would read no limit) and not a duration.
	for _, c := range chartCommands {
		add("duration", []string{"--request-timeout -1s", "cannot be negative"}, c, "--request-timeout", "-1s")
		add("duration", []string{"--request-timeout", "invalid argument"}, c, "--request-timeout", "soon")
	}
	for _, c := range [][]string{{"apply", "--timeout"}, {"delete", "--timeout"}, {"rollback", "--timeout"}, {"reconcile", "--timeout"}, {"resume", "--timeout"}, {"get", "--watch-timeout"}} {
		add("duration", []string{c[1] + " -5m", "cannot be negative"}, c[0], c[1], "-5m")
		add("duration", []string{c[1], "invalid argument"}, c[0], c[1], "5 minutes")
	}
	// Counts.
	for _, c := range manyCommands {
		add("count", []string{"--concurrency", "at least 1"}, c, "--concurrency", "0")
		add("count", []string{"--concurrency", "at least 1"}, c, "--concurrency", "-2")
		add("count", []string{"--concurrency", "invalid argument"}, c, "--concurrency", "many")
	}
	add("count", []string{"--context-lines", "0 or more"}, "diff", "-U", "-1")
	add("count", []string{"--context-lines", "invalid argument"}, "diff", "--context-lines", "few")
	// Selectors.
	for _, c := range manyCommands {
		add("selector", []string{"-L", "a in (b"}, c, "-L", "a in (b")
	}
	add("selector", []string{"-l", "a in (b"}, "diff", "-l", "a in (b")
	add("selector", []string{"-l", "a in (b"}, "list", "-l", "a in (b")
	// Paths.
	for _, c := range chartCommands {
		add("path", []string{"--config", "no such file"}, c, "--config", missing)
		add("path", []string{"-C takes the chart directory, not a file"}, "-C", filepath.Join(dir, "Chart.yaml"), c)
	}
	for _, c := range valueCommands {
		add("path", []string{"-f", "no such file"}, c, "-f", missing)
		add("path", []string{"-f", "is a directory"}, c, "-f", tmp)
		add("path", []string{"-f", "holds a list at its top", "a values file is a mapping"}, c, "-f", listValues)
		add("path", []string{"-f", "broken.yaml"}, c, "-f", brokenValues)
		add("path", []string{"--set-file", "no such file"}, c, "--set-file", "k="+missing)
	}
	add("path", []string{"-R", "no chart below it"}, "diff", "-R", tmp)
	add("path", []string{"-C", "matches no chart directory"}, "-C", filepath.Join(tmp, "nothing-*"), "diff")
	// Values overrides Helm 4 would take without a word.
	for _, c := range valueCommands {
		add("values", []string{"--set", "no key before ="}, c, "--set", "=x")
		add("values", []string{"--set", "sets no value"}, c, "--set", "a[=1")
		add("values", []string{"--set-string", "sets no value"}, c, "--set-string", "a[=1")
		add("values", []string{"--set-literal", "no key before ="}, c, "--set-literal", "=x")
		add("values", []string{"--set-json", "a={"}, c, "--set-json", "a={")
	}
	// NAMEs that cannot name a HelmRelease.
	for _, c := range nameCommands {
		add("name", []string{`NAME "Hello"`, "lower case"}, c, "Hello")
	}
	// Output formats.
	for _, c := range []string{"show", "diff", "values", "history", "get", "list", "version"} {
		add("format", []string{`unknown output format "bogus"`, "use "}, c, "-o", "bogus")
	}
	add("format", []string{"unknown output format", "use table or json"}, "plugins", "list", "-o", "bogus")
	// Conflicts and flags that need another.
	add("conflict", []string{"--brief and --unified", "give one"}, "diff", "--brief", "--unified")
	add("conflict", []string{"--brief/--unified and -o json"}, "diff", "--brief", "-o", "json")
	add("conflict", []string{"--all goes with -R"}, "diff", "--all")
	add("conflict", []string{"NAME names one HelmRelease"}, "diff", "-R", filepath.Dir(dir), "--all", "hello")
	add("conflict", []string{"--config names one chart's file"}, "diff", "-R", filepath.Dir(dir), "--all", "--config", filepath.Join(dir, ".cozyhr.yaml"))
	add("conflict", []string{"works on one chart"}, "values", "-R", filepath.Dir(dir), "--all")
	for _, c := range []string{"diff", "apply", "values"} {
		add("conflict", []string{"--kube-version", "only with --offline"}, c, "--kube-version", "1.30.0")
	}
	add("conflict", []string{`--kube-version "one"`}, "show", "--offline", "--kube-version", "one")
	add("conflict", []string{`--ignore "Deployment=spec/replicas"`, "json/pointer"}, "diff", "--ignore", "Deployment=spec/replicas")
	for _, c := range []string{"show", "diff", "apply"} {
		add("flag", []string{"unknown flag: --bogus"}, c, "--bogus")
	}
	// A namespace apply may not create.
	add("namespace", []string{`namespace "nowhere" does not exist`, "kubectl create namespace nowhere", "--create-namespace"}, "apply", "--plain", "-n", "nowhere", "--create-namespace=false", "--yes")
	// Git revisions: the chart here is in no git repository.
	add("revision", []string{"is not in a git repository"}, "diff", "--base", "main")
	add("revision", []string{"--head goes with --base"}, "diff", "--head", "main")
	add("revision", []string{"--server-side compares with the cluster and --base"}, "diff", "--base", "main", "--server-side")
	add("revision", []string{"--base compares two revisions and --instances"}, "diff", "--base", "main", "--instances")
	add("revision", []string{"--base is required"}, "changed")
	add("revision", []string{"is not in a git repository"}, "changed", "--base", "main")
	add("revision", []string{`unknown output format "bogus": use text or json`}, "changed", "--base", "main", "-o", "bogus")
	// Instances: a HelmRelease selector that is no selector.
	add("instances", []string{"-l", "a in (b"}, "diff", "--instances", "-l", "a in (b")
	add("instances", []string{"with --instances the report is", "not brief"}, "diff", "--instances", "-o", "brief")
	add("instances", []string{"--instances renders with the live HelmReleases' values", "leave out --offline"}, "show", "--instances", "--offline")
	// Value cases and golden files.
	add("golden", []string{"--check compares the golden files", "--golden DIR"}, "show", "--check")
	add("golden", []string{"--golden renders", "leave out --instances and --case"}, "show", "--golden", tmp, "--instances")
	config := func(name, text string) string {
		path := filepath.Join(tmp, name+".yaml")
		writeFile(t, path, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\n"+text)
		return path
	}
	add("case", []string{`no value case "nope"`, "it names ha"}, "show", "--offline", "--case", "nope", "--config", config("cases", "cases:\n  ha: {values: {a: 1}}\n"))
	add("case", []string{"cases.Bad_Name", "a name here is a DNS label"}, "show", "--offline", "--config", config("case-name", "cases:\n  Bad_Name: {values: {a: 1}}\n"))
	add("case", []string{"cases.default", "other than default"}, "show", "--offline", "--config", config("case-default", "cases:\n  default: {values: {a: 1}}\n"))
	add("case", []string{"cases.ha.valuez", `did you mean "values"?`}, "show", "--offline", "--config", config("case-field", "cases:\n  ha: {valuez: {a: 1}}\n"))
	add("case", []string{"labels.bad key!", "a name here is a label key"}, "show", "--offline", "--config", config("label-key", "labels:\n  \"bad key!\": x\n"))
	add("helmrelease-file", []string{"helmRelease.file", "no such file"}, "show", "--offline", "--config", config("hr-missing", "helmRelease: {file: "+missing+"}\n"))
	add("helmrelease-file", []string{"helmRelease.file", "no HelmRelease in it"}, "show", "--offline", "--config", config("hr-none", "helmRelease: {file: "+listValues+"}\n"))
	add("flag", []string{"unknown command"}, "frobnicate")
	add("flag", []string{"--canary 1 goes with --instances", "add --instances, or leave --canary out"}, "apply", "--canary", "1")
	add("flag", []string{`--api-versions "///" is not an API version`, "group/version"}, "show", "--offline", "--api-versions", "///")
	add("flag", []string{`--api-versions "apps/v1/deployment" is not an API version`}, "show", "--offline", "--api-versions", "v1,apps/v1/deployment")
	twice := filepath.Join(tmp, "twice.yaml")
	writeFile(t, twice, "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: hello}\nspec: {interval: 1h}\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: hello}\nspec: {interval: 2h}\n")
	add("helmrelease-file", []string{"documents 1 and 2 both declare HelmRelease", "keep one"}, "show", "--offline", "--config", config("hr-twice", "helmRelease: {file: "+twice+"}\n"))
	add("flag", []string{"--parts writes a Markdown review", "add -o markdown"}, "diff", "--parts", tmp)
	add("config-yaml", []string{"yaml-open.yaml:5: invalid YAML", "check the indentation and brackets"}, "show", "--offline", "--config", config("yaml-open", "release:\n  name: x\n  namespace: [y\n"))
	loop := chartCopy(t, "bad-loop")
	if err := os.Symlink("..", filepath.Join(loop, "templates", "up")); err != nil {
		t.Fatal(err)
	}
	add("chart", []string{"templates/up is a symbolic link to .., a directory that holds it", "remove the link, or list it in the chart's .helmignore"}, "-C", loop, "show", "--offline")
	nested := chartCopy(t, "bad-nested")
	writeFile(t, filepath.Join(nested, "Chart.yaml"), "apiVersion: v2\nname: hello\nversion: 0.1.0\ndependencies:\n- {name: dep, version: 0.1.0, repository: file://../dep}\n")
	if err := os.MkdirAll(filepath.Join(nested, "charts", "dep"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(nested, "charts", "dep", "Chart.yaml"), "apiVersion: v2\nname: dep\nversion: 0.1.0\ndependencies:\n- {name: crds, version: 0.1.0, repository: file://../crds}\n")
	add("chart", []string{"charts/dep: found in Chart.yaml, but missing in charts/ directory: crds", "helm dependency build"}, "-C", nested, "show", "--offline")
	return cs
}

// TestBadInputChangesNothing runs every bad input against an installed
// release in Flux mode and checks each exits as stated, says what it must,
// and changes nothing: not a file of the chart (path, mode, digest), not a
// namespace, Lease, release Secret or the HelmRelease.
func TestBadInputChangesNothing(t *testing.T) {
	const ns = "bad-input"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	before := worldState(t, dir, ns)
	cases := badCases(t, dir)
	if len(cases) < 150 {
		t.Errorf("the suite has %d cases; it keeps at least 150", len(cases))
	}
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.category]++
		t.Run(c.category+"/"+strings.Join(c.args, "_"), func(t *testing.T) {
			args := c.args
			// Cases that select charts themselves say so; the others work
			// on the installed chart.
			if !slices.Contains(args, "-C") && !slices.Contains(args, "-R") {
				args = append([]string{"-C", dir}, args...)
			}
			r := cozyhr(t, args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, c.code, r.out, r.err)
			}
			for _, w := range c.words {
				if !strings.Contains(r.err, w) {
					t.Errorf("the message lacks %q:\n%s", w, r.err)
				}
			}
			if strings.Contains(r.err, "panic") || strings.Contains(r.err, "goroutine ") {
				t.Errorf("a stack trace:\n%s", r.err)
			}
			if after := worldState(t, dir, ns); after != before {
				t.Errorf("something changed:\n%s", firstDifference(before, after))
				before = after
			}
		})
	}
	var keys []string
	for k := range counts {
		keys = append(keys, fmt.Sprintf("%s %d", k, counts[k]))
	}
	sort.Strings(keys)
	t.Logf("%d bad inputs: %s", len(cases), strings.Join(keys, ", "))
}

// worldState is what a bad input must not change, as text: every path of
// the chart with its mode and digest, every namespace, every Lease, the
// release's Secrets and the HelmRelease, with their resource versions.
func worldState(t *testing.T, dir, ns string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		fmt.Fprintf(&b, "file %s %s %s\n", strings.TrimPrefix(path, dir), info.Mode(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var nss corev1.NamespaceList
	if err := env.Client.List(ctx, &nss); err != nil {
		t.Fatal(err)
	}
	for _, n := range nss.Items {
		fmt.Fprintf(&b, "namespace %s\n", n.Name)
	}
	var leases coordinationv1.LeaseList
	if err := env.Client.List(ctx, &leases, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Items {
		fmt.Fprintf(&b, "lease %s %s\n", l.Name, l.ResourceVersion)
	}
	var secrets corev1.SecretList
	if err := env.Client.List(ctx, &secrets, client.InNamespace(ns), client.MatchingLabels{"owner": "helm"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		fmt.Fprintf(&b, "secret %s %s\n", s.Name, s.ResourceVersion)
	}
	hr := &helmv2.HelmRelease{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, hr); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "helmrelease %s suspend=%t\n", hr.ResourceVersion, hr.Spec.Suspend)
	return b.String()
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("before: %s\nafter:  %s", al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines before, %d after", len(al), len(bl))
}
