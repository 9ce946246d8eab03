package dispatch

import (
	"fmt"
	"math"
	"time"
)

// Joule is the product policy. It is online: it knows prices up to the
// previous interval, the current hashprice and temperature, and the
// day-ahead system load forecast, and it forecasts the current price itself.
// Each interval it
//   - serves AI work first (firm leases always; inference and batch while
//     they pay more than the expected power price, batch before deadlines),
//   - fills the remaining capacity with miners, most efficient per MW first
//     (least efficient last), choosing each tier's power profile on the
//     upper hull of value against power, and counting ancillary payments
//     for load that can be shed within 10 minutes,
//   - starts miners only when the expected gain over StartPayback covers
//     the switching and wake-up cost, and honours minimum on/off times,
//   - sheds curtailable load in likely 4CP intervals, and
//   - offers all curtailable running load as ancillary capacity.
//
// The zero value uses the documented defaults.
type Joule struct {
	// Lookback is the price history the forecast uses (default 7 days).
	Lookback time.Duration
	// StartPayback is the horizon a start must pay back over (default 4h):
	// once a spike has passed, ERCOT prices stay below a miner's breakeven
	// for hours, so a shorter horizon keeps miners asleep through cheap
	// power for the sake of a few cents of wear.
	StartPayback time.Duration
	// PeakDayMargin: an interval is a likely 4CP when its load forecast is
	// within this share of the day's forecast peak (default 0.01) ...
	PeakDayMargin float64
	// PeakMonthMargin: ... and within this share of the month's highest
	// load so far (default 0.02), in June to September.
	PeakMonthMargin float64
	// PeakWeight is the probability a likely 4CP interval is charged at,
	// turned into a price adder (default 0.5).
	PeakWeight float64
}

// Name implements Policy.
func (Joule) Name() string { return "joule" }

func (j Joule) withDefaults() Joule {
	if j.Lookback <= 0 {
		j.Lookback = 7 * 24 * time.Hour
	}
	if j.StartPayback <= 0 {
		j.StartPayback = 4 * time.Hour
	}
	if j.PeakDayMargin <= 0 {
		j.PeakDayMargin = 0.01
	}
	if j.PeakMonthMargin <= 0 {
		j.PeakMonthMargin = 0.02
	}
	if j.PeakWeight <= 0 {
		j.PeakWeight = 0.5
	}
	return j
}

// Decide implements Policy.
func (j Joule) Decide(in *Input) Decision {
	j = j.withDefaults()
	s := in.Site
	h := in.Step.Hours()
	d := newDecision(s, in.Start, len(in.State.Jobs))

	price := ForecastPrice(in.Prices, in.Start, in.Step, j.Lookback)
	d.Reasons = append(d.Reasons, Reason{"site", "forecast", fmt.Sprintf("expected price $%.2f/MWh", price)})
	value := price
	if risk, why := j.peakRisk(in); risk {
		adder := j.PeakWeight * s.FourCP.RatePerKWYear * 1000 / 4 / h
		value += adder
		d.Reasons = append(d.Reasons, Reason{"4cp", CodeFourCP, why + fmt.Sprintf("; power valued at +$%.0f/MWh", adder)})
	}

	d.Reasons = append(d.Reasons, Reason{"site", CodeAIFirst, "AI work is placed before miners"})
	aiPlan(in, &d, value, true)

	hold := math.Max(1, float64(j.StartPayback)/float64(in.Step))
	var segs []segment
	limits := make([]float64, len(s.Tiers))
	for i := range s.Tiers {
		t := &s.Tiers[i]
		vals := make([]float64, len(t.Profiles))
		for k, p := range t.Profiles {
			dMW := (p.W - t.SleepW) / 1e6
			vals[k] = p.THs*in.Hashprice/24*h - dMW*value*h
			if ancillaryEligible(t) {
				vals[k] += s.Ancillary.PricePerMWh * dMW * h
			}
		}
		limit := runnable(s, t, in.TempC)
		limits[i] = limit
		var running float64
		if i < len(in.State.Tiers) {
			running = math.Min(in.State.Tiers[i].On(), limit)
		}
		hs := hull(i, t, vals)
		mustKeep := held(in, t.MinOn, i, true)
		noStart := held(in, t.MinOff, i, false)
		if mustKeep && running > 0 {
			if len(hs) == 0 {
				// Nothing pays, but the miners may not sleep yet: keep them
				// at their most valuable profile.
				best := 0
				for k := range vals {
					if vals[k] > vals[best] {
						best = k
					}
				}
				hs = []segment{{tier: i, from: -1, to: best, dMW: (t.Profiles[best].W - t.SleepW) / 1e6, value: vals[best]}}
			}
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeMinOn, fmt.Sprintf("%.0f miners on for less than %s", running, t.MinOn)})
		}
		for n, sg := range hs {
			sg.units = limit
			if n > 0 {
				segs = append(segs, sg)
				continue
			}
			// The first segment wakes miners: split it into those already
			// on (no start cost) and new starts (cost amortised over hold).
			keep := sg
			keep.units = running
			keep.must = mustKeep
			segs = append(segs, keep)
			if noStart {
				if running < limit {
					d.Reasons = append(d.Reasons, Reason{t.Name, CodeMinOff, fmt.Sprintf("asleep for less than %s", t.MinOff)})
				}
				continue
			}
			start := startCost(t, in.Step, in.Hashprice)
			fresh := sg
			fresh.units = limit - running
			fresh.value -= start / hold
			if fresh.value > 0 {
				segs = append(segs, fresh)
			} else if limit > running {
				d.Reasons = append(d.Reasons, Reason{t.Name, CodeHysteresis, fmt.Sprintf("a start ($%.3f/miner) would not pay back within %s", start, j.StartPayback)})
			}
		}
		if len(hs) == 0 && !mustKeep {
			be := Breakeven(t, t.Profiles[0], in.Hashprice, s.Ancillary.PricePerMWh)
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeSleep, fmt.Sprintf("expected $%.2f/MWh above breakeven $%.2f/MWh", value, be)})
		}
	}
	capped := takeSegments(&d, segs, headroom(s, &d))
	for i := range s.Tiers {
		t := &s.Tiers[i]
		td := d.Tiers[i]
		if on := td.On(); on > 0 {
			k := 0
			for kk := range td.Running {
				if td.Running[kk] > td.Running[k] {
					k = kk
				}
			}
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeRun, fmt.Sprintf("%.0f on (mostly %s): expected $%.2f/MWh below breakeven $%.2f/MWh",
				on, t.Profiles[k].Name, value, Breakeven(t, t.Profiles[k], in.Hashprice, s.Ancillary.PricePerMWh))})
		}
		if capped[i] {
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeCap, "interconnect full"})
		}
		if limits[i] < float64(t.Count) {
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeDerate, fmt.Sprintf("%.1f °C: at most %.0f of %d miners", in.TempC, limits[i], t.Count)})
		}
	}
	d.AncillaryMW = AncillaryMW(s, &d)
	if d.AncillaryMW > 0 {
		d.Reasons = append(d.Reasons, Reason{"ancillary", CodeAncillary, fmt.Sprintf("%.2f MW offered (miners that sleep within 10 min)", d.AncillaryMW)})
	}
	return d
}

// peakRisk reports whether the interval is a likely 4CP: June to September
// (site time), the load forecast near the day's forecast peak and near or
// above the month's highest load so far.
func (j Joule) peakRisk(in *Input) (bool, string) {
	s := in.Site
	if s.FourCP.RatePerKWYear <= 0 || len(in.LoadForecast) == 0 {
		return false, ""
	}
	loc := s.Location()
	now := in.Start.In(loc)
	if m := now.Month(); m < time.June || m > time.September {
		return false, ""
	}
	f := in.LoadForecast[0]
	dayMax := 0.0
	for _, v := range in.LoadForecast {
		dayMax = math.Max(dayMax, v)
	}
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	n := len(in.SystemLoad)
	at := func(i int) time.Time { return in.Start.Add(-time.Duration(n-i) * in.Step) }
	i := n - 1
	for ; i >= 0 && !at(i).Before(dayStart); i-- {
		dayMax = math.Max(dayMax, in.SystemLoad[i])
	}
	if f < (1-j.PeakDayMargin)*dayMax {
		return false, ""
	}
	// Only near the day's peak is the month's history worth a look.
	monthMax := dayMax
	for ; i >= 0 && !at(i).Before(monthStart); i-- {
		monthMax = math.Max(monthMax, in.SystemLoad[i])
	}
	if f < (1-j.PeakMonthMargin)*monthMax {
		return false, ""
	}
	return true, fmt.Sprintf("system load forecast %.0f MW: day peak %.0f MW, month high so far %.0f MW", f, dayMax, monthMax)
}

// ForecastPrice predicts the price of the interval starting at start from
// the prices before it: the time-of-day mean over lookback plus the last
// interval's deviation from its own time-of-day mean, damped by the
// lag-one autocorrelation of those deviations. Means and the correlation
// use prices clipped to [-50, 300] $/MWh so one spike does not skew them;
// the last price enters unclipped so a running spike carries on.
func ForecastPrice(prices []float64, start time.Time, step, lookback time.Duration) float64 {
	n := len(prices)
	if n == 0 {
		return 0
	}
	last := prices[n-1]
	if step <= 0 || step > time.Hour {
		return last
	}
	perHour := int(time.Hour / step)
	perDay := int(24 * time.Hour / step)
	if perHour < 1 || perDay < 1 || n < perDay {
		return last
	}
	m := int(lookback / step)
	if m > n {
		m = n
	}
	tail := prices[n-m:]
	// Bins are UTC hours; tail[i] starts at start-(m-i)*step.
	first := start.Add(-time.Duration(m) * step)
	slot0 := int(first.Unix()/int64(step/time.Second)) % perDay
	if slot0 < 0 {
		slot0 += perDay
	}
	clip := func(v float64) float64 {
		if v < -50 {
			return -50
		}
		if v > 300 {
			return 300
		}
		return v
	}
	var sum, cnt [24]float64
	slot := slot0
	for _, v := range tail {
		b := slot / perHour % 24
		sum[b] += clip(v)
		cnt[b]++
		if slot++; slot == perDay {
			slot = 0
		}
	}
	binNow := slot / perHour % 24
	var mean [24]float64
	for b := range mean {
		mean[b] = last
		if cnt[b] > 0 {
			mean[b] = sum[b] / cnt[b]
		}
	}
	var sxy, sxx float64
	slot = slot0
	prev := clip(tail[0]) - mean[slot/perHour%24]
	binLast := slot / perHour % 24
	for i := 1; i < m; i++ {
		if slot++; slot == perDay {
			slot = 0
		}
		binLast = slot / perHour % 24
		y := clip(tail[i]) - mean[binLast]
		sxy += prev * y
		sxx += prev * prev
		prev = y
	}
	// Without variation to learn from (deviations under $1/MWh), the last
	// price is the best guess.
	phi := 1.0
	if sxx > float64(m) {
		phi = math.Max(0, math.Min(1, sxy/sxx))
	}
	return mean[binNow] + phi*(last-mean[binLast])
}
