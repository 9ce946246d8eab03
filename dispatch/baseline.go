package dispatch

import (
	"fmt"
	"time"
)

// AlwaysOn runs every miner at its nominal profile and serves all AI work,
// most efficient miners first when the interconnect is full.
type AlwaysOn struct{}

// Name implements Policy.
func (AlwaysOn) Name() string { return "always-on" }

// Decide implements Policy.
func (AlwaysOn) Decide(in *Input) Decision {
	d := newDecision(in.Site, in.Start, len(in.State.Jobs))
	aiPlan(in, &d, 0, false)
	runNominal(in, &d, func(int) bool { return true })
	d.Reasons = append(d.Reasons, Reason{"site", CodeAlwaysOn, "every miner hashes at its nominal profile"})
	return d
}

// Strike is the industry baseline (Foreman, Braiins Manager, Awesome Miner,
// Luxor): a tier sleeps while the last known price is above its breakeven
// at the nominal profile and hashes otherwise. AI work is always served.
// Minimum on/off times are respected per tier.
type Strike struct{}

// Name implements Policy.
func (Strike) Name() string { return "strike" }

// Decide implements Policy.
func (Strike) Decide(in *Input) Decision {
	s := in.Site
	d := newDecision(s, in.Start, len(in.State.Jobs))
	aiPlan(in, &d, 0, false)
	last := 0.0
	if n := len(in.Prices); n > 0 {
		last = in.Prices[n-1]
	}
	on := make([]bool, len(s.Tiers))
	for i := range s.Tiers {
		t := &s.Tiers[i]
		be := Breakeven(t, t.Profiles[0], in.Hashprice, 0)
		want := last <= be
		was := i < len(in.State.Tiers) && in.State.Tiers[i].On() > 0
		on[i] = want
		switch {
		case want && !was && held(in, t.MinOff, i, false):
			on[i] = false
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeMinOff, "asleep for less than min_off"})
		case !want && was && held(in, t.MinOn, i, true):
			on[i] = true
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeMinOn, "on for less than min_on"})
		case want:
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeStrike, fmt.Sprintf("last price $%.2f/MWh ≤ strike $%.2f/MWh", last, be)})
		default:
			d.Reasons = append(d.Reasons, Reason{t.Name, CodeStrike, fmt.Sprintf("last price $%.2f/MWh > strike $%.2f/MWh", last, be)})
		}
	}
	runNominal(in, &d, func(i int) bool { return on[i] })
	return d
}

// held reports whether tier i changed too recently to change back: since
// its last rise (up) or fall (!up), less than min has passed.
func held(in *Input, min time.Duration, i int, up bool) bool {
	if i >= len(in.State.Tiers) || min <= 0 {
		return false
	}
	ts := in.State.Tiers[i]
	last := ts.LastDown
	if up {
		last = ts.LastUp
	}
	return !last.IsZero() && in.Start.Sub(last) < min
}

// runNominal wakes the allowed tiers at their nominal profile, most
// efficient first, as far as cooling and the interconnect allow.
func runNominal(in *Input, d *Decision, allowed func(int) bool) {
	s := in.Site
	var segs []segment
	for i := range s.Tiers {
		t := &s.Tiers[i]
		if !allowed(i) || t.Count == 0 {
			continue
		}
		p := t.Profiles[0]
		segs = append(segs, segment{tier: i, from: -1, to: 0, dMW: (p.W - t.SleepW) / 1e6,
			value: p.THs, units: runnable(s, t, in.TempC)})
	}
	capped := takeSegments(d, segs, headroom(s, d))
	for i := range s.Tiers {
		if capped[i] {
			d.Reasons = append(d.Reasons, Reason{s.Tiers[i].Name, CodeCap, "interconnect full"})
		}
		if r := runnable(s, &s.Tiers[i], in.TempC); r < float64(s.Tiers[i].Count) && allowed(i) {
			d.Reasons = append(d.Reasons, Reason{s.Tiers[i].Name, CodeDerate, fmt.Sprintf("%.1f °C: at most %.0f of %d miners", in.TempC, r, s.Tiers[i].Count)})
		}
	}
}
