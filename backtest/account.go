package backtest

import (
	"math"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/site"
)

// Account is one policy's result. Every figure is a sum over intervals of
// the formulas in docs/dispatch.md, in dollars unless the name says
// otherwise, and Profit = Mining + AI + Ancillary + EnergyResale −
// EnergyCost − FourCP − Switching exactly.
type Account struct {
	Policy    string  `json:"policy"`
	Mining    float64 `json:"mining_revenue"`
	AI        float64 `json:"ai_revenue"`
	Ancillary float64 `json:"ancillary_revenue"`
	Resale    float64 `json:"energy_resale"`
	Energy    float64 `json:"energy_cost"`
	FourCP    float64 `json:"four_cp_charge"`
	Switching float64 `json:"switching_cost"`
	Profit    float64 `json:"profit"`
	MWh       float64 `json:"mwh"`
	// CurtailedHours is sleeping miner power as full-fleet hours: Σ hours ×
	// (sleeping miners' nominal power above sleep ÷ the fleet's).
	CurtailedHours float64 `json:"curtailed_hours"`
	Starts         float64 `json:"miner_starts"`
	// Capture is Profit ÷ the hindsight profit; absent without hindsight
	// or when the hindsight profit is not positive.
	Capture *float64 `json:"capture,omitempty"`
	// Bound is the hindsight LP's optimum (hindsight only); it equals
	// Profit up to the solver's tolerance.
	Bound float64 `json:"lp_bound,omitempty"`

	Trace *Trace `json:"-"`

	s      *site.Site
	a      *aligned
	jobs   []dispatch.JobState
	prevOn []float64
	fleetW float64
}

// Trace is per-interval detail for charts.
type Trace struct {
	MiningMW, AIMW, OtherMW []float64 // load by workload; other = sleeping miners and idle GPUs
	Profit                  []float64 // cumulative profit at each interval's end
}

func newAccount(name string, s *site.Site, a *aligned, jobs []dispatch.JobState, trace bool) *Account {
	acc := &Account{Policy: name, s: s, a: a, jobs: append([]dispatch.JobState(nil), jobs...),
		prevOn: make([]float64, len(s.Tiers))}
	for i, t := range s.Tiers {
		acc.prevOn[i] = float64(t.Count) // every miner runs before the period
		acc.fleetW += float64(t.Count) * (t.Profiles[0].W - t.SleepW)
	}
	if trace {
		n := len(a.price)
		acc.Trace = &Trace{make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)}
	}
	return acc
}

// add accounts interval t under decision d. open maps d.Jobs to the
// account's job list; nil means d.Jobs indexes it directly.
func (acc *Account) add(t int, d *dispatch.Decision, open []int) {
	s, a := acc.s, acc.a
	h := a.step.Hours()
	price, hp := a.price[t], a.hp[t]
	var mining, ai, switching, miningW, sleepW float64
	for i := range s.Tiers {
		tr := &s.Tiers[i]
		td := &d.Tiers[i]
		on := 0.0
		for k, n := range td.Running {
			mining += n * tr.Profiles[k].THs * hp * h / 24
			miningW += n * tr.Profiles[k].W
			on += n
		}
		sleepW += td.Sleeping * tr.SleepW
		acc.CurtailedHours += h * td.Sleeping * (tr.Profiles[0].W - tr.SleepW) / math.Max(acc.fleetW, 1)
		if starts := on - acc.prevOn[i]; starts > 0 {
			acc.Starts += starts
			switching += starts * tr.SwitchCost
			// A woken miner draws power but hashes nothing for its wake
			// latency (at most one interval), counted at the nominal profile.
			mining -= starts * min(tr.WakeLatency, a.step).Hours() / 24 * tr.Profiles[0].THs * hp
		}
		acc.prevOn[i] = on
	}
	var aiW, idleW float64
	for p := range s.GPUPools {
		g := &s.GPUPools[p]
		pd := d.Pools[p]
		ai += (pd.Firm*g.Firm.PricePerGPUHour + pd.Inference*g.Inference.PricePerGPUHour) * h
		aiW += (pd.Firm + pd.Inference + pd.Batch) * g.LoadW
		idleW += pd.Idle * g.IdleW
	}
	for k, n := range d.Jobs {
		j := k
		if open != nil {
			j = open[k]
		}
		js := &acc.jobs[j]
		// Work beyond what the job still needs is not paid.
		done := math.Min(n*h, js.Remaining)
		js.Remaining -= done
		ai += done * s.GPUPools[js.Pool].Batch[js.Job].PricePerGPUHour
	}
	load := (miningW + sleepW + aiW + idleW) / 1e6
	ancMW := math.Min(d.AncillaryMW, dispatch.AncillaryMW(s, d))
	anc := math.Max(ancMW, 0) * s.Ancillary.PricePerMWh * h
	var energy, resale float64
	if q := s.Volume(); q > 0 {
		energy = s.Contract.PricePerMWh*q*h + price*math.Max(load-q, 0)*h
		resale = price * math.Max(q-load, 0) * h
	} else {
		energy = price * load * h
	}
	fourCP := 0.0
	if a.peak != nil && a.peak[t] > 0 {
		fourCP = a.peak[t] * s.FourCP.RatePerKWYear * 1000 * load / 4
	}
	acc.Mining += mining
	acc.AI += ai
	acc.Ancillary += anc
	acc.Resale += resale
	acc.Energy += energy
	acc.FourCP += fourCP
	acc.Switching += switching
	acc.MWh += load * h
	profit := mining + ai + anc + resale - energy - fourCP - switching
	acc.Profit += profit
	if acc.Trace != nil {
		tr := acc.Trace
		tr.MiningMW = append(tr.MiningMW, miningW/1e6)
		tr.AIMW = append(tr.AIMW, aiW/1e6)
		tr.OtherMW = append(tr.OtherMW, (sleepW+idleW)/1e6)
		tr.Profit = append(tr.Profit, acc.Profit)
	}
}

// finish recomputes Profit from the component totals so the printed
// components add up to the printed profit to the cent.
func (acc *Account) finish() {
	acc.Profit = acc.Mining + acc.AI + acc.Ancillary + acc.Resale - acc.Energy - acc.FourCP - acc.Switching
}
