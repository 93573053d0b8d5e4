package upstream

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	"helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/iox"
)

// fetchChart puts the upstream chart, unpacked, at dest.
func fetchChart(ctx context.Context, up *config.Upstream, opts UpdateOptions, dest string, log io.Writer) error {
	switch {
	case up.Helm != nil, up.OCI != nil:
		return pullChart(up, opts, dest, log)
	case up.Tarball != nil:
		return fetchTarball(ctx, up.Tarball, opts, dest, log)
	}
	return fmt.Errorf("upstream: set one of helm, oci or tarball")
}

// chartGetters are how update fetches a chart: from HTTP(S) repositories
// and OCI registries, the sources .cozyhr.yaml takes. Helm's getter
// plugins are not looked for: finding them links Helm's WebAssembly plugin
// runtime, about 4 MiB of the binary, for schemes no .cozyhr.yaml names.
func chartGetters() getter.Providers {
	return getter.Providers{
		{Schemes: []string{"http", "https"}, New: getter.NewHTTPGetter},
		{Schemes: []string{registry.OCIScheme}, New: getter.NewOCIGetter},
	}
}

// pullChart fetches the upstream chart, as helm pull does, and unpacks it
// at dest.
func pullChart(up *config.Upstream, opts UpdateOptions, dest string, log io.Writer) error {
	settings := cli.New()
	regOpts := []registry.ClientOption{registry.ClientOptCredentialsFile(settings.RegistryConfig), registry.ClientOptWriter(io.Discard)}
	if opts.PlainHTTP {
		regOpts = append(regOpts, registry.ClientOptPlainHTTP())
	}
	if opts.Username != "" {
		regOpts = append(regOpts, registry.ClientOptBasicAuth(opts.Username, opts.Password))
	}
	rc, err := registry.NewClient(regOpts...)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cozyhr-pull-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var ref, repoURL, version, what string
	if h := up.Helm; h != nil {
		ref, repoURL, version = h.Chart, h.Repo, cmp.Or(opts.Version, h.Version)
		what = fmt.Sprintf("%s from %s", h.Chart, h.Repo)
	} else {
		ref, version = up.OCI.URL, cmp.Or(opts.Version, up.OCI.Version)
		what = up.OCI.URL
	}
	if version != "" {
		what += " version " + version
	}
	fmt.Fprintf(log, "Fetching %s\n", what)
	getterOpts := []getter.Option{
		getter.WithBasicAuth(opts.Username, opts.Password),
		getter.WithInsecureSkipVerifyTLS(opts.InsecureSkipTLS),
		getter.WithPlainHTTP(opts.PlainHTTP),
		getter.WithRegistryClient(rc),
		getter.WithAcceptHeader("application/gzip,application/octet-stream"),
	}
	// Where this version's archive is: the repository's index says, or the
	// registry's tags do (a version may be a constraint), as helm pull finds
	// it. Provenance is not verified (helm pull's default), so Helm's
	// downloader and its OpenPGP code are not needed.
	var u *url.URL
	if repoURL != "" {
		source, err := repo.FindChartInRepoURL(repoURL, ref, chartGetters(),
			repo.WithChartVersion(version),
			repo.WithUsernamePassword(opts.Username, opts.Password),
			repo.WithInsecureSkipTLSVerify(opts.InsecureSkipTLS))
		if err == nil {
			u, err = url.Parse(source)
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", what, err)
		}
	} else {
		parsed, err := url.Parse(ref)
		if err == nil {
			_, u, err = rc.ValidateReference(ref, version, parsed)
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", what, err)
		}
	}
	g, err := chartGetters().ByScheme(u.Scheme)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", what, err)
	}
	data, err := g.Get(u.String(), getterOpts...)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", what, err)
	}
	archive := filepath.Join(tmp, "chart.tgz")
	if err := os.WriteFile(archive, data.Bytes(), 0o644); err != nil {
		return err
	}
	unpacked := filepath.Join(tmp, "unpacked")
	if err := chartutil.ExpandFile(unpacked, archive); err != nil {
		return err
	}
	entries, err := os.ReadDir(unpacked)
	if err != nil || len(entries) != 1 {
		return fmt.Errorf("fetch %s: the archive does not hold one chart directory", what)
	}
	return os.Rename(filepath.Join(unpacked, entries[0].Name()), dest)
}

// fetchTarball downloads a .tar.gz and unpacks the chart at its path.
func fetchTarball(ctx context.Context, tb *config.TarballSource, opts UpdateOptions, dest string, log io.Writer) error {
	version := cmp.Or(opts.Version, tb.Version)
	tmpl, err := template.New("url").Option("missingkey=error").Parse(tb.URL)
	if err != nil {
		return fmt.Errorf("upstream.tarball.url: %w", err)
	}
	var url bytes.Buffer
	if err := tmpl.Execute(&url, map[string]string{"Version": version}); err != nil {
		return fmt.Errorf("upstream.tarball.url: %w", err)
	}
	if strings.Contains(tb.URL, ".Version") && version == "" {
		return fmt.Errorf("upstream.tarball.url uses {{ .Version }}: %w", &NoVersionError{})
	}
	fmt.Fprintf(log, "Fetching %s\n", url.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url.String(), nil)
	if err != nil {
		return err
	}
	if opts.Username != "" {
		req.SetBasicAuth(opts.Username, opts.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url.String(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", url.String(), resp.Status)
	}
	return untarPath(resp.Body, tb.Path, dest)
}

// untarPath extracts the entries under dir of a gzipped tarball into dest.
// A single top-level directory (GitHub's NAME-VERSION/) may be left out of
// dir.
func untarPath(r io.Reader, dir, dest string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a .tar.gz: %w", err)
	}
	dir = strings.Trim(path.Clean("/"+dir), "/")
	tr := tar.NewReader(gz)
	found := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tarball: %w", err)
		}
		name := strings.Trim(path.Clean("/"+hdr.Name), "/")
		rel, ok := under(name, dir)
		if !ok {
			// GitHub archives put everything under NAME-VERSION/.
			if _, rest, cut := strings.Cut(name, "/"); cut {
				rel, ok = under(rest, dir)
			}
		}
		if !ok {
			continue
		}
		found = true
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := iox.WriteFrom(target, tr, fs.FileMode(hdr.Mode)|0o600); err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("upstream.tarball.path %q is not in the tarball", dir)
	}
	return nil
}

// under returns name relative to dir when it is inside it.
func under(name, dir string) (string, bool) {
	if name == dir {
		return ".", true
	}
	if rel, ok := strings.CutPrefix(name, dir+"/"); ok && !strings.HasPrefix(rel, "../") {
		return rel, true
	}
	return "", false
}
