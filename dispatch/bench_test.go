package dispatch

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jouleworks/joule/site"
)

// yearHorizon is a synthetic year of 15-minute intervals for benchmarks.
func yearHorizon() *Horizon {
	n := 365 * 96
	hz := &Horizon{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Step: 15 * time.Minute,
		Prices: wavyPrices(n, 42, 40), Hashprice: constant(n, 0.05), TempC: make([]float64, n), Peak: make([]float64, n)}
	for i := range hz.TempC {
		hz.TempC[i] = 22 + 15*math.Sin(float64(i)/96/365*2*math.Pi-1.6) + 6*math.Sin(float64(i)/96*2*math.Pi)
	}
	for _, d := range []int{170, 200, 230, 260} {
		hz.Peak[d*96+70] = 1
	}
	return hz
}

func BenchmarkHindsightYear(b *testing.B) {
	s, hz := site.Reference(), yearHorizon()
	for b.Loop() {
		plan, err := Hindsight(s, hz)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(plan.Iterations), "iterations")
	}
}

// bigSite is 100k miners in 50 tiers and 5k GPUs.
func bigSite() *site.Site {
	s := &site.Site{Name: "big", InterconnectMW: 300, Timezone: "America/Chicago",
		Ancillary: site.Ancillary{PricePerMWh: 5}, FourCP: site.FourCP{RatePerKWYear: 55},
		Cooling: site.Cooling{AboveC: 35, DeratePerC: 0.02, MinFraction: 0.5}}
	for i := 0; i < 50; i++ {
		th := 90 + 5*float64(i)
		s.Tiers = append(s.Tiers, site.Tier{Name: fmt.Sprintf("t%d", i), Count: 2000, SleepW: 15,
			SwitchCost: 0.1, WakeLatency: 5 * time.Minute, SleepLatency: time.Minute,
			MinOn: 30 * time.Minute, MinOff: 15 * time.Minute,
			Profiles: []site.Profile{{Name: "stock", THs: th, W: 3300}, {Name: "eco", THs: th * 0.8, W: 2500}, {Name: "oc", THs: th * 1.1, W: 4000}}})
	}
	ref := site.Reference().GPUPools[0]
	ref.Count, ref.Firm.GPUs = 5000, 2500
	s.GPUPools = []site.GPUPool{ref}
	return s
}

func BenchmarkJouleDecision100k(b *testing.B) {
	s := bigSite()
	hz := yearHorizon()
	at := 200 * 96
	in := &Input{Site: s, Start: hz.Start.Add(time.Duration(at) * hz.Step), Step: hz.Step,
		Prices: hz.Prices[:at], Hashprice: 0.05, TempC: 38,
		SystemLoad: constant(at, 70000), LoadForecast: constant(40, 71000)}
	in.State.Tiers = make([]TierState, len(s.Tiers))
	for i := range in.State.Tiers {
		in.State.Tiers[i].Running = []float64{1000, 0, 0}
	}
	in.State.Jobs = Jobs(s, in.Start.Add(-time.Hour), in.Start.Add(time.Hour))
	var p Joule
	for b.Loop() {
		_ = p.Decide(in)
	}
}
