// Package dispatch decides, each interval, how a site's power is split
// between mining, AI work and the grid. Policies are pure: they see a
// snapshot of what is known (past prices, forecasts, fleet state, time as a
// value) and return a Decision with reasons; no I/O, no clock. The backtest
// and the live controller call the same code.
package dispatch

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jouleworks/joule/site"
)

// Policy decides one interval from what is known at its start.
type Policy interface {
	Name() string
	Decide(in *Input) Decision
}

// Input is everything an online policy may know when it decides the interval
// [Start, Start+Step). Slices are read only.
type Input struct {
	Site  *site.Site
	Start time.Time
	Step  time.Duration
	// Prices are the settled real-time prices ($/MWh) of the intervals before
	// Start, oldest first, one per Step: Prices[len-1] is the previous
	// interval. Policies look at a bounded tail.
	Prices []float64
	// Hashprice is the mining revenue known now, $ per TH/s per day. A
	// backtest passes the last complete day's value, since a daily
	// hashprice rests on the day's closing BTC price.
	Hashprice float64
	// TempC is the ambient temperature now; NaN when unknown.
	TempC float64
	// SystemLoad is ERCOT system load (MW) of the intervals before Start,
	// one per Step, oldest first, ending with the previous interval; it
	// may reach back further than Prices (the month so far, when the
	// period starts mid-month). nil when unknown.
	SystemLoad []float64
	// LoadForecast is the day-ahead system load forecast (MW) from Start to
	// the end of the local day, one value per Step; nil when unknown.
	LoadForecast []float64
	// InferenceDemand, when non-nil, is the live inference demand (GPUs
	// wanted now) of each GPU pool, replacing the site's hour-of-day
	// profile; a controller fills it from its GPU layer.
	InferenceDemand []float64
	State           State
}

// State is the fleet as it stands when a decision is taken.
type State struct {
	// Tiers[i] is the state of site.Tiers[i].
	Tiers []TierState
	// Jobs are the open batch jobs (released, not past deadline, work left).
	Jobs []JobState
}

// TierState is one tier's miners.
type TierState struct {
	// Running[k] miners hash at profile k; the rest of the tier sleeps.
	Running []float64
	// LastUp and LastDown are when the running count last rose and fell;
	// zero means never. Minimum on/off times are checked against them.
	LastUp, LastDown time.Time
}

// On returns how many miners of the tier hash at any profile.
func (t TierState) On() float64 { return sum(t.Running) }

// JobState is one open instance of a batch job.
type JobState struct {
	Pool     int    // index into site.GPUPools
	Job      int    // index into that pool's Batch
	Name     string // job name and instance, e.g. "weekly-training#3"
	Release  time.Time
	Deadline time.Time
	// Remaining GPU-hours still to do (and be paid for).
	Remaining float64
}

// Decision is what a site does for one interval.
type Decision struct {
	Start time.Time
	// Tiers[i] is the plan for site.Tiers[i].
	Tiers []TierDecision
	// Pools[p] is the plan for site.GPUPools[p].
	Pools []PoolDecision
	// Jobs[j] is the number of GPUs working on State.Jobs[j].
	Jobs []float64
	// AncillaryMW is the capacity offered to the grid operator: load that
	// can be shed within 10 minutes.
	AncillaryMW float64
	Reasons     []Reason
}

// TierDecision is how many miners of a tier hash at each profile; the rest
// sleep. Online policies give whole numbers; hindsight, the LP relaxation,
// may give fractions.
type TierDecision struct {
	Running  []float64
	Sleeping float64
}

// On returns how many miners hash at any profile.
func (t TierDecision) On() float64 { return sum(t.Running) }

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// PoolDecision is how a GPU pool's GPUs are used; Batch is the sum of
// Decision.Jobs on the pool and the rest idle.
type PoolDecision struct {
	Firm, Inference, Batch, Idle float64
}

// Reason explains one part of a decision.
type Reason struct {
	// Subject is what the reason is about: a tier or pool name, "site",
	// "4cp" or "ancillary".
	Subject string
	// Code is a stable machine-readable cause, e.g. "above-breakeven".
	Code string
	// Detail is for people.
	Detail string
}

// Reason codes.
const (
	CodeRun          = "below-breakeven"  // hashing pays at the expected price
	CodeSleep        = "above-breakeven"  // hashing loses money at the expected price
	CodeCap          = "interconnect-cap" // the grid connection is full
	CodeDerate       = "cooling-derate"   // heat limits how many air-cooled miners run
	CodeMinOn        = "min-on"           // miners must stay on a while longer
	CodeMinOff       = "min-off"          // miners must stay asleep a while longer
	CodeHysteresis   = "switching-cost"   // a start would not pay back its cost
	CodeFourCP       = "4cp-risk"         // a likely coincident peak: shed load
	CodeAncillary    = "ancillary"        // capacity offered to the grid
	CodeAIFirst      = "ai-first"         // AI work before mining
	CodeAlwaysOn     = "always-on"
	CodeStrike       = "strike"
	CodeHindsight    = "hindsight"
	CodeBatchPaused  = "batch-paused"
	CodeBatchDue     = "batch-deadline"
	CodeInferenceOff = "inference-unprofitable"
)

// Breakeven returns the power price ($/MWh) at which profile p of a tier
// just pays for its energy at hashprice ($/TH/day), counting the power
// above sleep draw and any ancillary payment the load earns.
func Breakeven(t *site.Tier, p site.Profile, hashprice, ancillary float64) float64 {
	dMW := (p.W - t.SleepW) / 1e6
	if dMW <= 0 {
		return math.Inf(1)
	}
	perHour := p.THs * hashprice / 24
	if ancillaryEligible(t) {
		perHour += ancillary * dMW
	}
	return perHour / dMW
}

func ancillaryEligible(t *site.Tier) bool { return t.SleepLatency <= site.AncillaryLatency }

func airCooled(t *site.Tier) bool { return t.Cooling != site.CoolingHydro }

// runnable returns how many miners of tier t can run at ambient tempC.
func runnable(s *site.Site, t *site.Tier, tempC float64) float64 {
	if !airCooled(t) {
		return float64(t.Count)
	}
	return math.Floor(float64(t.Count) * s.Cooling.Fraction(tempC))
}

// AncillaryMW returns the load in d that can be shed within 10 minutes.
func AncillaryMW(s *site.Site, d *Decision) float64 {
	if s.Ancillary.PricePerMWh <= 0 {
		return 0
	}
	mw := 0.0
	for i := range s.Tiers {
		t := &s.Tiers[i]
		if !ancillaryEligible(t) || i >= len(d.Tiers) {
			continue
		}
		for k, n := range d.Tiers[i].Running {
			mw += n * (t.Profiles[k].W - t.SleepW) / 1e6
		}
	}
	return mw
}

// LoadMW returns the site's draw under decision d.
func LoadMW(s *site.Site, d *Decision) float64 {
	w := 0.0
	for i := range s.Tiers {
		t := &s.Tiers[i]
		w += float64(t.Count) * t.SleepW
		if i < len(d.Tiers) {
			for k, n := range d.Tiers[i].Running {
				w += n * (t.Profiles[k].W - t.SleepW)
			}
		}
	}
	for p := range s.GPUPools {
		g := &s.GPUPools[p]
		w += float64(g.Count) * g.IdleW
		if p < len(d.Pools) {
			pd := d.Pools[p]
			w += (pd.Firm + pd.Inference + pd.Batch) * (g.LoadW - g.IdleW)
		}
	}
	return w / 1e6
}

// Online returns the online policies by name, in the order the backtest
// table lists them.
func Online() []Policy { return []Policy{AlwaysOn{}, Strike{}, Joule{}} }

// ErrUnknownPolicy is returned by Lookup for a name no policy has.
var ErrUnknownPolicy = errors.New("dispatch: unknown policy")

// Lookup returns the online policy called name ("always-on", "strike",
// "joule").
func Lookup(name string) (Policy, error) {
	for _, p := range Online() {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownPolicy, name)
}
