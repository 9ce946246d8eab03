package miner

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Row is one miner in `joule miners` output; its JSON keys are documented
// in docs/miners.md.
type Row struct {
	Addr           string    `json:"addr"`
	Dialect        Dialect   `json:"dialect,omitempty"`
	Make           string    `json:"make,omitempty"`
	Model          string    `json:"model,omitempty"`
	Firmware       string    `json:"firmware,omitempty"`
	State          State     `json:"state,omitempty"`
	HashrateTHs    float64   `json:"ths"`
	HashrateIdeal  float64   `json:"ths_ideal"`
	PowerW         float64   `json:"watts"`
	PowerEstimated bool      `json:"watts_estimated"`
	ChipMaxC       float64   `json:"chip_max_c"`
	InletC         float64   `json:"inlet_c"`
	OutletC        float64   `json:"outlet_c"`
	FansRPM        []float64 `json:"fans_rpm"`
	Error          string    `json:"error,omitempty"`
}

// RowOf turns a poll result into a Row.
func RowOf(p PollResult) Row {
	r := p.Reading
	row := Row{Addr: p.Target.Host, Dialect: p.Target.Dialect}
	if p.Err != nil {
		row.Error = p.Err.Error()
		return row
	}
	row.Dialect, row.Make, row.Model, row.Firmware, row.State = r.Dialect, r.Make, r.Model, r.Firmware, r.State
	row.HashrateTHs, row.HashrateIdeal = round2(r.HashrateTHs), round2(r.HashrateIdealTHs)
	row.PowerW, row.PowerEstimated = math.Round(r.PowerW), r.PowerEstimated
	row.ChipMaxC, row.InletC, row.OutletC = round2(r.ChipMaxC), round2(r.InletC), round2(r.OutletC)
	row.FansRPM = r.FansRPM
	if row.FansRPM == nil {
		row.FansRPM = []float64{}
	}
	return row
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// WriteTable prints rows as an aligned table: address, make/model,
// firmware, state, TH/s, W (~ marks an estimate), hottest chip, fans.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tMAKE/MODEL\tFIRMWARE\tSTATE\tTH/s\tW\tCHIP°C\tFANS")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\terror\t-\t-\t-\t%s\n", r.Addr, r.Error)
			continue
		}
		watts := fmt.Sprintf("%.0f", r.PowerW)
		if r.PowerEstimated {
			watts = "~" + watts
		}
		fans := make([]string, len(r.FansRPM))
		for i, f := range r.FansRPM {
			fans[i] = fmt.Sprintf("%.0f", f)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\t%.0f\t%s\n", r.Addr,
			strings.TrimSpace(r.Make+" "+r.Model), r.Firmware, r.State, r.HashrateTHs, watts, r.ChipMaxC, strings.Join(fans, "/"))
	}
	return tw.Flush()
}

// CommandRow is one miner's command result in `joule miners` output.
type CommandRow struct {
	Addr      string  `json:"addr"`
	Dialect   Dialect `json:"dialect,omitempty"`
	Model     string  `json:"model,omitempty"`
	Action    string  `json:"action"`
	Outcome   string  `json:"outcome"` // "sent", "already", "error"
	Confirmed bool    `json:"confirmed"`
	State     State   `json:"state,omitempty"`
	PowerW    float64 `json:"watts,omitempty"`
	TookMS    int64   `json:"took_ms"`
	Error     string  `json:"error,omitempty"`
}

// CommandRowOf turns a command result into a CommandRow.
func CommandRowOf(r CommandResult, model string) CommandRow {
	row := CommandRow{Addr: r.Addr, Dialect: r.Dialect, Model: model, Action: r.Action.String(),
		Outcome: r.Outcome.String(), Confirmed: r.Confirms, TookMS: r.Took.Milliseconds()}
	if r.Reading != nil {
		row.State, row.PowerW = r.Reading.State, math.Round(r.Reading.PowerW)
	}
	if r.Err != nil {
		row.Outcome, row.Error = "error", r.Err.Error()
	}
	return row
}

// Line is the one-line human form of a command result.
func (c CommandRow) Line() string {
	head := fmt.Sprintf("%-15s %-10s %s:", c.Addr, c.Dialect, c.Action)
	switch {
	case c.Error != "":
		return head + " FAILED: " + c.Error
	case c.Outcome == "already":
		return head + " ok, already in that state (nothing sent)"
	case c.Confirmed:
		return fmt.Sprintf("%s ok, confirmed %s at %.0f W after %d ms", head, c.State, c.PowerW, c.TookMS)
	}
	return head + " ok, accepted (not waited for telemetry)"
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
