package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"k8s.io/apimachinery/pkg/util/duration"
	sigsyaml "sigs.k8s.io/yaml"
)

// PrintOptions say how HelmReleases are printed.
type PrintOptions struct {
	// Output is table (default), wide, json, yaml or name.
	Output        Format
	AllNamespaces bool
	Now           time.Time
	// Single prints one HelmRelease as itself with json and yaml, as
	// kubectl get NAME does, rather than as a List.
	Single bool
}

// HelmReleases prints HelmReleases as flux get helmreleases does.
func HelmReleases(out io.Writer, items []helmv2.HelmRelease, o PrintOptions) error {
	switch o.Output {
	case Table, Wide, "":
		if len(items) == 0 {
			_, err := fmt.Fprintln(out, "No HelmReleases found.")
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
		cols := []string{"NAME", "READY", "STATUS", "SUSPENDED", "AGE"}
		if o.AllNamespaces {
			cols = append([]string{"NAMESPACE"}, cols...)
		}
		if o.Output == Wide {
			cols = append(cols, "REVISION")
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, hr := range items {
			ready, status := "Unknown", "Not reconciled yet"
			if c := apimeta.FindStatusCondition(hr.Status.Conditions, "Ready"); c != nil {
				ready, status = string(c.Status), c.Message
			}
			row := []string{hr.Name, ready, status, fmt.Sprint(hr.Spec.Suspend), duration.HumanDuration(o.Now.Sub(hr.CreationTimestamp.Time))}
			if o.AllNamespaces {
				row = append([]string{hr.Namespace}, row...)
			}
			if o.Output == Wide {
				row = append(row, hr.Status.LastAttemptedRevision)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		return tw.Flush()
	case Name:
		for _, hr := range items {
			if _, err := fmt.Fprintf(out, "helmrelease.helm.toolkit.fluxcd.io/%s\n", hr.Name); err != nil {
				return err
			}
		}
		return nil
	case JSON, YAML:
		var list any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		for i := range items {
			items[i].APIVersion, items[i].Kind = helmv2.GroupVersion.String(), helmv2.HelmReleaseKind
			items[i].ManagedFields = nil
		}
		if o.Single && len(items) == 1 {
			list = items[0]
		}
		if o.Output == JSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		data, err := sigsyaml.Marshal(list)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	return fmt.Errorf("HelmReleases are not printed as %s", o.Output)
}
