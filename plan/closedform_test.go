package plan

import (
	"context"
	"math"
	"reflect"
	"testing"
)

// flat is a deterministic configuration: no volatility, no price drift, a
// network that does not move, no refresh, no halving inside 3 years (the
// 2024 halving block starts the run) and no exit values.
func flat() Config {
	c := Defaults()
	c.HorizonYears = 3
	c.DiscountRate = 0.10
	c.BTC.Volatility, c.BTC.Drift = 0, 0
	c.HPC.RentVolatility = 0
	c.Power.Volatility, c.Power.Escalator = 0, 0
	c.Network.StartHeight = 840_000
	c.Network.PriceElasticity, c.Network.EfficiencyGainPerYear = 0, 0
	c.Fleet.LifeMonths, c.Fleet.AgeMonths = 1000, 0
	c.Fleet.ShutDownWhenUnprofitable = false
	c.Fleet.ExitMultiple, c.Lease.ExitMultiple, c.HPC.ExitMultiple = 0, 0, 0
	return c
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func run1(t *testing.T, c Config, paths int) *Result {
	t.Helper()
	r, err := Run(context.Background(), c, nil, Options{Paths: paths, Seed: 7, SensitivityPaths: -1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// With no volatility and no halving, mining earns the same every month, so
// its NPV is that cash flow times the monthly annuity factor.
func TestMiningIsAnAnnuity(t *testing.T) {
	c := flat()
	f := c.Fleet
	reward := 4383 * (3.125 + c.Network.FeesBTCPerBlock)          // BTC per month
	share := f.Uptime * (1e6 / f.EfficiencyJPerTH) / (1074 * 1e6) // TH per MW over network TH
	monthly := share*reward*87_000*(1-f.PoolFee) -
		f.Uptime*730.5*45 - f.OpexPerMWYear/12 + f.CurtailmentCreditPerMWYear/12
	i := math.Pow(1.10, 1.0/12) - 1
	n := 36.0
	want := monthly * (1 - math.Pow(1+i, -n)) / i

	r := run1(t, c, 3)
	got := r.Strategies[Mine].NPVPerMW
	if !near(got.Mean, want, 1e-9) || got.P10 != got.P90 {
		t.Fatalf("mining NPV = %.6f (P10 %.6f, P90 %.6f), want annuity %.6f", got.Mean, got.P10, got.P90, want)
	}
	if monthly <= 0 {
		t.Fatalf("test case should be profitable, monthly = %.2f", monthly)
	}
}

// A halving on a month boundary halves mining revenue from that month on;
// one inside a month prorates that month block by block.
func TestHalvingHalvesRevenue(t *testing.T) {
	c := flat()
	c.Network.FeesBTCPerBlock = 0
	c.Network.StartHeight = 1_050_000 - 10*BlocksPerMonth
	d, err := Detail(c, nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	flows := d.Flows[Mine]
	before := flows[9].Revenue
	for k := 10; k < len(flows); k++ {
		if got := flows[k].Revenue; !near(got, before/2, 1e-12) {
			t.Fatalf("month %d revenue = %.4f, want half of %.4f", k, got, before)
		}
	}
	for k := 0; k < 10; k++ {
		if flows[k].Revenue != before {
			t.Fatalf("month %d revenue = %.4f before the halving, want %.4f", k, flows[k].Revenue, before)
		}
	}

	// 1,000 blocks of month 9 fall after the halving.
	c.Network.StartHeight += 1000
	m, err := newModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := (BlocksPerMonth-1000)*3.125 + 1000*1.5625
	if got := m.rewardBTC[9]; got != want {
		t.Fatalf("month 9 reward = %v BTC, want %v", got, want)
	}
	if m.nextHalvingMonth() != 9 {
		t.Fatalf("next halving month = %d, want 9", m.nextHalvingMonth())
	}
}

// With zero rent the lease is a capex with nothing after it.
func TestZeroRentLeaseIsMinusCapex(t *testing.T) {
	c := Defaults()
	c.Lease.RentPerMWYear = 0
	r := run1(t, c, 2)
	want := -c.Lease.ConversionCapexPerMW * c.Site.ITFraction
	if got := r.Strategies[Lease].NPVPerMW.Mean; got != want {
		t.Fatalf("lease NPV = %.2f, want −capex %.2f", got, want)
	}
}

// blockReward sums the consensus subsidy (market.SubsidyAtHeight, tested
// there) over a block range, including ranges that straddle a halving.
func TestBlockReward(t *testing.T) {
	for _, tc := range []struct {
		from, to int
		want     float64
	}{
		{0, 1, 50}, {209_999, 210_001, 75}, {839_000, 841_000, 1000*6.25 + 1000*3.125},
		{840_000, 840_000 + BlocksPerMonth, BlocksPerMonth * 3.125}, {6_930_000, 6_930_010, 0},
	} {
		if got := blockReward(tc.from, tc.to); got != tc.want {
			t.Errorf("blockReward(%d, %d) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

// Spot power keeps the expected price: each month's draw is mean-one
// lognormal around the escalated PPA-style mean.
func TestSpotPowerMean(t *testing.T) {
	c := Defaults()
	c.Power.Model, c.Power.Volatility = "spot", 0.4
	c.HorizonYears = 2
	m, err := newModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.newScratch()
	const n = 20_000
	sum := make([]float64, m.T)
	for p := 0; p < n; p++ {
		m.draw(s, 2, p, allStrategies)
		for k := range sum {
			sum[k] += s.pw[k]
		}
	}
	for _, k := range []int{0, 11, 12, 23} {
		got, want := sum[k]/n, m.powerMean[k]
		if math.Abs(got/want-1) > 0.015 { // σ/√n ≈ 0.3 %
			t.Errorf("month %d mean spot price %.2f, want ≈ %.2f", k, got, want)
		}
	}
	if m.powerMean[12] != c.Power.PricePerMWh*(1+c.Power.Escalator) {
		t.Errorf("month 12 mean %.4f, want one escalator step", m.powerMean[12])
	}
	r := run1(t, c, 200)
	if s := r.Strategies[HPC].NPVPerMW; !(s.P90 > s.P10) {
		t.Fatalf("spot power run has no spread: %+v", s)
	}
}

// GBM's mean price grows at the drift: E[P(T)] = P0·e^{μT}.
func TestGBMMean(t *testing.T) {
	c := Defaults()
	c.HorizonYears = 5
	m, err := newModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.newScratch()
	const n = 20_000
	var sum float64
	for p := 0; p < n; p++ {
		m.draw(s, 3, p, allStrategies)
		sum += math.Exp(s.lp[m.T-1])
	}
	mean := sum / n
	want := c.BTC.PriceUSD * math.Exp(c.BTC.Drift*float64(m.T-1)/12)
	// σ√t ≈ 1.03 at 59 months: the standard error of the mean is ≈ 1 %.
	if !near(mean, want, 0.04) {
		t.Fatalf("mean price at month %d = %.0f, want ≈ %.0f", m.T-1, mean, want)
	}
}

// Results depend on the seed only: not on worker count or scheduling.
func TestDeterministicBySeed(t *testing.T) {
	c := Defaults()
	c.HorizonYears = 5
	ctx := context.Background()
	a, err := Run(ctx, c, nil, Options{Paths: 700, Seed: 42, Workers: 1, SensitivityPaths: 60})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(ctx, c, nil, Options{Paths: 700, Seed: 42, Workers: 5, SensitivityPaths: 60})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Strategies, b.Strategies) || !reflect.DeepEqual(a.Tornado, b.Tornado) ||
		!reflect.DeepEqual(a.Breakeven, b.Breakeven) || !reflect.DeepEqual(a.npv, b.npv) {
		t.Fatal("same seed, different worker count: results differ")
	}
	d, err := Run(ctx, c, nil, Options{Paths: 700, Seed: 43, SensitivityPaths: -1})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.npv, d.npv) {
		t.Fatal("seeds 42 and 43 gave identical paths")
	}
}

// Detail replays exactly the path Run valued.
func TestDetailMatchesRun(t *testing.T) {
	c := Defaults()
	r := run1(t, c, 40)
	for _, p := range []int{0, 17, 39} {
		d, err := Detail(c, nil, 7, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range Strategies {
			if got, want := d.NPV[s], r.NPVs(s)[p]; got != want {
				t.Fatalf("path %d %s: Detail NPV %.4f, Run %.4f", p, s, got, want)
			}
		}
	}
}

// The switch rule may only use the path up to the decision month: changing
// the future must not change today's decision.
func TestSwitchRuleHasNoLookAhead(t *testing.T) {
	c := Defaults()
	m, err := newModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.newScratch()
	for p := 0; p < 50; p++ {
		m.draw(s, 9, p, allStrategies)
		for _, k := range []int{0, 5, 30, 100} {
			d1, t1 := m.decide(s, k, m.newFleet())
			for i := k + 1; i < m.T; i++ {
				s.ph[i] *= 100
				s.gm[i] *= 0.01
				s.pw[i] *= 3
			}
			d2, t2 := m.decide(s, k, m.newFleet())
			if d1 != d2 || t1 != t2 {
				t.Fatalf("path %d month %d: decision changed with the future (%v %v → %v %v)", p, k, d1, t1, d2, t2)
			}
			m.draw(s, 9, p, allStrategies)
		}
	}
}

// The switch rule converts when the conversion clearly pays and never
// when it clearly does not.
func TestSwitchRuleDirection(t *testing.T) {
	c := Defaults()
	c.Lease.RentPerMWYear = 4_000_000
	r := run1(t, c, 200)
	if r.Switch.ConversionProbability < 0.99 || r.Switch.ToLease < 0.99 {
		t.Fatalf("rich lease: conversion probability %.2f (lease %.2f), want ≈ 1", r.Switch.ConversionProbability, r.Switch.ToLease)
	}
	c = Defaults()
	c.Switch.Target = "lease"
	c.Lease.RentPerMWYear = 0
	r = run1(t, c, 200)
	if r.Switch.ConversionProbability != 0 {
		t.Fatalf("zero rent: conversion probability %.2f, want 0", r.Switch.ConversionProbability)
	}
	if r.Strategies[Switch].NPVPerMW != r.Strategies[Mine].NPVPerMW {
		t.Fatal("a switch that never converts should equal mining")
	}
}

// At the reported breakeven BTC price, mining's mean NPV equals leasing's.
func TestBreakevenIsARoot(t *testing.T) {
	c := Defaults()
	c.HorizonYears = 6
	ctx := context.Background()
	r, err := Run(ctx, c, nil, Options{Paths: 100, Seed: 5, SensitivityPaths: 100})
	if err != nil {
		t.Fatal(err)
	}
	lease := r.Strategies[Lease].NPVPerMW.Mean
	for _, b := range r.Breakeven.BTCPrice {
		if !b.Found {
			continue
		}
		cc := c
		cc.Power.PricePerMWh = b.PowerPricePerMWh
		cc.BTC.PriceUSD = b.BTCPriceUSD
		mean, err := meanNPV(ctx, cc, nil, 5, 100, allStrategies, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !near(mean[Mine], lease, 1e-4) {
			t.Fatalf("at $%.0f and $%.0f/MWh mining = %.0f, lease = %.0f", b.BTCPriceUSD, b.PowerPricePerMWh, mean[Mine], lease)
		}
	}
	for _, b := range r.Breakeven.GPURent {
		if !b.Found {
			t.Fatalf("no GPU rent breakeven at utilisation %.2f", b.Utilisation)
		}
		cc := c
		cc.HPC.Utilisation, cc.HPC.RentPerGPUHour = b.Utilisation, b.RentPerGPUHour
		mean, err := meanNPV(ctx, cc, nil, 5, 100, allStrategies, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !near(mean[HPC], lease, 1e-4) {
			t.Fatalf("at $%.3f/GPU-h and %.0f %% HPC = %.0f, lease = %.0f", b.RentPerGPUHour, b.Utilisation*100, mean[HPC], lease)
		}
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	st := newStats(s)
	if st.P10 != 2 || st.P50 != 6 || st.P90 != 10 || st.Mean != 6 {
		t.Fatalf("stats = %+v, want P10 2, P50 6, P90 10, mean 6", st)
	}
	if got := quantile([]float64{0, 10}, 0.25); got != 2.5 {
		t.Fatalf("quantile interpolation = %v, want 2.5", got)
	}
}

// The tornado skips strategies a lever cannot move; recomputing every
// strategy must give the same numbers.
func TestTornadoSkipsOnlyUnaffectedStrategies(t *testing.T) {
	c := Defaults()
	c.HorizonYears = 4
	ctx := context.Background()
	rows, err := tornado(ctx, c, nil, 3, 30, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		var l lever
		for _, x := range levers {
			if x.key == row.Input {
				l = x
			}
		}
		cc := c
		*l.field(&cc) = row.Low
		full, err := meanNPV(ctx, cc, nil, 3, 30, allStrategies, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range Strategies {
			if got, want := row.NPVPerWLo[s.String()], full[s]/1e6; got != want {
				t.Errorf("%s low, %s: tornado %v, full recompute %v", row.Input, s, got, want)
			}
		}
	}
}
