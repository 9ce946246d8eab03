// Package site models a mining and AI site: its grid connection, supply
// contract, miner tiers, GPU pools and the AI work they serve, cooling,
// transmission (4CP) charges and ancillary-service capacity.
package site

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Site is everything dispatch needs to know about one site. The YAML keys are
// documented in examples/site.yaml.
type Site struct {
	Name string `yaml:"name"`
	// Timezone names the IANA zone the inference demand profile's hours are
	// in. ERCOT sites run on Central Prevailing Time.
	Timezone string `yaml:"timezone"`
	// InterconnectMW caps the site's total draw from the grid.
	InterconnectMW float64   `yaml:"interconnect_mw"`
	Contract       Contract  `yaml:"contract"`
	Tiers          []Tier    `yaml:"tiers"`
	GPUPools       []GPUPool `yaml:"gpu_pools"`
	Cooling        Cooling   `yaml:"cooling"`
	FourCP         FourCP    `yaml:"four_cp"`
	Ancillary      Ancillary `yaml:"ancillary"`
}

// Contract kinds.
const (
	ContractSpot = "spot"
	ContractPPA  = "ppa"
)

// Contract is how the site buys energy. Spot: every MWh at the real-time
// price. PPA: a fixed volume MW at a fixed price every interval (take or
// pay); energy used beyond it is bought at spot, unused energy is resold at
// spot. The marginal cost of a MWh is therefore the spot price under both.
type Contract struct {
	Kind        string  `yaml:"kind"`
	PricePerMWh float64 `yaml:"price_per_mwh"`
	// MW is the PPA volume; zero means the interconnect cap.
	MW float64 `yaml:"mw"`
}

// Volume returns the PPA volume in MW (zero for spot).
func (s *Site) Volume() float64 {
	if s.Contract.Kind != ContractPPA {
		return 0
	}
	if s.Contract.MW > 0 {
		return s.Contract.MW
	}
	return s.InterconnectMW
}

// Cooling kinds of a tier.
const (
	CoolingAir   = "air"
	CoolingHydro = "hydro"
)

// Tier is a group of identical miners.
type Tier struct {
	Name  string `yaml:"name"`
	Model string `yaml:"model"`
	Count int    `yaml:"count"`
	// Profiles are the power profiles a miner can hash at. The first is the
	// nominal (stock) profile; wake-up losses are counted at it.
	Profiles []Profile `yaml:"profiles"`
	// SleepW is what a sleeping miner still draws (control board, fans idle).
	SleepW float64 `yaml:"sleep_w"`
	// WakeLatency is how long a woken miner draws power before it hashes.
	WakeLatency time.Duration `yaml:"wake_latency"`
	// SleepLatency is how long a miner takes to drop to SleepW; a tier can
	// back ancillary capacity only if it is at most 10 minutes.
	SleepLatency time.Duration `yaml:"sleep_latency"`
	MinOn        time.Duration `yaml:"min_on"`
	MinOff       time.Duration `yaml:"min_off"`
	// SwitchCost is the wear cost in dollars of one miner start.
	SwitchCost float64 `yaml:"switch_cost"`
	// Cooling is "air" (derated in heat, the default) or "hydro".
	Cooling string `yaml:"cooling"`
}

// Profile is one operating point of a miner.
type Profile struct {
	Name string  `yaml:"name"`
	THs  float64 `yaml:"ths"`
	W    float64 `yaml:"w"`
}

// JPerTH returns the profile's efficiency in joules per terahash.
func (p Profile) JPerTH() float64 { return p.W / p.THs }

// GPUPool is a group of identical GPUs and the AI work sold on them.
type GPUPool struct {
	Name  string  `yaml:"name"`
	Model string  `yaml:"model"`
	Count int     `yaml:"count"`
	LoadW float64 `yaml:"load_w"`
	IdleW float64 `yaml:"idle_w"`
	// Firm GPUs are leased and never curtailed.
	Firm      FirmLease  `yaml:"firm"`
	Batch     []BatchJob `yaml:"batch"`
	Inference Inference  `yaml:"inference"`
}

// FirmLease is capacity rented out by the hour and never curtailed.
type FirmLease struct {
	GPUs            int     `yaml:"gpus"`
	PricePerGPUHour float64 `yaml:"price_per_gpu_hour"`
}

// BatchJob is interruptible work: GPUHours paid at PricePerGPUHour when done
// before the deadline. With Every set it recurs: each period of that length,
// counted from the start of the backtest (or the controller's epoch), brings a
// new job due at the period's end. Otherwise it runs once between Release and
// Deadline. Work not done by the deadline is not paid.
type BatchJob struct {
	Name            string        `yaml:"name"`
	GPUHours        float64       `yaml:"gpu_hours"`
	PricePerGPUHour float64       `yaml:"price_per_gpu_hour"`
	Every           time.Duration `yaml:"every"`
	Release         time.Time     `yaml:"release"`
	Deadline        time.Time     `yaml:"deadline"`
	// MaxGPUs caps how many GPUs the job can use at once; zero means the pool.
	MaxGPUs int `yaml:"max_gpus"`
}

// Inference is demand for serving models: GPUsByHour[h] GPUs are wanted in
// local hour h (24 values), paid per GPU-hour served.
type Inference struct {
	PricePerGPUHour float64   `yaml:"price_per_gpu_hour"`
	GPUsByHour      []float64 `yaml:"gpus_by_hour"`
}

// Demand returns the inference GPUs wanted at t.
func (in Inference) Demand(t time.Time, loc *time.Location) float64 {
	if len(in.GPUsByHour) != 24 {
		return 0
	}
	return in.GPUsByHour[t.In(loc).Hour()]
}

// Cooling derates air-cooled tiers in heat: above AboveC the share of an air
// tier that can run falls by DeratePerC per degree, never below MinFraction.
type Cooling struct {
	AboveC      float64 `yaml:"above_c"`
	DeratePerC  float64 `yaml:"derate_per_c"`
	MinFraction float64 `yaml:"min_fraction"`
}

// Fraction returns the share of an air-cooled tier that can run at tempC.
// NaN (no temperature known) means no derate.
func (c Cooling) Fraction(tempC float64) float64 {
	if c.DeratePerC == 0 || math.IsNaN(tempC) || tempC <= c.AboveC {
		return 1
	}
	f := 1 - c.DeratePerC*(tempC-c.AboveC)
	return math.Max(f, c.MinFraction)
}

// FourCP is ERCOT's transmission charge: the site's average demand in the
// four coincident peak intervals (the 15-minute interval of highest ERCOT
// system load in each of June, July, August and September) times
// RatePerKWYear. Each monthly peak thus carries a quarter of the annual rate.
type FourCP struct {
	RatePerKWYear float64 `yaml:"rate_per_kw_year"`
}

// Ancillary is capacity sold to the grid operator (ECRS / non-spin like):
// paid PricePerMWh for every MW of load the site can shed within 10 minutes,
// whether or not it is deployed.
type Ancillary struct {
	PricePerMWh float64 `yaml:"price_per_mw_h"`
}

// AncillaryLatency is the longest sleep latency of load that can back
// ancillary capacity.
const AncillaryLatency = 10 * time.Minute

// Location returns the site's time zone (UTC when unset or unknown; Validate
// reports unknown zones).
func (s *Site) Location() *time.Location {
	if s.Timezone == "" {
		return time.UTC
	}
	if loc, ok := zones.Load(s.Timezone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	zones.Store(s.Timezone, loc)
	return loc
}

// zones caches loaded time zones: policies ask for the site's zone every
// interval and loading one parses tzdata.
var zones sync.Map

// FixedMW returns the load the site draws whatever dispatch decides: every
// miner asleep, every GPU idle except the firm lease at load.
func (s *Site) FixedMW() float64 {
	w := 0.0
	for _, t := range s.Tiers {
		w += float64(t.Count) * t.SleepW
	}
	for _, p := range s.GPUPools {
		w += float64(p.Firm.GPUs)*p.LoadW + float64(p.Count-p.Firm.GPUs)*p.IdleW
	}
	return w / 1e6
}

// MaxMW returns the site's draw with every miner at its highest profile and
// every GPU at load.
func (s *Site) MaxMW() float64 {
	w := 0.0
	for _, t := range s.Tiers {
		top := t.SleepW
		for _, p := range t.Profiles {
			top = math.Max(top, p.W)
		}
		w += float64(t.Count) * top
	}
	for _, p := range s.GPUPools {
		w += float64(p.Count) * p.LoadW
	}
	return w / 1e6
}

// Problem is one thing wrong with a site, located by its YAML path
// (e.g. "tiers[2].count").
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Problems lists everything wrong with s; empty means valid.
func (s *Site) Problems() []Problem {
	var ps []Problem
	add := func(path, format string, a ...any) {
		ps = append(ps, Problem{path, fmt.Sprintf(format, a...)})
	}
	finite := func(path string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			add(path, "must be a finite number")
			return false
		}
		return true
	}
	nonNeg := func(path string, v float64) {
		if finite(path, v) && v < 0 {
			add(path, "must not be negative, got %g", v)
		}
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			add("timezone", "unknown time zone %q", s.Timezone)
		}
	}
	if finite("interconnect_mw", s.InterconnectMW) && s.InterconnectMW <= 0 {
		add("interconnect_mw", "must be positive, got %g", s.InterconnectMW)
	}
	switch s.Contract.Kind {
	case "", ContractSpot:
	case ContractPPA:
		finite("contract.price_per_mwh", s.Contract.PricePerMWh)
	default:
		add("contract.kind", "must be %q or %q, got %q", ContractSpot, ContractPPA, s.Contract.Kind)
	}
	nonNeg("contract.mw", s.Contract.MW)
	for i, t := range s.Tiers {
		p := fmt.Sprintf("tiers[%d]", i)
		if t.Name == "" {
			add(p+".name", "is required")
		}
		if t.Count < 0 {
			add(p+".count", "must not be negative, got %d", t.Count)
		}
		if len(t.Profiles) == 0 {
			add(p+".profiles", "needs at least one power profile")
		}
		for j, pr := range t.Profiles {
			pp := fmt.Sprintf("%s.profiles[%d]", p, j)
			if finite(pp+".ths", pr.THs) && pr.THs <= 0 {
				add(pp+".ths", "must be positive, got %g", pr.THs)
			}
			if finite(pp+".w", pr.W) && pr.W <= t.SleepW {
				add(pp+".w", "must exceed sleep_w (%g), got %g", t.SleepW, pr.W)
			}
		}
		nonNeg(p+".sleep_w", t.SleepW)
		nonNeg(p+".switch_cost", t.SwitchCost)
		for _, d := range []struct {
			k string
			v time.Duration
		}{{"wake_latency", t.WakeLatency}, {"sleep_latency", t.SleepLatency}, {"min_on", t.MinOn}, {"min_off", t.MinOff}} {
			if d.v < 0 {
				add(p+"."+d.k, "must not be negative, got %s", d.v)
			}
		}
		switch t.Cooling {
		case "", CoolingAir, CoolingHydro:
		default:
			add(p+".cooling", "must be %q or %q, got %q", CoolingAir, CoolingHydro, t.Cooling)
		}
	}
	for i, g := range s.GPUPools {
		p := fmt.Sprintf("gpu_pools[%d]", i)
		if g.Name == "" {
			add(p+".name", "is required")
		}
		if g.Count < 0 {
			add(p+".count", "must not be negative, got %d", g.Count)
		}
		nonNeg(p+".idle_w", g.IdleW)
		if finite(p+".load_w", g.LoadW) && g.LoadW < g.IdleW {
			add(p+".load_w", "must be at least idle_w (%g), got %g", g.IdleW, g.LoadW)
		}
		if g.Firm.GPUs < 0 || g.Firm.GPUs > g.Count {
			add(p+".firm.gpus", "must be between 0 and count (%d), got %d", g.Count, g.Firm.GPUs)
		}
		nonNeg(p+".firm.price_per_gpu_hour", g.Firm.PricePerGPUHour)
		for j, b := range g.Batch {
			bp := fmt.Sprintf("%s.batch[%d]", p, j)
			nonNeg(bp+".gpu_hours", b.GPUHours)
			nonNeg(bp+".price_per_gpu_hour", b.PricePerGPUHour)
			if b.MaxGPUs < 0 {
				add(bp+".max_gpus", "must not be negative, got %d", b.MaxGPUs)
			}
			switch {
			case b.Every < 0:
				add(bp+".every", "must not be negative, got %s", b.Every)
			case b.Every > 0 && b.Every < time.Hour:
				add(bp+".every", "must be at least 1h, got %s", b.Every)
			case b.Every == 0 && !b.Deadline.After(b.Release):
				add(bp+".deadline", "must be after release (or set every)")
			}
		}
		in := g.Inference
		nonNeg(p+".inference.price_per_gpu_hour", in.PricePerGPUHour)
		if len(in.GPUsByHour) != 0 && len(in.GPUsByHour) != 24 {
			add(p+".inference.gpus_by_hour", "needs 24 values (one per hour), got %d", len(in.GPUsByHour))
		}
		for h, v := range in.GPUsByHour {
			nonNeg(fmt.Sprintf("%s.inference.gpus_by_hour[%d]", p, h), v)
		}
	}
	nonNeg("cooling.derate_per_c", s.Cooling.DeratePerC)
	finite("cooling.above_c", s.Cooling.AboveC)
	if finite("cooling.min_fraction", s.Cooling.MinFraction) && (s.Cooling.MinFraction < 0 || s.Cooling.MinFraction > 1) {
		add("cooling.min_fraction", "must be between 0 and 1, got %g", s.Cooling.MinFraction)
	}
	nonNeg("four_cp.rate_per_kw_year", s.FourCP.RatePerKWYear)
	nonNeg("ancillary.price_per_mw_h", s.Ancillary.PricePerMWh)
	if len(ps) == 0 && s.FixedMW() > s.InterconnectMW {
		add("interconnect_mw", "%g MW is below the load that cannot be curtailed (sleeping miners, idle GPUs, firm leases: %.3f MW)", s.InterconnectMW, s.FixedMW())
	}
	return ps
}
