package plan

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the comparison as terminal tables.
func WriteText(w io.Writer, r *Result) error {
	c := r.Config
	ew := &errWriter{w: w}
	ew.printf("joule plan: %q, %g MW, %d years from %s, %.1f %% discount rate, %d paths, seed %d\n",
		c.Site.Name, c.Site.MW, c.HorizonYears, c.Start, c.DiscountRate*100, r.Paths, r.Seed)
	btc := fmt.Sprintf("GBM drift %.0f %%/yr, volatility %.0f %%/yr", c.BTC.Drift*100, c.BTC.Volatility*100)
	if c.BTC.Model == "bootstrap" {
		btc = fmt.Sprintf("bootstrap of %s", c.BTC.ReturnsFile)
		if c.BTC.Recenter {
			btc += fmt.Sprintf(" recentred to %.0f %%/yr", c.BTC.Drift*100)
		}
	}
	ew.printf("BTC $%s (%s); hashprice $%.1f/PH/day at start; next halving %s; fleet %.1f J/TH\n",
		money0(c.BTC.PriceUSD), btc, r.HashpricePerPHDay, halvingLabel(c.Start, r.NextHalvingMonth), c.Fleet.EfficiencyJPerTH)
	pw := fmt.Sprintf("power %s $%.2f/MWh +%.1f %%/yr", c.Power.Model, c.Power.PricePerMWh, c.Power.Escalator*100)
	if c.Power.Model == "spot" {
		pw += fmt.Sprintf(" (monthly volatility %.0f %%)", c.Power.Volatility*100)
	}
	ew.printf("%s; lease $%.2fM/MW-yr rent, $%.1fM/MW capex; HPC $%.2f/GPU-h, %.0f GPUs/MW (per critical-IT MW, %.0f %% of site MW)\n\n",
		pw, c.Lease.RentPerMWYear/1e6, c.Lease.ConversionCapexPerMW/1e6, c.HPC.RentPerGPUHour, c.HPC.GPUsPerMW, c.Site.ITFraction*100)

	ew.printf("NPV per watt of site ($/W = $M per MW)\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "strategy\tmean\tP10\tP50\tP90\tP(win)\tsite P50 $M\t\n")
	for _, s := range r.Strategies {
		p := s.NPVPerW
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f %%\t%s\t\n", s.Name, p.Mean, p.P10, p.P50, p.P90, s.WinProbability*100, money0(s.NPVSite.P50/1e6))
	}
	tw.Flush()
	best := r.Best()
	ew.printf("best by mean NPV: %s ($%.2f/W, $%sM for the site)\n", best.Name, best.NPVPerW.Mean, money0(best.NPVSite.Mean/1e6))
	sw := r.Switch
	ew.printf("switch rule converted on %.0f %% of paths (to lease %.0f %%, to HPC %.0f %%)", sw.ConversionProbability*100, sw.ToLease*100, sw.ToHPC*100)
	if sw.DecisionMonth != nil {
		ew.printf(", decision month P10/P50/P90 %.0f/%.0f/%.0f", sw.DecisionMonth.P10, sw.DecisionMonth.P50, sw.DecisionMonth.P90)
	}
	ew.printf("\n")

	if len(r.Breakeven.BTCPrice) > 0 {
		lease := 0.0
		for _, s := range r.Strategies {
			if s.Name == "lease" {
				lease = s.NPVPerW.Mean
			}
		}
		ew.printf("\nBreakeven: start BTC price at which mining's mean NPV equals leasing ($%.2f/W)\n", lease)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "power $/MWh\tBTC price $\thashprice $/PH/day\t\n")
		for _, b := range r.Breakeven.BTCPrice {
			if b.Found {
				fmt.Fprintf(tw, "%s\t%s\t%.1f\t\n", mark(b.PowerPricePerMWh, b.Input), money0(b.BTCPriceUSD), b.HashpricePerPHDay)
			} else {
				fmt.Fprintf(tw, "%s\tnone in $1k–$10M\t\t\n", mark(b.PowerPricePerMWh, b.Input))
			}
		}
		tw.Flush()
		ew.printf("\nBreakeven: GPU rent (new GPU, $/GPU-h) at which HPC's mean NPV equals leasing\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "utilisation\t$/GPU-h\t\n")
		for _, b := range r.Breakeven.GPURent {
			u := fmt.Sprintf("%.0f %%", b.Utilisation*100)
			if b.Input {
				u += " (input)"
			}
			if b.Found {
				fmt.Fprintf(tw, "%s\t%.2f\t\n", u, b.RentPerGPUHour)
			} else {
				fmt.Fprintf(tw, "%s\tnone in $0.01–$1000\t\n", u)
			}
		}
		tw.Flush()
	}

	if len(r.Tornado) > 0 {
		ew.printf("\nSensitivity: mean NPV $/W at the input's low → high value (%d paths each)\n", r.SensitivityPaths)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "input\tlow → high\t")
		for _, s := range Strategies {
			fmt.Fprintf(tw, "%s\t", s)
		}
		fmt.Fprintf(tw, "\n")
		t0 := r.Tornado[0]
		fmt.Fprintf(tw, "(base)\t\t")
		for _, s := range Strategies {
			fmt.Fprintf(tw, "%.2f\t", t0.BaseNPV[s.String()])
		}
		fmt.Fprintf(tw, "\n")
		for _, t := range r.Tornado {
			fmt.Fprintf(tw, "%s\t%s → %s\t", t.Input, short(t.Low), short(t.High))
			for _, s := range Strategies {
				fmt.Fprintf(tw, "%.2f → %.2f\t", t.NPVPerWLo[s.String()], t.NPVPerWHi[s.String()])
			}
			fmt.Fprintf(tw, "\n")
		}
		tw.Flush()
	}
	return ew.err
}

func mark(x float64, input bool) string {
	s := fmt.Sprintf("%g", x)
	if input {
		s += " (input)"
	}
	return s
}

func halvingLabel(start string, month int) string {
	if month < 0 {
		return "after the horizon"
	}
	t, err := time.Parse("2006-01", start)
	if err != nil {
		return fmt.Sprintf("in month %d", month)
	}
	return fmt.Sprintf("in month %d (%s)", month, t.AddDate(0, month, 0).Format("2006-01"))
}

// short formats an input value compactly: 1.2M, 87k, 0.12.
func short(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", x/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.3gk", x/1e3)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}

// money0 formats x with thousands separators and no decimals. A negative x
// that rounds to zero prints "0", not "-0".
func money0(x float64) string {
	s := fmt.Sprintf("%.0f", math.Abs(x))
	neg := x < 0 && s != "0"
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// errWriter keeps the first write error so printing code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
