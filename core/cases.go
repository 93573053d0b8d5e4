package core

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/values"
)

// WithCase is the configuration with one of its value cases applied: the
// case's values files after the chart's own, its inline values merged over
// the chart's.
func WithCase(cfg *config.Chart, name string) (*config.Chart, error) {
	cs, ok := cfg.Cases[name]
	if !ok {
		known := "it names none"
		if len(cfg.Cases) > 0 {
			known = "it names " + strings.Join(cfg.CaseNames(), ", ")
		}
		return nil, fmt.Errorf("%s: no value case %q under cases: (%s)", cfg.Source(), name, known)
	}
	// The case's files are checked here, where their field is known: once
	// merged they would be blamed on the chart's own valuesFiles.
	for i, f := range cs.ValuesFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(cfg.Dir, f)
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s: cases.%s.valuesFiles[%d]: %w", cfg.Source(), name, i, err)
		}
	}
	out := *cfg
	out.ValuesFiles = append(slices.Clip(cfg.ValuesFiles), cs.ValuesFiles...)
	out.Values = values.DeepCopy(cfg.Values)
	values.Merge(out.Values, cs.Values)
	return &out, nil
}
