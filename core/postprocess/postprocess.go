// Package postprocess is the stage between render and diff: the
// PostProcessor interface, the chain as a Helm post-renderer, and the
// built-ins (kustomize) and plugin adapter that implement it.
package postprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/plugins/host"
)

// ReleaseInfo tells post-processors which release they work for.
type ReleaseInfo struct {
	Name      string
	Namespace string
	// HelmRelease is set in Flux mode: the live HelmRelease that owns the
	// release.
	HelmRelease *types.NamespacedName
	// PostRenderers and CommonMetadata are the HelmRelease's, in Flux mode.
	PostRenderers  []helmv2.PostRenderer
	CommonMetadata *helmv2.CommonMetadata
	// PostRenderStrategy says which templates Helm hands to post-renderers:
	// combined (Helm 4's default: resources and hooks in one stream),
	// separate (two streams) or nohooks (resources only, as Helm 3).
	PostRenderStrategy helmv2.PostRenderStrategy
}

// PostProcessor rewrites rendered manifests before diff and apply, as Helm
// post-renderers and helm-controller's post-render do. Built-ins and plugins
// implement it alike.
type PostProcessor interface {
	Name() string
	PostProcess(ctx context.Context, rel ReleaseInfo, objs []manifest.Object) (Result, error)
}

// Selective is implemented by post-processors that do nothing for some
// releases (Flux's post-render in plain Helm mode). When every processor is
// idle, Helm runs no post-renderer at all, and a render printed as text
// need not be parsed.
type Selective interface {
	AppliesTo(rel ReleaseInfo) bool
}

// Result is a post-processor's output.
type Result struct {
	Objects  []manifest.Object
	Warnings []string
}

// Run runs each processor in order over the whole stream.
func Run(ctx context.Context, pps []PostProcessor, rel ReleaseInfo, objs []manifest.Object) ([]manifest.Object, []string, error) {
	var warnings []string
	for _, pp := range pps {
		res, err := pp.PostProcess(ctx, rel, objs)
		var pluginErr *host.Error
		if errors.As(err, &pluginErr) {
			return nil, warnings, err // it names the plugin and stage already
		} else if err != nil {
			return nil, warnings, fmt.Errorf("post-process %s: %w", pp.Name(), err)
		}
		for _, w := range res.Warnings {
			warnings = append(warnings, pp.Name()+": "+w)
		}
		objs = res.Objects
	}
	return objs, warnings, nil
}

// Chain is the post-process chain as a Helm post-renderer: one YAML
// stream in, one out. It remembers each stream it answered, so that Helm's
// own post-render during apply gets exactly what diff compared, without
// running the chain (and its plugins) a second time.
type Chain struct {
	ctx   context.Context
	chain []PostProcessor
	rel   ReleaseInfo

	mu       sync.Mutex
	answers  map[string][]byte
	warnings []string
}

// NewChain makes the chain of pps for rel.
func NewChain(ctx context.Context, pps []PostProcessor, rel ReleaseInfo) *Chain {
	return &Chain{ctx: ctx, chain: pps, rel: rel, answers: map[string][]byte{}}
}

// Run implements Helm's postrenderer.PostRenderer.
func (p *Chain) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	p.mu.Lock()
	answer, ok := p.answers[in.String()]
	p.mu.Unlock()
	if ok {
		return bytes.NewBuffer(slices.Clone(answer)), nil
	}
	objs, err := manifest.ParseManifests(in.Bytes())
	if err != nil {
		return nil, fmt.Errorf("post-render input: %w", err)
	}
	objs, warnings, err := Run(p.ctx, p.chain, p.rel, objs)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := manifest.WriteManifests(&out, objs); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.answers[in.String()] = slices.Clone(out.Bytes())
	p.warnings = append(p.warnings, warnings...)
	p.mu.Unlock()
	return &out, nil
}

// Answers are the streams the chain was given and what it returned:
// plain data a later Chain can be Seeded with, so that Helm's own
// post-render during apply gets exactly what diff compared without the
// post-processors (and their plugins) running again.
func (p *Chain) Answers() map[string][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.answers)
}

// Seed gives the chain answers it has already computed.
func (p *Chain) Seed(answers map[string][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	maps.Copy(p.answers, answers)
}

// TakeWarnings returns the warnings gathered so far, once.
func (p *Chain) TakeWarnings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.warnings
	p.warnings = nil
	return w
}

// postRenderFilenameAnnotation is where Helm 4 keeps each document's
// template path while its post-renderer runs.
const postRenderFilenameAnnotation = "postrenderer.helm.sh/postrender-filename"

// Files hands rendered templates to run as Helm 4 does before it
// sorts them (pkg/action renderResources): the documents of every file, in
// file-name order, go through kyaml with their path in an annotation, and
// come back regrouped by that path. Helm re-encodes every document on this
// way, so what it stores differs in text from an unpost-rendered render;
// doing the same here is what makes show equal the stored manifest.
func Files(files map[string]string, strategy helmv2.PostRenderStrategy, run func(*bytes.Buffer) (*bytes.Buffer, error)) (map[string]string, error) {
	switch strategy {
	case helmv2.PostRenderStrategyCombined, "":
		return postRenderGroup(files, "", run)
	case helmv2.PostRenderStrategySeparate, helmv2.PostRenderStrategyNoHooks:
	default:
		return nil, fmt.Errorf("unknown postRenderStrategy %q: use combined, separate or nohooks", strategy)
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("split rendered templates: %w", err)
	}
	hookFiles, manifestFiles := map[string]string{}, map[string]string{}
	for _, h := range hooks {
		appendDocument(hookFiles, h.Path, h.Manifest)
	}
	for _, m := range manifests {
		appendDocument(manifestFiles, m.Name, m.Content)
	}
	out := map[string]string{}
	if len(hookFiles) > 0 {
		if strategy == helmv2.PostRenderStrategySeparate {
			if hookFiles, err = postRenderGroup(hookFiles, "hooks", run); err != nil {
				return nil, fmt.Errorf("hooks: %w", err)
			}
		}
		for name, content := range hookFiles {
			appendDocument(out, name, content)
		}
	}
	if len(manifestFiles) > 0 {
		if manifestFiles, err = postRenderGroup(manifestFiles, "manifests", run); err != nil {
			return nil, err
		}
		for name, content := range manifestFiles {
			appendDocument(out, name, content)
		}
	}
	return out, nil
}

func appendDocument(files map[string]string, name, doc string) {
	if existing, ok := files[name]; ok {
		files[name] = existing + "\n---\n" + doc
		return
	}
	files[name] = doc
}

// postRenderGroup merges files into one annotated stream, runs it, and
// splits the result by the annotation; documents that lost it (new ones)
// get a generated file name, as Helm names them.
func postRenderGroup(files map[string]string, fallbackPrefix string, run func(*bytes.Buffer) (*bytes.Buffer, error)) (map[string]string, error) {
	var nodes []*kyaml.RNode
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		if strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(content) == "" {
			continue
		}
		docs := releaseutil.SplitManifests(content)
		keys := slices.Collect(maps.Keys(docs))
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, key := range keys {
			if strings.TrimSpace(docs[key]) == "" {
				continue
			}
			parsed, err := kio.ParseAll(docs[key])
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", name, err)
			}
			for _, n := range parsed {
				if err := n.PipeE(kyaml.SetAnnotation(postRenderFilenameAnnotation, name)); err != nil {
					return nil, fmt.Errorf("annotate %s: %w", name, err)
				}
				nodes = append(nodes, n)
			}
		}
	}
	merged, err := kio.StringAll(nodes)
	if err != nil {
		return nil, fmt.Errorf("merge rendered templates: %w", err)
	}
	result, err := run(bytes.NewBufferString(merged))
	if err != nil {
		return nil, err
	}
	out, err := kio.ParseAll(result.String())
	if err != nil {
		return nil, fmt.Errorf("parse post-rendered output: %w", err)
	}
	byFile := map[string][]*kyaml.RNode{}
	for i, n := range out {
		meta, err := n.GetMeta()
		if err != nil {
			return nil, fmt.Errorf("post-rendered document %d: %w", i+1, err)
		}
		name := meta.Annotations[postRenderFilenameAnnotation]
		if name == "" {
			if fallbackPrefix == "" {
				name = fmt.Sprintf("generated-by-postrender-%d.yaml", i)
			} else {
				name = fmt.Sprintf("generated-by-postrender-%s-%d.yaml", fallbackPrefix, i)
			}
		}
		if err := n.PipeE(kyaml.ClearAnnotation(postRenderFilenameAnnotation)); err != nil {
			return nil, err
		}
		byFile[name] = append(byFile[name], n)
	}
	split := make(map[string]string, len(byFile))
	for name, nodes := range byFile {
		if split[name], err = kio.StringAll(nodes); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return split, nil
}
