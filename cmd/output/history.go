package output

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cozyhr/cozyhr/core"
	"k8s.io/apimachinery/pkg/util/duration"
	sigsyaml "sigs.k8s.io/yaml"
)

// History prints revisions as a table (as helm history), json or yaml.
func History(out io.Writer, revs []core.Revision, format Format) error {
	switch format {
	case Table, "":
		tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
		fmt.Fprintln(tw, "REVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\tWRITTEN BY\tDESCRIPTION")
		for _, r := range revs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.Updated.UTC().Format(time.RFC3339), r.Status, r.Chart, r.AppVersion, r.WrittenBy, r.Description)
		}
		return tw.Flush()
	case JSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(revs)
	case YAML:
		data, err := sigsyaml.Marshal(revs)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	return fmt.Errorf("history is not printed as %s", format)
}

// Events prints events as kubectl events does.
func Events(out io.Writer, events []core.Event, now time.Time) error {
	if len(events) == 0 {
		_, err := fmt.Fprintln(out, "No events found for the HelmRelease or its objects.")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", duration.HumanDuration(now.Sub(e.Time)), e.Type, e.Reason, e.Object, e.Message)
	}
	return tw.Flush()
}
