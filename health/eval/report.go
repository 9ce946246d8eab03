package eval

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/health"
)

// KindStats is the detection record for one fault kind.
type KindStats struct {
	Kind     physics.FaultKind
	Faults   int
	Detected int // any alarm during the lead-up
	Lead2h   int // first alarm ≥ 2 h before the failure
	Lead6h   int // first alarm ≥ 6 h before the failure
	// Eligible2h and Eligible6h count the faults assessed for at least 2 h
	// and 6 h before failing: the denominators of the lead rates.
	Eligible2h, Eligible6h int
	KindRight              int     // the last alarm before the failure named this kind
	MedianH                float64 // median lead of the detected faults, h (NaN: none)
	// WithTTF counts first alarms that carried a time-to-failure estimate;
	// TTFErr is the median of |estimate − true lead| / true lead over them.
	WithTTF int
	TTFErr  float64
}

// Rate returns n/of, NaN when of is 0.
func Rate(n, of int) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// ByKind aggregates the outcomes per fault kind, in physics.FaultKinds order.
func (r *Report) ByKind() []KindStats {
	var out []KindStats
	for _, k := range physics.FaultKinds {
		ks := KindStats{Kind: k, MedianH: math.NaN(), TTFErr: math.NaN()}
		var leads, errs []float64
		for _, o := range r.Outcomes {
			if o.Kind != k {
				continue
			}
			ks.Faults++
			if o.RunH >= 2 {
				ks.Eligible2h++
			}
			if o.RunH >= 6 {
				ks.Eligible6h++
			}
			if !o.Detected {
				continue
			}
			ks.Detected++
			leads = append(leads, o.LeadH)
			if o.TTFH > 0 && o.LeadH > 0 {
				ks.WithTTF++
				errs = append(errs, math.Abs(o.TTFH-o.LeadH)/o.LeadH)
			}
			if o.LeadH >= 2 {
				ks.Lead2h++
			}
			if o.LeadH >= 6 {
				ks.Lead6h++
			}
			if o.Predicted.String() == k.String() {
				ks.KindRight++
			}
		}
		ks.MedianH, ks.TTFErr = medianOf(leads), medianOf(errs)
		out = append(out, ks)
	}
	return out
}

func medianOf(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}

// FalseAlarmsPer1000 is alarm onsets per 1,000 healthy miner-days.
func (r *Report) FalseAlarmsPer1000() float64 {
	if r.HealthyMinerDays == 0 {
		return math.NaN()
	}
	return float64(r.FalseAlarms) / r.HealthyMinerDays * 1000
}

// WriteTable prints the report as a Markdown table.
func (r *Report) WriteTable(w io.Writer) error {
	c := r.Config
	mode := fmt.Sprintf("random faults %.2f/miner-day", c.FaultRate)
	if c.Scheduled {
		mode = fmt.Sprintf("scheduled faults (kind = miner mod 7) failing %s after warm-up", c.ScheduledAt)
	}
	if _, err := fmt.Fprintf(w, "%d miners × %.1f days (+%s warm-up), seed %d, %s; poll %s, assess every %s, window %s\n\n",
		c.Miners, c.Days, c.Window, c.Seed, mode, c.Poll, c.Every, c.Window); err != nil {
		return err
	}
	fmt.Fprintln(w, "| fault kind | faults | detected | ≥ 2 h lead | ≥ 6 h lead | kind right | median lead | TTF given | TTF median error |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	pct := func(n, of int) string {
		if of == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f %% (%d/%d)", 100*Rate(n, of), n, of)
	}
	for _, k := range r.ByKind() {
		med := "–"
		if !math.IsNaN(k.MedianH) {
			med = fmt.Sprintf("%.1f h", k.MedianH)
		}
		terr := "–"
		if !math.IsNaN(k.TTFErr) {
			terr = fmt.Sprintf("%.0f %%", 100*k.TTFErr)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", k.Kind, k.Faults, pct(k.Detected, k.Faults), pct(k.Lead2h, k.Eligible2h),
			pct(k.Lead6h, k.Eligible6h), pct(k.KindRight, k.Detected), med, pct(k.WithTTF, k.Detected), terr)
	}
	fmt.Fprint(w, "\nhighest healthy score per kind:")
	for _, k := range health.Kinds {
		fmt.Fprintf(w, " %s %.2f", k, r.HealthyMax[k])
	}
	_, err := fmt.Fprintf(w, "\nfalse alarms: %d onsets in %.0f healthy miner-days = %.2f per 1,000 miner-days (%d assessments)\n",
		r.FalseAlarms, r.HealthyMinerDays, r.FalseAlarmsPer1000(), r.Assessments)
	return err
}
