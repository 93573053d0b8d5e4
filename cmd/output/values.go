package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/values"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	sigsyaml "sigs.k8s.io/yaml"
)

// Values prints the composed values as YAML, masking the values that
// came from Secrets unless showSecrets. With all, the chart's defaults are
// coalesced in, as helm get values --all does.
func Values(out io.Writer, d *core.Desired, all, showSecrets bool, format Format) error {
	vals := values.DeepCopy(d.Values)
	if all {
		merged, err := chartutil.CoalesceValues(d.Chart, vals)
		if err != nil {
			return fmt.Errorf("coalesce chart defaults: %w", err)
		}
		vals = merged
	}
	if !showSecrets {
		for _, p := range d.SecretValuePaths {
			manifest.MaskPath(vals, p)
		}
	}
	switch format {
	case YAML, "":
		data, err := sigsyaml.Marshal(vals)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	case JSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(vals)
	}
	return fmt.Errorf("values are not printed as %s", format)
}
