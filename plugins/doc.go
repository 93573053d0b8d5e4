// Package plugins will hold the SDK that post-processor and image builder
// plugins import, the host side that starts them over hashicorp/go-plugin,
// and example plugins. The pipeline's stages are already interfaces in core
// (core.Renderer, core.PostProcessor) that plugins will implement.
package plugins
