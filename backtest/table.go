package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints one row per policy: dollars rounded to whole dollars,
// energy in MWh, curtailment in hours, capture as a ratio.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "site %s, %s to %s, %d intervals of %g min\n", r.Site,
		r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), r.Intervals, r.StepMin)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tmining $\tAI $\tancillary $\tresale $\tenergy $\t4CP $\tswitching $\tprofit $\tMWh\tcurtailed h\tcapture\t")
	for _, p := range r.Policies {
		capture := "-"
		if p.Capture != nil {
			capture = fmt.Sprintf("%.4f", *p.Capture)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Policy,
			dollars(p.Mining), dollars(p.AI), dollars(p.Ancillary), dollars(p.Resale),
			dollars(p.Energy), dollars(p.FourCP), dollars(p.Switching), dollars(p.Profit),
			dollars(p.MWh), fmt.Sprintf("%.1f", p.CurtailedHours), capture)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Peaks) > 0 {
		s := make([]string, len(r.Peaks))
		for i, p := range r.Peaks {
			s[i] = p.Format("2006-01-02 15:04Z")
		}
		_, err := fmt.Fprintf(w, "4CP peaks (system load): %s\n", strings.Join(s, ", "))
		return err
	}
	return nil
}

// dollars formats v rounded to a whole number with thousands separators.
func dollars(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg && s != "0" {
		return "-" + b.String()
	}
	return b.String()
}

// WriteJSON writes the result as indented JSON (keys in docs/dispatch.md).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
