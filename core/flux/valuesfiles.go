package flux

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cozyhr/cozyhr/core/values"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// Cozystack's ArtifactGenerator merges these values files of the chart
// directory into the chart's values.yaml of the artifact a HelmRelease's
// chartRef points at, and names them in this annotation (comma-separated).
const (
	ValuesFilesAnnotation       = "cozyhr.cozystack.io/values-files"
	LegacyValuesFilesAnnotation = "cozypkg.cozystack.io/values-files"
)

// ValuesFiles are the chart's values files the HelmRelease's chart was
// built with, and where that list came from.
type ValuesFiles struct {
	files []string
	from  string
}

// ChartValuesFiles reads the values-files annotation, or else
// spec.chart.spec.valuesFiles.
func ChartValuesFiles(hr *helmv2.HelmRelease) ValuesFiles {
	for _, a := range []string{ValuesFilesAnnotation, LegacyValuesFilesAnnotation} {
		if v, ok := hr.Annotations[a]; ok {
			var files []string
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					files = append(files, f)
				}
			}
			return ValuesFiles{files: files, from: "HelmRelease annotation " + a}
		}
	}
	if hr.Spec.Chart != nil {
		return ValuesFiles{files: hr.Spec.Chart.Spec.ValuesFiles, from: "HelmRelease spec.chart.spec.valuesFiles"}
	}
	return ValuesFiles{}
}

// MergeChartValuesFiles makes the chart's defaults what the HelmRelease's
// chart was built with: the values files merged in order, the first in
// place of values.yaml, as source-controller (ValuesFiles) and Cozystack's
// ArtifactGenerator (the annotation) package it. They are the lowest layer
// of values.
func MergeChartValuesFiles(ch *chart.Chart, dir string, vf ValuesFiles) error {
	if len(vf.files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, f := range vf.files {
		v, err := values.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("%s: %w", vf.from, err)
		}
		values.Merge(merged, v)
	}
	ch.Values = merged
	return nil
}
