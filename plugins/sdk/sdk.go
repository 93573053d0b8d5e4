// Package sdk is what a cozyhr plugin imports: the PostProcessor and
// ImageBuilder interfaces, their request and result types, and Serve.
//
// A plugin is a program named cozyhr-plugin-NAME whose main calls Serve:
//
//	func main() {
//		sdk.Serve(sdk.ServeConfig{Version: "0.1.0", PostProcessor: addLabels{}})
//	}
//
// cozyhr starts it over hashicorp/go-plugin with gRPC, negotiates
// ProtocolVersion, calls it, and kills it at the end of the run. A plugin
// must not write to stdout (that is the handshake channel): log to stderr,
// which cozyhr shows when the plugin fails and with --debug.
package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the wire protocol (proto/plugin.proto)
// this SDK speaks. The host and a plugin must share one; go-plugin picks the
// highest both list and fails with both lists otherwise.
const ProtocolVersion = 1

// Handshake is the go-plugin handshake: it keeps a plugin binary from being
// run by hand by mistake, and tells a host that a program is a cozyhr plugin.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "COZYHR_PLUGIN",
		MagicCookieValue: "d6b0f6c2-cozyhr-plugin",
	}
}

// Names of the plugins in a go-plugin PluginSet.
const (
	KindInfo          = "info"
	KindPostProcessor = "postProcessor"
	KindImageBuilder  = "imageBuilder"
)

// Release is the release a post-processor works for.
type Release struct {
	Name      string
	Namespace string
	// HelmReleaseName and HelmReleaseNamespace are set in Flux mode.
	HelmReleaseName      string
	HelmReleaseNamespace string
	// ChartDir is the chart directory, absolute.
	ChartDir string
}

// PostProcessRequest carries the whole rendered manifest stream.
type PostProcessRequest struct {
	Release Release
	// Manifests are YAML documents separated by "---".
	Manifests []byte
	// Config is the plugin's config from .cozyhr.yaml, as JSON ("null" when
	// none). DecodeConfig reads it.
	Config json.RawMessage
}

// PostProcessResponse is the manifest stream after processing.
type PostProcessResponse struct {
	Manifests []byte
	// Warnings are shown to the user, prefixed with the plugin's name.
	Warnings []string
}

// PostProcessor rewrites rendered manifests before diff and apply.
type PostProcessor interface {
	PostProcess(ctx context.Context, req *PostProcessRequest) (*PostProcessResponse, error)
}

// BuildRequest asks for one image.
type BuildRequest struct {
	Name string
	// ChartDir, ContextDir and Dockerfile are absolute paths.
	ChartDir   string
	ContextDir string
	Dockerfile string
	Target     string
	BuildArgs  map[string]string
	Platforms  []string
	// Repository and Tag name the image to build and push.
	Repository string
	Tag        string
	// Push asks to push to the registry; Load to load into the local
	// image store (docker or containers-storage) instead or as well.
	Push bool
	Load bool
	// PlainHTTP says the registry speaks HTTP, not HTTPS (--plain-http).
	PlainHTTP bool
	// Config is the builder's config from .cozyhr.yaml, as JSON.
	Config json.RawMessage
}

// BuildResult is what was pushed.
type BuildResult struct {
	// Reference is repository:tag.
	Reference string
	// Digest is the sha256:... digest the registry serves for Reference.
	Digest string
}

// ImageBuilder builds an image and pushes it. Logs streams the build's
// output to the user as it is written.
type ImageBuilder interface {
	Build(ctx context.Context, req *BuildRequest, logs io.Writer) (*BuildResult, error)
}

// ServeConfig is what a plugin serves. Set at least one of PostProcessor
// and ImageBuilder.
type ServeConfig struct {
	// Version is the plugin's own version, shown by cozyhr plugins list.
	Version       string
	PostProcessor PostProcessor
	ImageBuilder  ImageBuilder
}

// Serve runs the plugin until cozyhr stops it. Call it from main.
func Serve(cfg ServeConfig) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: PluginSet(cfg)},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))...)
		},
	})
}

// PluginSet is the go-plugin plugin set that serves cfg; Serve uses it, and
// tests use it to serve other protocol versions.
func PluginSet(cfg ServeConfig) plugin.PluginSet {
	set := plugin.PluginSet{KindInfo: &infoPlugin{info: describe(cfg)}}
	if cfg.PostProcessor != nil {
		set[KindPostProcessor] = &postProcessorPlugin{impl: cfg.PostProcessor}
	}
	if cfg.ImageBuilder != nil {
		set[KindImageBuilder] = &imageBuilderPlugin{impl: cfg.ImageBuilder}
	}
	return set
}

// HostPlugins is the plugin set a host dispenses from, per protocol version.
func HostPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {
		KindInfo:          &infoPlugin{},
		KindPostProcessor: &postProcessorPlugin{},
		KindImageBuilder:  &imageBuilderPlugin{},
	}}
}

// Info describes a running plugin.
type Info struct {
	Version string
	Kinds   []string
}

// Describer is what the host dispenses as KindInfo.
type Describer interface {
	Describe(ctx context.Context) (*Info, error)
}

func describe(cfg ServeConfig) Info {
	info := Info{Version: cfg.Version}
	if cfg.PostProcessor != nil {
		info.Kinds = append(info.Kinds, KindPostProcessor)
	}
	if cfg.ImageBuilder != nil {
		info.Kinds = append(info.Kinds, KindImageBuilder)
	}
	return info
}

// DecodeConfig decodes a plugin's config into v, refusing unknown fields so
// that a typo in .cozyhr.yaml is an error rather than silently ignored.
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
