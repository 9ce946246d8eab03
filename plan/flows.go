package plan

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// PathDetail is every monthly cash flow of one Monte Carlo path, for
// reconciling the engine against a spreadsheet (docs/plan.md has the
// formulas). With all volatilities zero, every path is the same
// deterministic path.
type PathDetail struct {
	Path     int
	Discount []float64 // v[k] = (1+r)^(−k/12), k = 0..months
	Flows    [numStrategies][]MonthFlow
	Exit     [numStrategies]float64 // terminal value at the horizon (undiscounted)
	NPV      [numStrategies]float64
	// SwitchMonth is the switch rule's decision month (−1: never), SwitchTo
	// the conversion it chose.
	SwitchMonth int
	SwitchTo    Strategy
}

// Detail simulates path p of (cfg, daily, seed) and records its flows. Its
// NPVs equal those of the same path in Run.
func Detail(cfg Config, daily []float64, seed uint64, p int) (*PathDetail, error) {
	m, err := newModel(cfg, daily)
	if err != nil {
		return nil, err
	}
	if p < 0 {
		return nil, fmt.Errorf("%w: path must be ≥ 0, got %d", ErrInvalid, p)
	}
	rec := &recorder{}
	s := m.newScratch()
	r := m.simulate(s, seed, p, allStrategies, m.valueLease(rec), rec)
	d := &PathDetail{Path: p, Discount: m.v, Flows: rec.flows, NPV: r.npv, SwitchMonth: r.switchMonth, SwitchTo: r.switchTo}
	mult := [numStrategies]float64{cfg.Fleet.ExitMultiple, cfg.Lease.ExitMultiple, cfg.HPC.ExitMultiple, cfg.Fleet.ExitMultiple}
	if r.switchMonth >= 0 {
		mult[Switch] = mult[r.switchTo]
	}
	for st := range d.Flows {
		op := make([]float64, len(d.Flows[st]))
		for i, f := range d.Flows[st] {
			op[i] = f.Operating
		}
		d.Exit[st] = mult[st] * exitBase(op)
	}
	return d, nil
}

// WriteCSV writes the path's flows, one row per strategy and month, with the
// discount factors and present values a spreadsheet needs, then one exit
// row per strategy (month = horizon) and one NPV row per strategy.
func (d *PathDetail) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	cw.Write([]string{"strategy", "month", "revenue", "power", "opex", "credit", "capex", "operating",
		"v_start", "v_end", "pv", "btc_price", "hashrate_eh", "power_price", "gpu_rent"})
	T := len(d.Discount) - 1
	for _, st := range Strategies {
		for _, m := range d.Flows[st] {
			vs, ve := d.Discount[m.Month], d.Discount[m.Month+1]
			cw.Write([]string{m.Strategy, strconv.Itoa(m.Month), f(m.Revenue), f(m.Power), f(m.Opex), f(m.Credit),
				f(m.Capex), f(m.Operating), f(vs), f(ve), f(m.Operating*ve - m.Capex*vs),
				f(m.BTCPrice), f(m.HashrateEH), f(m.PowerPrice), f(m.GPURent)})
		}
		cw.Write([]string{st.String() + ":exit", strconv.Itoa(T), "", "", "", "", "", f(d.Exit[st]),
			"", f(d.Discount[T]), f(d.Exit[st] * d.Discount[T]), "", "", "", ""})
		cw.Write([]string{st.String() + ":npv", "", "", "", "", "", "", "", "", "", f(d.NPV[st]), "", "", "", ""})
	}
	cw.Flush()
	return cw.Error()
}
