// Command faulty is a post-processor plugin that misbehaves on purpose, for
// the plugin tests. Its config picks the fault:
//
//	mode: ok | crash | hang | invalid | error
//	record: FILE   # append a line to FILE for every call
//
// Built with -ldflags "-X main.protocol=2" it speaks another protocol
// version; with "-X main.noise=TEXT" it prints TEXT to stdout before the
// handshake.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

var (
	protocol = "" // default: sdk.ProtocolVersion
	noise    = ""
)

type faulty struct{}

func (faulty) PostProcess(ctx context.Context, req *sdk.PostProcessRequest) (*sdk.PostProcessResponse, error) {
	var cfg struct {
		Mode   string `json:"mode"`
		Record string `json:"record"`
	}
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return nil, err
	}
	if cfg.Record != "" {
		f, err := os.OpenFile(cfg.Record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(f, "post-process", req.Release.Name)
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	switch cfg.Mode {
	case "crash":
		panic("faulty: crashing on purpose")
	case "hang":
		fmt.Fprintln(os.Stderr, "faulty: hanging")
		time.Sleep(time.Hour)
	case "invalid":
		return &sdk.PostProcessResponse{Manifests: []byte("kind: [unclosed\n")}, nil
	case "error":
		return nil, fmt.Errorf("policy check failed: 2 objects have no resource limits")
	}
	return &sdk.PostProcessResponse{Manifests: req.Manifests, Warnings: []string{"faulty: passed through " + strconv.Itoa(len(req.Manifests)) + " bytes"}}, nil
}

func main() {
	if noise != "" {
		fmt.Println(noise)
	}
	v := sdk.ProtocolVersion
	if protocol != "" {
		v, _ = strconv.Atoi(protocol)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{v: sdk.PluginSet(sdk.ServeConfig{Version: "test", PostProcessor: faulty{}})},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
