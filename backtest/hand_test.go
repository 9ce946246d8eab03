package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

// replay is a policy that returns fixed decisions, one per interval.
type replay struct {
	start time.Time
	ds    []dispatch.Decision
}

func (replay) Name() string { return "replay" }
func (r replay) Decide(in *dispatch.Input) dispatch.Decision {
	d := r.ds[int(in.Start.Sub(r.start)/in.Step)]
	d.Start, d.Jobs = in.Start, make([]float64, len(in.State.Jobs))
	return d
}

// TestAccountingByHandEverySource is the spreadsheet check for every
// revenue and cost line at once: a PPA site with one tier (wake latency,
// switching cost, ancillary-eligible), a GPU pool with a firm lease and
// inference, four 15-minute intervals inside an hourly 4CP peak. Every
// figure below is worked out by hand from the formulas in docs/dispatch.md.
func TestAccountingByHandEverySource(t *testing.T) {
	start := time.Date(2024, 6, 3, 20, 0, 0, 0, time.UTC)
	s := &site.Site{Name: "hand", InterconnectMW: 1, Timezone: "America/Chicago",
		Contract:  site.Contract{Kind: site.ContractPPA, PricePerMWh: 40, MW: 0.02},
		FourCP:    site.FourCP{RatePerKWYear: 50},
		Ancillary: site.Ancillary{PricePerMWh: 6},
		Tiers: []site.Tier{{Name: "a", Count: 10, SleepW: 10, SwitchCost: 0.5,
			WakeLatency: 5 * time.Minute, SleepLatency: time.Minute,
			Profiles: []site.Profile{{Name: "stock", THs: 100, W: 3000}}}},
		GPUPools: []site.GPUPool{{Name: "g", Count: 4, LoadW: 1000, IdleW: 100,
			Firm:      site.FirmLease{GPUs: 1, PricePerGPUHour: 2},
			Inference: site.Inference{PricePerGPUHour: 3, GPUsByHour: constant(24, 2)}}},
	}
	dec := func(on, inf, anc float64) dispatch.Decision {
		return dispatch.Decision{
			Tiers:       []dispatch.TierDecision{{Running: []float64{on}, Sleeping: 10 - on}},
			Pools:       []dispatch.PoolDecision{{Firm: 1, Inference: inf, Idle: 3 - inf}},
			AncillaryMW: anc,
		}
	}
	pol := replay{start, []dispatch.Decision{dec(10, 2, 0.05), dec(6, 1, 0.01), dec(0, 0, 0), dec(10, 2, 0.0299)}}
	in := richInputs(4) // for its June system load: the June peak is the hour from 20:00Z on the 3rd
	in.Prices = market.Series{Start: start, Step: 15 * time.Minute, Values: []float64{20, 50, 200, -10}}
	in.Hashprice = market.Series{Start: start.Truncate(24 * time.Hour), Step: 24 * time.Hour, Values: []float64{0.05}}
	in.Temperature = market.Series{}
	res, err := Run(context.Background(), s, in, Options{Policies: []dispatch.Policy{pol}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Policies[0]
	// Spreadsheet, h = 0.25 h per interval:
	//   load W   = miners on·3000 + asleep·10 + (firm+inference)·1000 + idle·100
	//            = 33,100; 20,240; 1,400; 33,100 W   (Σ 0.08784 MW)
	//   mining   = 0.05 $/TH/day · 100 TH · (10+6+0+10) · 0.25/24 = 1.3541667
	//              − 10 starts · (5/60 h)/24 · 100 TH · 0.05      = −0.1736111
	//   AI       = firm 1·$2·1 h + inference (2+1+0+2)·$3·0.25 h  = 2 + 3.75
	//   ancillary= min(offered, 10-min load above sleep) · $6 · 0.25
	//            = (min(.05,.0299) + min(.01,.01794) + 0 + .0299) · 1.5 = 0.1047
	//   energy   = $40·0.02 MW·1 h + Σ p·max(L−0.02,0)·0.25
	//            = 0.8 + 20·.0131·.25 + 50·.00024·.25 − 10·.0131·.25 = 0.83575
	//   resale   = 200 · (0.02 − 0.0014) · 0.25                    = 0.93
	//   4CP      = Σ ¼ · $50/kW-yr · 1000 · L / 4 = 3125 · 0.08784  = 274.5
	//   switching= 10 starts · $0.5                                 = 5
	want := Account{
		Mining:         1.3541666666666667 - 0.1736111111111111,
		AI:             5.75,
		Ancillary:      0.1047,
		Resale:         0.93,
		Energy:         0.83575,
		FourCP:         274.5,
		Switching:      5,
		MWh:            0.02196,
		CurtailedHours: 0.25*0.4 + 0.25*1,
		Starts:         10,
	}
	want.Profit = 1.1805555555555556 + 5.75 + 0.1047 + 0.93 - 0.83575 - 274.5 - 5
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"mining", got.Mining, want.Mining}, {"AI", got.AI, want.AI}, {"ancillary", got.Ancillary, want.Ancillary},
		{"resale", got.Resale, want.Resale}, {"energy", got.Energy, want.Energy}, {"4CP", got.FourCP, want.FourCP},
		{"switching", got.Switching, want.Switching}, {"profit", got.Profit, want.Profit}, {"MWh", got.MWh, want.MWh},
		{"curtailed hours", got.CurtailedHours, want.CurtailedHours}, {"starts", got.Starts, want.Starts},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %.9f, want %.9f", c.name, c.got, c.want)
		}
	}
}
