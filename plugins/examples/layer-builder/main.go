// Command cozyhr-plugin-layer-builder is an example image builder that
// needs no Docker and no Dockerfile: it packs the build context into one
// layer on top of a base image (scratch by default) with
// go-containerregistry, pushes it, and returns the digest the registry
// serves.
//
//	plugins:
//	  imageBuilders:
//	    - name: layer-builder
//	      config:
//	        registry: 127.0.0.1:5000     # replaces the registry of images[].repository
//	        base: ""                     # a base image reference; "" is scratch
//	        entrypoint: [/app]
//	        insecure: true               # plain HTTP
//	images:
//	  - name: app
//	    builder: layer-builder
//	    context: images/app
//	    repository: example.com/team/app
//	    tag: v1
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

var version = "0.1.0"

type config struct {
	Registry   string   `json:"registry"`
	Base       string   `json:"base"`
	Entrypoint []string `json:"entrypoint"`
	Insecure   bool     `json:"insecure"`
}

type layerBuilder struct{}

func (layerBuilder) Build(ctx context.Context, req *sdk.BuildRequest, logs io.Writer) (*sdk.BuildResult, error) {
	var cfg config
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return nil, err
	}
	if !req.Push {
		return nil, fmt.Errorf("layer-builder only pushes: it has no local image store to load into")
	}
	repo := req.Repository
	if cfg.Registry != "" {
		repo = cfg.Registry + "/" + pathOf(repo)
	}
	var opts []name.Option
	if cfg.Insecure || req.PlainHTTP {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(repo+":"+req.Tag, opts...)
	if err != nil {
		return nil, fmt.Errorf("image reference: %w", err)
	}

	base := empty.Image
	if cfg.Base != "" {
		baseRef, err := name.ParseReference(cfg.Base, opts...)
		if err != nil {
			return nil, fmt.Errorf("config.base: %w", err)
		}
		if base, err = remote.Image(baseRef, remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("pull base %s: %w", baseRef, err)
		}
	}
	fmt.Fprintf(logs, "packing %s\n", req.ContextDir)
	layerTar, err := tarDir(req.ContextDir)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if len(cfg.Entrypoint) > 0 {
		cf.Config.Entrypoint = cfg.Entrypoint
	}
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	for k, v := range req.BuildArgs {
		cf.Config.Labels["org.cozyhr.build-arg."+strings.ToLower(k)] = v
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	fmt.Fprintf(logs, "pushing %s\n", ref)
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("read back %s: %w", ref, err)
	}
	fmt.Fprintf(logs, "pushed %s@%s\n", ref, desc.Digest)
	return &sdk.BuildResult{Reference: ref.String(), Digest: desc.Digest.String()}, nil
}

// pathOf drops the registry host from a repository reference.
func pathOf(repo string) string {
	if i := strings.IndexByte(repo, '/'); i >= 0 && strings.ContainsAny(repo[:i], ".:") {
		return repo[i+1:]
	}
	return repo
}

// tarDir packs dir with stable metadata, so an unchanged context gives the
// same digest.
func tarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = v1Epoch, 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var v1Epoch = time.Unix(0, 0).UTC()

func main() {
	sdk.Serve(sdk.ServeConfig{Version: version, ImageBuilder: layerBuilder{}})
}
