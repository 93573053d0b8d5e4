package core

import (
	"fmt"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/postprocess"
	"github.com/cozyhr/cozyhr/core/upstream"
)

// PluginHost starts plugin processes; plugins/host.Host implements it.
type PluginHost interface {
	postprocess.Plugins
	upstream.Builders
}

// BuiltinFluxPostRender is the name .cozyhr.yaml places Flux's post-render by.
const BuiltinFluxPostRender = flux.BuiltinName

// buildPipeline makes the pipeline .cozyhr.yaml declares: Flux's
// post-render first unless the list places it, then each post-processor
// in order. A name that is not built in is a plugin.
func buildPipeline(cfg *config.Chart, plugins PluginHost) (*Pipeline, error) {
	p := &Pipeline{Renderer: HelmRenderer{}}
	placed := false
	for i, pc := range cfg.Plugins.PostProcessors {
		field := fmt.Sprintf("%s: plugins.postProcessors[%d]", cfg.Source(), i)
		pp, err := postProcessorFor(cfg, pc, field, plugins)
		if err != nil {
			return nil, err
		}
		if pp.Name() == BuiltinFluxPostRender {
			placed = true
		}
		p.PostProcessors = append(p.PostProcessors, pp)
	}
	if !placed {
		p.PostProcessors = append([]postprocess.PostProcessor{flux.PostRenderer{}}, p.PostProcessors...)
	}
	return p, nil
}

func postProcessorFor(cfg *config.Chart, pc config.Plugin, field string, plugins PluginHost) (postprocess.PostProcessor, error) {
	if pc.Path == "" && pc.Name == BuiltinFluxPostRender {
		return flux.PostRenderer{}, nil
	}
	var pp postprocess.Plugins
	if plugins != nil {
		pp = plugins
	}
	return postprocess.For(cfg, pc, field, pp)
}
