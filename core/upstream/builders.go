package upstream

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// Built-in image builders; both implement sdk.ImageBuilder, as plugins do.
const (
	BuiltinBuildah = "buildah"
	BuiltinBuildx  = "buildx"
)

func builtinImageBuilder(name string) sdk.ImageBuilder {
	switch name {
	case BuiltinBuildah:
		return buildahBuilder{}
	case BuiltinBuildx:
		return buildxBuilder{}
	}
	return nil
}

// buildahBuilder builds without a daemon: buildah bud with chroot isolation
// and, by default, the vfs storage driver, which work as root in a
// container or VM without overlayfs or user namespaces.
type buildahBuilder struct{}

type buildahConfig struct {
	StorageDriver string   `json:"storageDriver"`
	Isolation     string   `json:"isolation"`
	ExtraArgs     []string `json:"extraArgs"`
}

func (buildahBuilder) Build(ctx context.Context, req *sdk.BuildRequest, logs io.Writer) (*sdk.BuildResult, error) {
	var cfg buildahConfig
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return nil, fmt.Errorf("buildah %w", err)
	}
	if _, err := exec.LookPath("buildah"); err != nil {
		return nil, fmt.Errorf("the buildah builder needs buildah (apt-get install buildah), or set builder: buildx to use Docker")
	}
	if len(req.Platforms) > 1 {
		return nil, fmt.Errorf("the buildah builder builds one platform; use builder: buildx for %s", strings.Join(req.Platforms, ","))
	}
	global := []string{"--storage-driver", cmp.Or(cfg.StorageDriver, "vfs")}
	ref := req.Repository + ":" + req.Tag
	args := append(append([]string{}, global...), "bud", "--isolation", cmp.Or(cfg.Isolation, "chroot"),
		"-f", req.Dockerfile, "-t", ref)
	if req.Target != "" {
		args = append(args, "--target", req.Target)
	}
	for _, k := range slices.Sorted(maps.Keys(req.BuildArgs)) {
		args = append(args, "--build-arg", k+"="+req.BuildArgs[k])
	}
	if len(req.Platforms) == 1 {
		args = append(args, "--platform", req.Platforms[0])
	}
	args = append(append(args, cfg.ExtraArgs...), req.ContextDir)
	if err := run(ctx, logs, "buildah", args...); err != nil {
		return nil, err
	}
	if !req.Push {
		// The image is in containers-storage already: that is --load.
		return &sdk.BuildResult{Reference: ref}, nil
	}
	digestFile, err := os.CreateTemp("", "cozyhr-digest-")
	if err != nil {
		return nil, err
	}
	digestFile.Close()
	defer os.Remove(digestFile.Name())
	push := append(append([]string{}, global...), "push", "--digestfile", digestFile.Name())
	if req.PlainHTTP {
		push = append(push, "--tls-verify=false")
	}
	push = append(push, ref, "docker://"+ref)
	if err := run(ctx, logs, "buildah", push...); err != nil {
		return nil, err
	}
	digest, err := registryDigest(ctx, ref, req.PlainHTTP)
	if err != nil {
		return nil, err
	}
	return &sdk.BuildResult{Reference: ref, Digest: digest}, nil
}

// buildxBuilder drives docker buildx build --metadata-file, as the
// Makefiles did, for users who have Docker.
type buildxBuilder struct{}

type buildxConfig struct {
	Builder   string   `json:"builder"`
	ExtraArgs []string `json:"extraArgs"`
}

func (buildxBuilder) Build(ctx context.Context, req *sdk.BuildRequest, logs io.Writer) (*sdk.BuildResult, error) {
	var cfg buildxConfig
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return nil, fmt.Errorf("buildx %w", err)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, fmt.Errorf("the buildx builder needs docker with buildx; without Docker use builder: buildah")
	}
	// Without the buildx plugin, docker reads "buildx build -f" as its own
	// flags and says "unknown shorthand flag: 'f'".
	if err := exec.CommandContext(ctx, "docker", "buildx", "version").Run(); err != nil {
		return nil, fmt.Errorf("the buildx builder needs docker's buildx plugin (docker buildx version failed: %v); install it, or use builder: buildah", err)
	}
	meta, err := os.MkdirTemp("", "cozyhr-buildx-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(meta)
	metaFile := filepath.Join(meta, "metadata.json")
	ref := req.Repository + ":" + req.Tag
	args := buildxArgs(req, cfg, ref, metaFile)
	if err := run(ctx, logs, "docker", args...); err != nil {
		return nil, err
	}
	if !req.Push {
		return &sdk.BuildResult{Reference: ref}, nil
	}
	data, err := os.ReadFile(metaFile)
	if err != nil {
		return nil, fmt.Errorf("buildx wrote no metadata file: %w", err)
	}
	var md map[string]any
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("buildx metadata: %w", err)
	}
	built, _ := md["containerimage.digest"].(string)
	digest, err := registryDigest(ctx, ref, req.PlainHTTP)
	if err != nil {
		return nil, err
	}
	if built != "" && built != digest {
		fmt.Fprintf(logs, "note: buildx reported %s but the registry serves %s for %s; using the registry's\n", built, digest, ref)
	}
	return &sdk.BuildResult{Reference: ref, Digest: digest}, nil
}

func buildxArgs(req *sdk.BuildRequest, cfg buildxConfig, ref, metaFile string) []string {
	args := []string{"buildx", "build", req.ContextDir, "-f", req.Dockerfile, "-t", ref, "--metadata-file", metaFile}
	if cfg.Builder != "" {
		args = append(args, "--builder", cfg.Builder)
	}
	if req.Target != "" {
		args = append(args, "--target", req.Target)
	}
	for _, k := range slices.Sorted(maps.Keys(req.BuildArgs)) {
		args = append(args, "--build-arg", k+"="+req.BuildArgs[k])
	}
	if len(req.Platforms) > 0 {
		args = append(args, "--platform", strings.Join(req.Platforms, ","))
	}
	if req.Push {
		args = append(args, "--push")
	}
	if req.Load {
		args = append(args, "--load")
	}
	return append(args, cfg.ExtraArgs...)
}

// registryDigest asks the registry which digest it serves for ref: the
// truth that values.yaml must carry.
func registryDigest(ctx context.Context, ref string, plainHTTP bool) (string, error) {
	var opts []name.Option
	if plainHTTP {
		opts = append(opts, name.Insecure)
	}
	tag, err := name.NewTag(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("image reference %s: %w", ref, err)
	}
	desc, err := remote.Head(tag, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("read the digest of %s from the registry: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// run streams a command's output to logs; its error names the command.
func run(ctx context.Context, logs io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	host.DieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}
