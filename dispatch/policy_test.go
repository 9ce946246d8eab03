package dispatch

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jouleworks/joule/site"
)

// input is a decision snapshot: a 2 MW connection, a price history around
// $40 ending in last, hashprice 0.05 $/TH/day, every miner on at its first profile.
func input(s *site.Site, last float64) *Input {
	s.InterconnectMW = 2
	// An AR(1) history around $40 so the forecast has persistence to learn.
	r := rand.New(rand.NewPCG(1, 2))
	hist := make([]float64, 3*96)
	dev := 0.0
	for i := range hist {
		dev = 0.8*dev + r.NormFloat64()*3
		hist[i] = 40 + dev
	}
	hist[len(hist)-1] = last
	in := &Input{Site: s, Start: t0.Add(3 * 24 * time.Hour), Step: 15 * time.Minute,
		Prices: hist, Hashprice: 0.05, TempC: math.NaN()}
	in.State.Tiers = make([]TierState, len(s.Tiers))
	for i, t := range s.Tiers {
		in.State.Tiers[i].Running = make([]float64, len(t.Profiles))
		in.State.Tiers[i].Running[0] = float64(t.Count)
	}
	return in
}

func hasReason(d Decision, subject, code string) bool {
	return slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Subject == subject && r.Code == code })
}

func whole(t *testing.T, d Decision) {
	t.Helper()
	for i, td := range d.Tiers {
		for _, n := range append(slices.Clone(td.Running), td.Sleeping) {
			if n != math.Trunc(n) || n < 0 {
				t.Fatalf("tier %d: count %v is not a whole non-negative number", i, n)
			}
		}
	}
}

// Breakevens of tinySite at 0.05 $/TH/day: old stock $69.9/MWh, old eco
// $76.1, new stock $119.7, new oc $109.2.
var policyCases = []struct {
	name   string
	policy Policy
	edit   func(*Input)
	check  func(*testing.T, *Input, Decision)
}{
	{"always-on runs everything", AlwaysOn{}, func(in *Input) { in.Prices[len(in.Prices)-1] = 3000 },
		func(t *testing.T, in *Input, d Decision) {
			if d.Tiers[0].Running[0] != 200 || d.Tiers[1].Running[0] != 150 {
				t.Errorf("running = %v %v, want all at stock", d.Tiers[0].Running, d.Tiers[1].Running)
			}
		}},
	{"strike sleeps tiers above their strike", Strike{}, func(in *Input) { in.Prices[len(in.Prices)-1] = 90 },
		func(t *testing.T, in *Input, d Decision) {
			if d.Tiers[0].On() != 0 || d.Tiers[1].Running[0] != 150 {
				t.Errorf("old on %v, new %v: want old asleep ($90 > $69.9), new at stock", d.Tiers[0].On(), d.Tiers[1].Running)
			}
		}},
	{"strike honours min on", Strike{}, func(in *Input) {
		in.Prices[len(in.Prices)-1] = 500
		in.Site.Tiers[0].MinOn = time.Hour
		in.State.Tiers[0].LastUp = in.Start.Add(-30 * time.Minute)
	}, func(t *testing.T, in *Input, d Decision) {
		if d.Tiers[0].On() != 200 || !hasReason(d, "old", CodeMinOn) || d.Tiers[1].On() != 0 {
			t.Errorf("old on %v, new on %v, reasons %v: want old kept on by min-on, new asleep", d.Tiers[0].On(), d.Tiers[1].On(), d.Reasons)
		}
	}},
	{"joule sleeps everything in a spike", Joule{}, func(in *Input) { in.Prices[len(in.Prices)-1] = 2000 },
		func(t *testing.T, in *Input, d Decision) {
			if d.Tiers[0].On()+d.Tiers[1].On() != 0 || !hasReason(d, "old", CodeSleep) {
				t.Errorf("on %v/%v, reasons %v: want all asleep with %s", d.Tiers[0].On(), d.Tiers[1].On(), d.Reasons, CodeSleep)
			}
		}},
	{"joule picks the profile on the hull", Joule{}, func(in *Input) {},
		func(t *testing.T, in *Input, d Decision) {
			// At about $40/MWh the S21-like tier earns more overclocked.
			if d.Tiers[1].Running[1] != 150 || d.Tiers[0].Running[0] != 200 {
				t.Errorf("running %v %v: want old at stock, new overclocked", d.Tiers[0].Running, d.Tiers[1].Running)
			}
		}},
	{"joule fills a binding cap most efficient first", Joule{}, func(in *Input) { in.Site.InterconnectMW = 0.7 },
		func(t *testing.T, in *Input, d Decision) {
			if d.Tiers[1].On() != 150 || d.Tiers[0].On() >= 200 || !hasReason(d, "old", CodeCap) {
				t.Errorf("on old %v new %v: want new all on, old capped", d.Tiers[0].On(), d.Tiers[1].On())
			}
			if l := LoadMW(in.Site, &d); l > 0.7 {
				t.Errorf("load %.4f MW above the 0.7 MW cap", l)
			}
		}},
	{"joule waits out a start that does not pay", Joule{}, func(in *Input) {
		in.Site.Tiers[0].SwitchCost = 5
		in.State.Tiers[0].Running[0] = 0
		in.Prices[len(in.Prices)-1] = 60
	}, func(t *testing.T, in *Input, d Decision) {
		if d.Tiers[0].On() != 0 || !hasReason(d, "old", CodeHysteresis) {
			t.Errorf("old on %v, reasons %v: want it kept asleep by the $5 start cost", d.Tiers[0].On(), d.Reasons)
		}
	}},
	{"joule honours min off", Joule{}, func(in *Input) {
		in.Site.Tiers[0].MinOff = time.Hour
		in.State.Tiers[0].Running[0] = 50
		in.State.Tiers[0].LastDown = in.Start.Add(-15 * time.Minute)
	}, func(t *testing.T, in *Input, d Decision) {
		if d.Tiers[0].On() != 50 || !hasReason(d, "old", CodeMinOff) {
			t.Errorf("old on %v: want 50 (no wake within min_off)", d.Tiers[0].On())
		}
	}},
	{"joule sheds load in a likely 4CP", Joule{}, func(in *Input) {
		in.Site.FourCP.RatePerKWYear = 50
		in.SystemLoad = constant(len(in.Prices), 70000)
		in.LoadForecast = []float64{80000, 79000, 75000}
	}, func(t *testing.T, in *Input, d Decision) {
		if d.Tiers[0].On()+d.Tiers[1].On() != 0 || !hasReason(d, "4cp", CodeFourCP) {
			t.Errorf("on %v/%v reasons %v: want all shed for 4CP", d.Tiers[0].On(), d.Tiers[1].On(), d.Reasons)
		}
	}},
	{"joule ignores a 4CP-like load outside summer", Joule{}, func(in *Input) {
		in.Site.FourCP.RatePerKWYear = 50
		in.Start = time.Date(2024, 12, 3, 20, 0, 0, 0, time.UTC)
		in.SystemLoad = constant(len(in.Prices), 70000)
		in.LoadForecast = []float64{80000}
	}, func(t *testing.T, in *Input, d Decision) {
		if hasReason(d, "4cp", CodeFourCP) || d.Tiers[0].On() == 0 {
			t.Errorf("reasons %v: want no 4CP shedding in December", d.Reasons)
		}
	}},
	{"joule offers ancillary capacity from fast tiers only", Joule{}, func(in *Input) { in.Site.Ancillary.PricePerMWh = 5 },
		func(t *testing.T, in *Input, d Decision) {
			// Only "old" sleeps within 10 minutes: 200 × (3000−10) W.
			if want := 200 * 2990 / 1e6; math.Abs(d.AncillaryMW-want) > 1e-9 {
				t.Errorf("ancillary %.4f MW, want %.4f", d.AncillaryMW, want)
			}
		}},
	{"joule derates air-cooled tiers in heat", Joule{}, func(in *Input) {
		in.Site.Cooling = site.Cooling{AboveC: 30, DeratePerC: 0.1, MinFraction: 0.2}
		in.TempC = 35
	}, func(t *testing.T, in *Input, d Decision) {
		if d.Tiers[0].On() != 100 || d.Tiers[1].On() != 150 || !hasReason(d, "old", CodeDerate) {
			t.Errorf("on %v/%v: want old halved by heat, hydro untouched", d.Tiers[0].On(), d.Tiers[1].On())
		}
	}},
}

func TestPolicies(t *testing.T) {
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(tinySite(), 40)
			tc.edit(in)
			d := tc.policy.Decide(in)
			whole(t, d)
			if len(d.Reasons) == 0 {
				t.Error("decision without reasons")
			}
			tc.check(t, in, d)
		})
	}
}

func TestJouleServesAIFirst(t *testing.T) {
	s := tinySite()
	s.GPUPools = []site.GPUPool{{Name: "gpu", Count: 100, LoadW: 1200, IdleW: 200,
		Firm:      site.FirmLease{GPUs: 20, PricePerGPUHour: 2},
		Batch:     []site.BatchJob{{Name: "b", GPUHours: 1000, PricePerGPUHour: 0.5, Every: 24 * time.Hour}},
		Inference: site.Inference{PricePerGPUHour: 2.5, GPUsByHour: constant(24, 30)}}}
	in := input(s, 40)
	s.InterconnectMW = 0.5
	in.State.Jobs = Jobs(s, in.Start, in.Start.Add(time.Hour))
	d := Joule{}.Decide(in)
	if p := d.Pools[0]; p.Inference != 30 || p.Batch != 50 || d.Jobs[0] != 50 || p.Idle != 0 {
		t.Errorf("pool %+v jobs %v: want 30 inference, 50 batch, none idle", p, d.Jobs)
	}
	if l := LoadMW(s, &d); l > 0.5+1e-12 {
		t.Errorf("load %.4f MW above cap", l)
	}
	// Live demand replaces the configured profile.
	in.InferenceDemand = []float64{12}
	if d := (Joule{}).Decide(in); d.Pools[0].Inference != 12 {
		t.Errorf("inference %v GPUs, want the live demand of 12", d.Pools[0].Inference)
	}
	in.InferenceDemand = nil
	// In a spike, cheap batch work pauses (1 kW above idle costs more than
	// its $0.50/GPU-h); inference and the firm lease stay.
	in.Prices[len(in.Prices)-1] = 4000
	d = Joule{}.Decide(in)
	if p := d.Pools[0]; p.Firm != 20 || p.Inference != 30 || p.Batch != 0 || !hasReason(d, "gpu", CodeBatchPaused) {
		t.Errorf("pool %+v: want firm kept and batch paused in a $4,000 spike; reasons %v", p, d.Reasons)
	}
}

func TestForecastPrice(t *testing.T) {
	step := 15 * time.Minute
	start := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	flat := constant(7*96, 30)
	if got := ForecastPrice(flat, start, step, 7*24*time.Hour); math.Abs(got-30) > 1e-9 {
		t.Errorf("flat history: forecast %.3f, want 30", got)
	}
	if got := ForecastPrice(flat, start, 0, time.Hour); got != 30 {
		t.Errorf("zero step: forecast %.3f, want the last price", got)
	}
	if got := ForecastPrice(nil, start, step, time.Hour); got != 0 {
		t.Errorf("no history: forecast %.3f, want 0", got)
	}
	spike := slices.Clone(flat)
	spike[len(spike)-1] = 1000
	if got := ForecastPrice(spike, start, step, 7*24*time.Hour); got < 30 || got > 1000 {
		t.Errorf("after a spike: forecast %.3f, want between the mean and the spike", got)
	}
}

func TestLookup(t *testing.T) {
	for _, p := range Online() {
		got, err := Lookup(p.Name())
		if err != nil || got.Name() != p.Name() {
			t.Errorf("Lookup(%q) = %v, %v", p.Name(), got, err)
		}
	}
	if _, err := Lookup("hindsight"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("Lookup(hindsight) error %v, want ErrUnknownPolicy (hindsight is not online)", err)
	}
}
