// Package config loads and validates .cozyhr.yaml. It knows nothing of
// Kubernetes: it returns plain structs that core/ turns into actions.
package config

import (
	"path/filepath"
	"sort"
	"time"
)

// Where a release's name or namespace came from, when not the file.
const (
	NamedByOverride = "override"
	NamedByMakefile = "Makefile"
	NamedByChart    = "chart"
)

// FileName is the configuration file looked up in a chart directory.
const FileName = ".cozyhr.yaml"

// APIVersion and Kind identify the v1alpha1 file format.
const (
	APIVersion = "cozyhr.io/v1alpha1"
	Kind       = "Chart"
)

// Chart is one chart directory's configuration, after defaults, environment
// (COZYHR_*) and flag overrides are applied.
type Chart struct {
	APIVersion  string         `mapstructure:"apiVersion"`
	Kind        string         `mapstructure:"kind"`
	Release     Release        `mapstructure:"release"`
	HelmRelease HelmRelease    `mapstructure:"helmRelease"`
	ValuesFiles []string       `mapstructure:"valuesFiles"`
	Values      map[string]any `mapstructure:"values"`
	Render      Render         `mapstructure:"render"`
	Diff        Diff           `mapstructure:"diff"`
	Apply       Apply          `mapstructure:"apply"`
	Upstream    *Upstream      `mapstructure:"upstream"`
	Images      []Image        `mapstructure:"images"`
	Hooks       Hooks          `mapstructure:"hooks"`
	Plugins     Plugins        `mapstructure:"plugins"`
	// Labels select the chart among many (-L); they are not Kubernetes labels.
	Labels map[string]string `mapstructure:"labels"`
	// DependsOn names the HelmReleases ([namespace/]name), or in plain mode
	// the releases, that a run over many charts applies before this one, on
	// top of the HelmRelease's own spec.dependsOn.
	DependsOn []string `mapstructure:"dependsOn"`
	// Instances says how the chart's live instances are found.
	Instances Instances `mapstructure:"instances"`
	// Cases are named value sets the chart is also rendered with.
	Cases map[string]Case `mapstructure:"cases"`

	// Dir is the absolute chart directory.
	Dir string `mapstructure:"-"`
	// File is the configuration file read, or "" when the chart has none.
	File string `mapstructure:"-"`
	// NameFrom and NamespaceFrom say where the release name and namespace
	// came from when .cozyhr.yaml did not give them: NamedByOverride (NAME,
	// -n), NamedByMakefile (package.mk's NAME and NAMESPACE), NamedByChart
	// (the chart's name); "" is the file, or, for the namespace, nothing
	// (the kubeconfig's then counts).
	NameFrom, NamespaceFrom string `mapstructure:"-"`
	// ChartName is the name from Chart.yaml.
	ChartName string `mapstructure:"-"`
	// Defaults is the defaults file (a .cozyhr.yaml of kind Defaults
	// above the chart) whose entry the chart was given, "" for none.
	Defaults string `mapstructure:"-"`
}

// Release names the Helm release.
type Release struct {
	Name             string `mapstructure:"name"`
	Namespace        string `mapstructure:"namespace"`
	StorageNamespace string `mapstructure:"storageNamespace"`
}

// HelmRelease names the Flux HelmRelease the chart stands for.
type HelmRelease struct {
	Enabled   *bool  `mapstructure:"enabled"`
	Name      string `mapstructure:"name"`
	Namespace string `mapstructure:"namespace"`
	// File declares the HelmRelease in the repository, relative to the
	// chart directory: offline, the chart is rendered with it.
	File string `mapstructure:"file"`
}

// IsEnabled reports whether cozyhr should look for a HelmRelease at all.
func (h HelmRelease) IsEnabled() bool { return h.Enabled == nil || *h.Enabled }

// IsNamed reports whether the configuration names a HelmRelease on purpose
// (a name, or enabled: true) rather than by default: offline, only such a
// chart is rendered as Flux would render it.
func (h HelmRelease) IsNamed() bool {
	return h.IsEnabled() && (h.Name != "" || h.File != "" || h.Enabled != nil)
}

// Instances finds the HelmReleases that are instances of the chart.
type Instances struct {
	// Selector is a label selector over HelmReleases; "" means those made
	// from a chart of this chart's name.
	Selector string `mapstructure:"selector"`
}

// Case is one named set of values the chart is rendered with: its values
// files and inline values go on top of .cozyhr.yaml's own.
type Case struct {
	ValuesFiles []string       `mapstructure:"valuesFiles"`
	Values      map[string]any `mapstructure:"values"`
}

// CaseNames are the chart's value cases, sorted.
func (c *Chart) CaseNames() []string {
	names := make([]string, 0, len(c.Cases))
	for n := range c.Cases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Render configures the render stage.
type Render struct {
	KubeVersion          string   `mapstructure:"kubeVersion"`
	APIVersions          []string `mapstructure:"apiVersions"`
	IncludeCRDs          *bool    `mapstructure:"includeCRDs"`
	SkipHooks            bool     `mapstructure:"skipHooks"`
	SkipSchemaValidation bool     `mapstructure:"skipSchemaValidation"`
	// Lookups is a file of objects that answer lookup offline.
	Lookups string `mapstructure:"lookups"`
}

// CRDs reports whether crds/ is rendered; it is by default, as Flux creates them.
func (r Render) CRDs() bool { return r.IncludeCRDs == nil || *r.IncludeCRDs }

// IgnoreRule hides JSON pointers of matching objects from diffs.
type IgnoreRule struct {
	Paths  []string      `mapstructure:"paths"`
	Target *IgnoreTarget `mapstructure:"target"`
}

// IgnoreTarget selects the objects an IgnoreRule applies to.
type IgnoreTarget struct {
	Group              string `mapstructure:"group"`
	Version            string `mapstructure:"version"`
	Kind               string `mapstructure:"kind"`
	Name               string `mapstructure:"name"`
	Namespace          string `mapstructure:"namespace"`
	LabelSelector      string `mapstructure:"labelSelector"`
	AnnotationSelector string `mapstructure:"annotationSelector"`
}

// Diff configures the diff stage.
type Diff struct {
	Ignore  []IgnoreRule `mapstructure:"ignore"`
	Context int          `mapstructure:"context"`
	// Rules turn review rules off or change their severity, by rule id:
	// "off", "low", "medium", "high" or "critical".
	Rules map[string]string `mapstructure:"rules"`
}

// Apply configures the apply stage.
type Apply struct {
	// Timeout is apply.timeout, 0 when unset (the HelmRelease's then
	// counts).
	Timeout       time.Duration `mapstructure:"timeout"`
	Wait          bool          `mapstructure:"wait"`
	TakeOwnership bool          `mapstructure:"takeOwnership"`
	Resume        bool          `mapstructure:"resume"`
	// CRDs is the policy for crds/ on upgrade in plain Helm mode: Skip (as
	// helm upgrade), Create or CreateReplace.
	CRDs string `mapstructure:"crds"`
}

// Upstream declares where the vendored chart comes from.
type Upstream struct {
	Helm      *HelmSource    `mapstructure:"helm"`
	OCI       *OCISource     `mapstructure:"oci"`
	Tarball   *TarballSource `mapstructure:"tarball"`
	Dest      string         `mapstructure:"dest"`
	Patches   Patches        `mapstructure:"patches"`
	Propagate []Propagation  `mapstructure:"propagate"`
}

// HelmSource is a chart in a Helm HTTP repository.
type HelmSource struct {
	Repo    string `mapstructure:"repo"`
	Chart   string `mapstructure:"chart"`
	Version string `mapstructure:"version"`
}

// OCISource is a chart in an OCI registry.
type OCISource struct {
	URL     string `mapstructure:"url"`
	Version string `mapstructure:"version"`
}

// TarballSource is a chart inside a tarball, such as a release archive.
type TarballSource struct {
	// URL may use {{ .Version }}.
	URL     string `mapstructure:"url"`
	Path    string `mapstructure:"path"`
	Version string `mapstructure:"version"`
}

// Patches lists the patches applied after fetching.
type Patches struct {
	Dir   string   `mapstructure:"dir"`
	Files []string `mapstructure:"files"`
	Strip *int     `mapstructure:"strip"`
}

// Propagation writes the fetched chart's version somewhere else.
type Propagation struct {
	From       string `mapstructure:"from"`
	File       string `mapstructure:"file"`
	Match      string `mapstructure:"match"`
	Replace    string `mapstructure:"replace"`
	ValuesPath string `mapstructure:"valuesPath"`
}

// Image is one image cozyhr image builds.
type Image struct {
	Name       string            `mapstructure:"name"`
	Builder    string            `mapstructure:"builder"`
	Context    string            `mapstructure:"context"`
	Dockerfile string            `mapstructure:"dockerfile"`
	Target     string            `mapstructure:"target"`
	BuildArgs  map[string]string `mapstructure:"buildArgs"`
	Platforms  []string          `mapstructure:"platforms"`
	Registry   string            `mapstructure:"registry"`
	Repository string            `mapstructure:"repository"`
	Tag        string            `mapstructure:"tag"`
	Values     ImageValues       `mapstructure:"values"`
	TagFile    string            `mapstructure:"tagFile"`
}

// ImageValues says where in values.yaml a built image is written.
type ImageValues struct {
	Registry   string `mapstructure:"registry"`
	Repository string `mapstructure:"repository"`
	Tag        string `mapstructure:"tag"`
	Digest     string `mapstructure:"digest"`
}

// Hook is a command run before or after a stage.
type Hook struct {
	Name            string            `mapstructure:"name"`
	Command         string            `mapstructure:"command"`
	Args            []string          `mapstructure:"args"`
	Dir             string            `mapstructure:"dir"`
	Env             map[string]string `mapstructure:"env"`
	ContinueOnError bool              `mapstructure:"continueOnError"`
}

// StageHooks are the hooks of one stage.
type StageHooks struct {
	Pre  []Hook `mapstructure:"pre"`
	Post []Hook `mapstructure:"post"`
}

// Hooks are the hooks of every stage.
type Hooks struct {
	Update StageHooks `mapstructure:"update"`
	Image  StageHooks `mapstructure:"image"`
	Show   StageHooks `mapstructure:"show"`
	Diff   StageHooks `mapstructure:"diff"`
	Apply  StageHooks `mapstructure:"apply"`
	Delete StageHooks `mapstructure:"delete"`
}

// Plugin selects a built-in or an external plugin.
type Plugin struct {
	Name    string         `mapstructure:"name"`
	Path    string         `mapstructure:"path"`
	SHA256  string         `mapstructure:"sha256"`
	Timeout string         `mapstructure:"timeout"`
	Config  map[string]any `mapstructure:"config"`
}

// Plugins lists the plugins of each extensible stage, in order.
type Plugins struct {
	PostProcessors []Plugin `mapstructure:"postProcessors"`
	ImageBuilders  []Plugin `mapstructure:"imageBuilders"`
}

// Source names the configuration file for messages: the file read, or where
// it would be.
func (c *Chart) Source() string {
	if c.File != "" {
		return c.File
	}
	return filepath.Join(c.Dir, FileName)
}
