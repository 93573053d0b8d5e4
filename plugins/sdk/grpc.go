package sdk

import (
	"context"
	"fmt"
	"io"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/cozyhr/cozyhr/plugins/sdk/proto"
)

// The go-plugin glue: each *Plugin type serves an implementation in the
// plugin process and returns a client stub in the host.

type infoPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	info Info
}

func (p *infoPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterInfoServer(s, &infoServer{info: p.info})
	return nil
}

func (p *infoPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &infoClient{c: pb.NewInfoClient(c)}, nil
}

type infoServer struct {
	pb.UnimplementedInfoServer
	info Info
}

func (s *infoServer) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{Version: s.info.Version, Kinds: s.info.Kinds}, nil
}

type infoClient struct{ c pb.InfoClient }

func (c *infoClient) Describe(ctx context.Context) (*Info, error) {
	resp, err := c.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, err
	}
	return &Info{Version: resp.GetVersion(), Kinds: resp.GetKinds()}, nil
}

type postProcessorPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl PostProcessor
}

func (p *postProcessorPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPostProcessorServer(s, &postProcessorServer{impl: p.impl})
	return nil
}

func (p *postProcessorPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &postProcessorClient{c: pb.NewPostProcessorClient(c)}, nil
}

type postProcessorServer struct {
	pb.UnimplementedPostProcessorServer
	impl PostProcessor
}

func (s *postProcessorServer) PostProcess(ctx context.Context, req *pb.PostProcessRequest) (*pb.PostProcessResponse, error) {
	r := req.GetRelease()
	resp, err := s.impl.PostProcess(ctx, &PostProcessRequest{
		Release: Release{
			Name: r.GetName(), Namespace: r.GetNamespace(),
			HelmReleaseName: r.GetHelmReleaseName(), HelmReleaseNamespace: r.GetHelmReleaseNamespace(),
			ChartDir: r.GetChartDir(),
		},
		Manifests: req.GetManifests(),
		Config:    req.GetConfig(),
	})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, fmt.Errorf("plugin returned no response")
	}
	return &pb.PostProcessResponse{Manifests: resp.Manifests, Warnings: resp.Warnings}, nil
}

type postProcessorClient struct{ c pb.PostProcessorClient }

func (c *postProcessorClient) PostProcess(ctx context.Context, req *PostProcessRequest) (*PostProcessResponse, error) {
	r := req.Release
	resp, err := c.c.PostProcess(ctx, &pb.PostProcessRequest{
		Release: &pb.Release{
			Name: r.Name, Namespace: r.Namespace,
			HelmReleaseName: r.HelmReleaseName, HelmReleaseNamespace: r.HelmReleaseNamespace,
			ChartDir: r.ChartDir,
		},
		Manifests: req.Manifests,
		Config:    req.Config,
	}, grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage))
	if err != nil {
		return nil, err
	}
	return &PostProcessResponse{Manifests: resp.GetManifests(), Warnings: resp.GetWarnings()}, nil
}

// maxMessage lifts gRPC's 4 MiB default: a large chart's manifests exceed it.
const maxMessage = 1 << 30

type imageBuilderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl ImageBuilder
}

func (p *imageBuilderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterImageBuilderServer(s, &imageBuilderServer{impl: p.impl})
	return nil
}

func (p *imageBuilderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &imageBuilderClient{c: pb.NewImageBuilderClient(c)}, nil
}

type imageBuilderServer struct {
	pb.UnimplementedImageBuilderServer
	impl ImageBuilder
}

func (s *imageBuilderServer) Build(req *pb.BuildRequest, stream grpc.ServerStreamingServer[pb.BuildEvent]) error {
	logs := &streamWriter{stream: stream}
	res, err := s.impl.Build(stream.Context(), &BuildRequest{
		Name: req.GetName(), ChartDir: req.GetChartDir(), ContextDir: req.GetContextDir(),
		Dockerfile: req.GetDockerfile(), Target: req.GetTarget(), BuildArgs: req.GetBuildArgs(),
		Platforms: req.GetPlatforms(), Repository: req.GetRepository(), Tag: req.GetTag(),
		Push: req.GetPush(), Load: req.GetLoad(), PlainHTTP: req.GetPlainHttp(), Config: req.GetConfig(),
	}, logs)
	if err != nil {
		return err
	}
	if res == nil {
		return fmt.Errorf("plugin returned no result")
	}
	return stream.Send(&pb.BuildEvent{Event: &pb.BuildEvent_Result{Result: &pb.BuildResult{Reference: res.Reference, Digest: res.Digest}}})
}

// streamWriter sends each write as one log event.
type streamWriter struct {
	stream grpc.ServerStreamingServer[pb.BuildEvent]
}

func (w *streamWriter) Write(p []byte) (int, error) {
	buf := append([]byte(nil), p...)
	if err := w.stream.Send(&pb.BuildEvent{Event: &pb.BuildEvent_Log{Log: buf}}); err != nil {
		return 0, err
	}
	return len(p), nil
}

type imageBuilderClient struct{ c pb.ImageBuilderClient }

func (c *imageBuilderClient) Build(ctx context.Context, req *BuildRequest, logs io.Writer) (*BuildResult, error) {
	stream, err := c.c.Build(ctx, &pb.BuildRequest{
		Name: req.Name, ChartDir: req.ChartDir, ContextDir: req.ContextDir, Dockerfile: req.Dockerfile,
		Target: req.Target, BuildArgs: req.BuildArgs, Platforms: req.Platforms,
		Repository: req.Repository, Tag: req.Tag, Push: req.Push, Load: req.Load, PlainHttp: req.PlainHTTP, Config: req.Config,
	})
	if err != nil {
		return nil, err
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return nil, fmt.Errorf("plugin ended the build without a result")
		}
		if err != nil {
			return nil, err
		}
		switch e := ev.GetEvent().(type) {
		case *pb.BuildEvent_Log:
			if logs != nil {
				_, _ = logs.Write(e.Log)
			}
		case *pb.BuildEvent_Result:
			return &BuildResult{Reference: e.Result.GetReference(), Digest: e.Result.GetDigest()}, nil
		}
	}
}
