package normalize

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// IgnoreRule hides fields, as JSON pointers (RFC 6901), of the objects its
// target selects, from the diff. It has Flux's driftDetection.ignore shape.
type IgnoreRule struct {
	Paths  []string
	Target *IgnoreTarget // nil selects every object
	// Source says where the rule comes from, for --show-ignored.
	Source string
}

// IgnoreTarget selects objects as a kustomize selector does: group, version
// and kind exactly, name and namespace as anchored regular expressions, and
// label and annotation selectors.
type IgnoreTarget struct {
	Group, Version, Kind, Name, Namespace string
	LabelSelector, AnnotationSelector     string
}

// IgnoredField is one hidden difference, reported by --show-ignored.
type IgnoredField struct {
	Ref    manifest.Ref
	Path   string
	Source string
}

// ParseIgnoreRules reads rules as ParseIgnoreRule does, each with the
// source "FROM RULE" (FROM: where they were written, such as a flag).
func ParseIgnoreRules(rules []string, from string) ([]IgnoreRule, error) {
	var out []IgnoreRule
	for _, s := range rules {
		rule, err := ParseIgnoreRule(s)
		if err != nil {
			return nil, fmt.Errorf("%s %w", from, err)
		}
		rule.Source = from + " " + s
		out = append(out, rule)
	}
	return out, nil
}

// ParseIgnoreRule reads a rule written [KIND[/NAME]=]/json/pointer; the
// caller says in Source where it was written.
func ParseIgnoreRule(s string) (IgnoreRule, error) {
	rule := IgnoreRule{}
	target, pointer, found := strings.Cut(s, "=")
	if !found {
		target, pointer = "", s
	}
	if !strings.HasPrefix(pointer, "/") {
		return rule, fmt.Errorf("%q: want [KIND[/NAME]=]/json/pointer, such as Deployment/web=/spec/replicas", s)
	}
	rule.Paths = []string{pointer}
	if target != "" {
		kind, name, _ := strings.Cut(target, "/")
		rule.Target = &IgnoreTarget{Kind: kind, Name: name}
	}
	return rule, nil
}

// ConfigIgnoreRules converts .cozyhr.yaml diff.ignore.
func ConfigIgnoreRules(rules []config.IgnoreRule) []IgnoreRule {
	out := make([]IgnoreRule, 0, len(rules))
	for i, r := range rules {
		rule := IgnoreRule{Paths: r.Paths, Source: fmt.Sprintf(".cozyhr.yaml diff.ignore[%d]", i)}
		if t := r.Target; t != nil {
			rule.Target = &IgnoreTarget{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name,
				Namespace: t.Namespace, LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
		}
		out = append(out, rule)
	}
	return out
}

// HelmReleaseIgnoreRules converts spec.driftDetection.ignore, so that diff
// hides what helm-controller's drift detection hides.
func HelmReleaseIgnoreRules(hr *helmv2.HelmRelease) []IgnoreRule {
	if hr == nil || hr.Spec.DriftDetection == nil {
		return nil
	}
	var out []IgnoreRule
	for i, r := range hr.Spec.DriftDetection.Ignore {
		rule := IgnoreRule{Paths: r.Paths, Source: fmt.Sprintf("HelmRelease %s/%s spec.driftDetection.ignore[%d]", hr.Namespace, hr.Name, i)}
		if t := r.Target; t != nil {
			rule.Target = &IgnoreTarget{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name,
				Namespace: t.Namespace, LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
		}
		out = append(out, rule)
	}
	return out
}

// selects reports whether the target selects obj.
func (t *IgnoreTarget) selects(obj *unstructured.Unstructured) (bool, error) {
	if t == nil {
		return true, nil
	}
	gvk := obj.GroupVersionKind()
	if (t.Group != "" && t.Group != gvk.Group) || (t.Version != "" && t.Version != gvk.Version) || (t.Kind != "" && t.Kind != gvk.Kind) {
		return false, nil
	}
	for _, m := range []struct{ pattern, value string }{{t.Name, obj.GetName()}, {t.Namespace, obj.GetNamespace()}} {
		if m.pattern == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + m.pattern + ")$")
		if err != nil {
			return false, fmt.Errorf("ignore target %q: %w", m.pattern, err)
		}
		if !re.MatchString(m.value) {
			return false, nil
		}
	}
	for _, s := range []struct {
		selector string
		set      map[string]string
	}{{t.LabelSelector, obj.GetLabels()}, {t.AnnotationSelector, obj.GetAnnotations()}} {
		if s.selector == "" {
			continue
		}
		sel, err := labels.Parse(s.selector)
		if err != nil {
			return false, fmt.Errorf("ignore target selector %q: %w", s.selector, err)
		}
		if !sel.Matches(labels.Set(s.set)) {
			return false, nil
		}
	}
	return true, nil
}

// ApplyIgnoreRules removes the ignored pointers from both sides of a pair
// and returns the fields where the two sides differed.
func ApplyIgnoreRules(rules []IgnoreRule, obj *unstructured.Unstructured, live, desired map[string]any) ([]IgnoredField, error) {
	var hidden []IgnoredField
	for _, r := range rules {
		ok, err := r.Target.selects(obj)
		if err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Source, err)
			}
			continue
		}
		for _, p := range r.Paths {
			tokens, err := parsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Source, err)
			}
			lv, lok := removePointer(live, tokens)
			dv, dok := removePointer(desired, tokens)
			if (lok || dok) && (lok != dok || !reflect.DeepEqual(lv, dv)) {
				hidden = append(hidden, IgnoredField{Ref: manifest.RefOf(obj), Path: p, Source: r.Source})
			}
		}
	}
	return hidden, nil
}

func parsePointer(p string) ([]string, error) {
	if p == "" || p == "/" {
		return nil, fmt.Errorf("JSON pointer %q would ignore the whole object", p)
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, part := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// removePointer deletes the value at tokens from obj, returning it.
func removePointer(obj map[string]any, tokens []string) (any, bool) {
	if obj == nil {
		return nil, false
	}
	var cur any = obj
	for i, tok := range tokens {
		last := i == len(tokens)-1
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			if last {
				delete(c, tok)
				return v, true
			}
			cur = v
		case []any:
			idx, err := strconv.Atoi(tok)
			if err != nil || idx < 0 || idx >= len(c) {
				return nil, false
			}
			if last {
				// Lists cannot lose an element in place without shifting;
				// blank it on both sides instead.
				v := c[idx]
				c[idx] = nil
				return v, true
			}
			cur = c[idx]
		default:
			return nil, false
		}
	}
	return nil, false
}
