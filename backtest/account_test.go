package backtest

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// scripted is a policy that replays fixed miner counts for tier 0.
type scripted struct{ on []float64 }

func (scripted) Name() string { return "scripted" }
func (p scripted) Decide(in *dispatch.Input) dispatch.Decision {
	t := int(in.Start.Sub(t0) / in.Step)
	n := float64(in.Site.Tiers[0].Count)
	return dispatch.Decision{Start: in.Start, Jobs: make([]float64, len(in.State.Jobs)),
		Tiers: []dispatch.TierDecision{{Running: []float64{p.on[t]}, Sleeping: n - p.on[t]}}}
}

func series(name string, step time.Duration, v ...float64) market.Series {
	return market.Series{Name: name, Start: t0, Step: step, Values: v}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestAccountingByHand checks a miners-only site against a hand
// (spreadsheet) computation: 10 miners of 100 TH/s at 3,000 W, 10 W asleep,
// no switching cost or latency, four 15-minute intervals.
func TestAccountingByHand(t *testing.T) {
	s := &site.Site{Name: "hand", InterconnectMW: 1, Tiers: []site.Tier{{Name: "a", Count: 10, SleepW: 10,
		Profiles: []site.Profile{{Name: "stock", THs: 100, W: 3000}}}}}
	in := Inputs{
		Prices:    series("price", 15*time.Minute, 20, 50, 200, -10),
		Hashprice: series("hashprice", 24*time.Hour, 0.05),
	}
	res, err := Run(context.Background(), s, in, Options{Policies: []dispatch.Policy{scripted{[]float64{10, 6, 0, 10}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Policies[0]
	// Spreadsheet:
	// mining  = 0.05 $/TH/day × 100 TH/s × (10+6+0+10) miners × 0.25/24 day = 1.354166…
	// load MW = 0.030, 6×0.003+4×0.00001 = 0.01804, 10×0.00001 = 0.0001, 0.030
	// energy  = 0.25 h × (20×0.03 + 50×0.01804 + 200×0.0001 − 10×0.03) = 0.3055
	want := Account{
		Mining:         0.05 * 100 * 26 * 0.25 / 24,
		Energy:         0.3055,
		MWh:            0.25 * (0.03 + 0.01804 + 0.0001 + 0.03),
		CurtailedHours: 0.25 * (0.4 + 1.0),
		Starts:         10,
	}
	want.Profit = want.Mining - want.Energy
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"mining", got.Mining, want.Mining}, {"energy", got.Energy, want.Energy},
		{"profit", got.Profit, want.Profit}, {"MWh", got.MWh, want.MWh},
		{"curtailed hours", got.CurtailedHours, want.CurtailedHours}, {"starts", got.Starts, want.Starts},
		{"AI", got.AI, 0}, {"ancillary", got.Ancillary, 0}, {"4CP", got.FourCP, 0}, {"switching", got.Switching, 0},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %.9f, want %.9f", c.name, c.got, c.want)
		}
	}
}

// richSite has every revenue and cost source.
func richSite() *site.Site {
	s := &site.Site{Name: "rich", InterconnectMW: 0.8, Timezone: "America/Chicago",
		Contract:  site.Contract{Kind: site.ContractPPA, PricePerMWh: 40, MW: 0.5},
		FourCP:    site.FourCP{RatePerKWYear: 50},
		Ancillary: site.Ancillary{PricePerMWh: 6},
		Cooling:   site.Cooling{AboveC: 30, DeratePerC: 0.05, MinFraction: 0.5},
		Tiers: []site.Tier{
			{Name: "old", Count: 100, SleepW: 10, SwitchCost: 0.2, WakeLatency: 5 * time.Minute, SleepLatency: time.Minute,
				MinOn: 30 * time.Minute, MinOff: 15 * time.Minute,
				Profiles: []site.Profile{{Name: "stock", THs: 100, W: 3000}, {Name: "eco", THs: 80, W: 2200}}},
			{Name: "new", Count: 80, SleepW: 20, SwitchCost: 0.3, WakeLatency: 3 * time.Minute, SleepLatency: 20 * time.Minute,
				Cooling:  site.CoolingHydro,
				Profiles: []site.Profile{{Name: "stock", THs: 200, W: 3500}, {Name: "oc", THs: 230, W: 4400}}},
		},
		GPUPools: []site.GPUPool{{Name: "gpu", Count: 60, LoadW: 1200, IdleW: 200,
			Firm:  site.FirmLease{GPUs: 10, PricePerGPUHour: 2},
			Batch: []site.BatchJob{{Name: "job", GPUHours: 40, PricePerGPUHour: 1.5, Every: 3 * time.Hour}},
			Inference: site.Inference{PricePerGPUHour: 2.5, GPUsByHour: []float64{
				5, 5, 5, 5, 5, 5, 10, 15, 20, 25, 30, 30, 30, 30, 30, 25, 20, 15, 10, 10, 5, 5, 5, 5}}}},
	}
	return s
}

func richInputs(n int) Inputs {
	p := make([]float64, n)
	temp := make([]float64, n/4)
	for i := range p {
		p[i] = 45 + 30*math.Sin(float64(i)/5)
		if i%17 == 3 {
			p[i] = 900
		}
		if i%23 == 5 {
			p[i] = -15
		}
	}
	for i := range temp {
		temp[i] = 28 + 6*math.Sin(float64(i)/4)
	}
	// System load covers all of June (Central time) so June has a known
	// peak, at 20:00Z on the 3rd, inside the price window.
	loadStart := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	load := make([]float64, 31*24)
	for i := range load {
		load[i] = 60000 + 10000*math.Sin(float64(i)/3)
	}
	load[2*24+20] = 80000
	start := time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)
	return Inputs{
		Prices:      market.Series{Start: start, Step: 15 * time.Minute, Values: p},
		Hashprice:   market.Series{Start: start.Add(-24 * time.Hour), Step: 24 * time.Hour, Values: []float64{0.06, 0.055, 0.05}},
		SystemLoad:  market.Series{Start: loadStart, Step: time.Hour, Values: load},
		Temperature: market.Series{Start: start, Step: time.Hour, Values: temp},
	}
}

// TestAccountsReconcile runs every policy on a site with every revenue and
// cost source: components must sum to profit, and the hindsight plan's
// accounted profit must equal the LP optimum and beat every online policy.
func TestAccountsReconcile(t *testing.T) {
	s := richSite()
	res, err := Run(context.Background(), s, richInputs(96), Options{Hindsight: true,
		Policies: []dispatch.Policy{dispatch.AlwaysOn{}, dispatch.Strike{}, dispatch.Joule{}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 6, 3, 20, 0, 0, 0, time.UTC); len(res.Peaks) != 1 || !res.Peaks[0].Equal(want) {
		t.Fatalf("peaks = %v, want the June peak at %v", res.Peaks, want)
	}
	hs := res.Policies[len(res.Policies)-1]
	for _, p := range res.Policies {
		sum := p.Mining + p.AI + p.Ancillary + p.Resale - p.Energy - p.FourCP - p.Switching
		if !near(sum, p.Profit) {
			t.Errorf("%s: components sum to %.6f, profit %.6f", p.Policy, sum, p.Profit)
		}
		if p.Policy != HindsightName && p.Profit > hs.Profit+1e-6 {
			t.Errorf("%s profit %.4f above hindsight %.4f", p.Policy, p.Profit, hs.Profit)
		}
		if p.AI <= 0 || p.Mining <= 0 || p.Energy <= 0 || p.FourCP <= 0 {
			t.Errorf("%s: AI %.4f, mining %.4f, energy %.4f, 4CP %.4f: want every source exercised", p.Policy, p.AI, p.Mining, p.Energy, p.FourCP)
		}
		if p.Policy == "joule" && (p.Resale <= 0 || p.Ancillary <= 0 || p.Switching <= 0) {
			t.Errorf("joule: resale %.4f, ancillary %.4f, switching %.4f: want every source exercised", p.Resale, p.Ancillary, p.Switching)
		}
		t.Logf("%-9s profit %10.4f mining %9.4f AI %9.4f anc %7.4f resale %7.4f energy %8.4f 4cp %8.4f switch %6.4f",
			p.Policy, p.Profit, p.Mining, p.AI, p.Ancillary, p.Resale, p.Energy, p.FourCP, p.Switching)
	}
	if math.Abs(hs.Profit-hs.Bound) > 1e-6*math.Abs(hs.Bound) {
		t.Errorf("hindsight accounted profit %.9f, LP optimum %.9f", hs.Profit, hs.Bound)
	}
}

// TestOddSites runs every policy and hindsight on degenerate but valid
// sites: nothing must panic and accounts must still reconcile.
func TestOddSites(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*site.Site)
	}{
		{"no machines", func(s *site.Site) { s.Tiers, s.GPUPools = nil, nil }},
		{"empty tier", func(s *site.Site) { s.Tiers[0].Count = 0 }},
		{"all GPUs firm", func(s *site.Site) { s.GPUPools[0].Firm.GPUs = s.GPUPools[0].Count }},
		{"no AI work", func(s *site.Site) { s.GPUPools[0].Batch, s.GPUPools[0].Inference = nil, site.Inference{} }},
		{"cap at fixed load", func(s *site.Site) { s.InterconnectMW = s.FixedMW() + 1e-6 }},
		{"one-off job outside the period", func(s *site.Site) {
			s.GPUPools[0].Batch = []site.BatchJob{{Name: "old", GPUHours: 5, Release: t0.AddDate(-1, 0, 0), Deadline: t0.AddDate(-1, 0, 1)}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := richSite()
			tc.edit(s)
			res, err := Run(context.Background(), s, richInputs(24), Options{Hindsight: true, Trace: true, Policies: dispatch.Online()})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Policies {
				sum := p.Mining + p.AI + p.Ancillary + p.Resale - p.Energy - p.FourCP - p.Switching
				if !near(sum, p.Profit) || math.IsNaN(p.Profit) {
					t.Errorf("%s: components %.6f, profit %.6f", p.Policy, sum, p.Profit)
				}
			}
		})
	}
}

func TestRunInputErrors(t *testing.T) {
	s := richSite()
	in := richInputs(24)
	short := in
	short.Hashprice.Values = short.Hashprice.Values[:1]
	if _, err := Run(context.Background(), s, short, Options{Policies: dispatch.Online()}); err == nil {
		t.Error("hashprice not covering the period: no error")
	}
	if _, err := Run(context.Background(), s, Inputs{}, Options{}); err != ErrNoData {
		t.Errorf("no prices: error %v, want ErrNoData", err)
	}
	bad := richSite()
	bad.InterconnectMW = -1
	if _, err := Run(context.Background(), bad, in, Options{}); err == nil {
		t.Error("invalid site: no error")
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, richSite(), richInputs(96), Options{Hindsight: true, Policies: dispatch.Online()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the start: error %v, want context.Canceled", err)
	}
	// Cancelled mid-run: the policy loop checks every 4,096 intervals.
	ctx, cancel = context.WithCancel(context.Background())
	opt := Options{Hindsight: true, Policies: dispatch.Online(), Progress: func(done, total int) {
		if done >= 4096 {
			cancel()
		}
	}}
	if _, err := Run(ctx, site.Reference(), scenarioInputs(60), opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled mid-run: error %v, want context.Canceled", err)
	}
}

// TestPartialMonthNoPeak: a load series covering only part of June says
// nothing about June's peak, so no 4CP is charged.
func TestPartialMonthNoPeak(t *testing.T) {
	in := richInputs(96)
	in.SystemLoad = market.Series{Start: in.Prices.Start, Step: time.Hour, Values: constant(24, 70000)}
	res, err := Run(context.Background(), richSite(), in, Options{Policies: []dispatch.Policy{dispatch.AlwaysOn{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Peaks) != 0 || res.Policies[0].FourCP != 0 {
		t.Errorf("peaks %v, 4CP $%.2f: want none from a partial month", res.Peaks, res.Policies[0].FourCP)
	}
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
