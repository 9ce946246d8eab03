package dispatch

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jouleworks/joule/site"
)

// Horizon is perfect knowledge of a whole period, one value per interval.
type Horizon struct {
	Start time.Time
	Step  time.Duration
	// Prices are real-time prices, $/MWh.
	Prices []float64
	// Hashprice is $/TH/day.
	Hashprice []float64
	// TempC is ambient temperature; nil means no cooling derate.
	TempC []float64
	// Peak is the share of one 4CP each interval carries: 1 for a 15-minute
	// peak interval, 1/4 for each quarter of a peak hour when system load is
	// hourly (the site's demand then counts as its mean over the hour); nil
	// means no 4CP in the horizon.
	Peak []float64
}

// Len returns the number of intervals.
func (h *Horizon) Len() int { return len(h.Prices) }

func (h *Horizon) check() error {
	n := len(h.Prices)
	switch {
	case h.Step <= 0:
		return errors.New("horizon: step must be positive")
	case n == 0:
		return errors.New("horizon: no intervals")
	case len(h.Hashprice) != n:
		return fmt.Errorf("horizon: %d hashprices for %d intervals", len(h.Hashprice), n)
	case h.TempC != nil && len(h.TempC) != n:
		return fmt.Errorf("horizon: %d temperatures for %d intervals", len(h.TempC), n)
	case h.Peak != nil && len(h.Peak) != n:
		return fmt.Errorf("horizon: %d peak flags for %d intervals", len(h.Peak), n)
	}
	for _, c := range []struct {
		name string
		v    []float64
	}{{"price", h.Prices}, {"hashprice", h.Hashprice}, {"temperature", h.TempC}, {"peak share", h.Peak}} {
		for i, v := range c.v {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("horizon: %s of interval %d (%s) is %v", c.name, i, h.Start.Add(time.Duration(i)*h.Step).Format(time.RFC3339), v)
			}
		}
	}
	return nil
}

func (h *Horizon) temp(t int) float64 {
	if h.TempC == nil {
		return math.NaN()
	}
	return h.TempC[t]
}

// PeakAdder returns the 4CP charge per MWh drawn in a peak interval: a
// quarter of the annual rate per kW, spread over the interval's hours.
func PeakAdder(s *site.Site, step time.Duration) float64 {
	return s.FourCP.RatePerKWYear * 1000 / 4 / step.Hours()
}

// Plan is the hindsight optimum.
type Plan struct {
	// Decisions has one decision per interval; Decision.Jobs indexes Jobs.
	Decisions []Decision
	// Jobs are all batch job instances of the horizon (see Jobs).
	Jobs []JobState
	// Profit is the optimal profit in dollars under the site model with
	// continuous miner counts and no minimum on/off times: an upper bound on
	// what any policy, online or not, can earn.
	Profit float64
	// DualBound is the dual objective at the solution; |Profit-DualBound|
	// bounds the solver's error.
	DualBound  float64
	Iterations int
}

// Hindsight computes the best possible dispatch of s over the horizon with
// perfect knowledge. It solves the linear program of the site model exactly
// (an interior-point method on the time-banded normal equations): miner
// counts are continuous, which relaxes the integer problem, and minimum
// on/off times are not imposed, so Profit is an upper bound on any
// policy's profit under the same model. Switching costs, wake-up losses,
// batch deadlines, the interconnect cap, cooling derate, 4CP and a PPA are
// all modelled exactly.
func Hindsight(s *site.Site, hz *Horizon) (*Plan, error) {
	if err := hz.check(); err != nil {
		return nil, err
	}
	b := buildHindsight(s, hz)
	res, err := solveIPM(&b.lp)
	if err != nil {
		return nil, fmt.Errorf("hindsight: %w", err)
	}
	plan := b.extract(res.x)
	plan.Profit = -res.obj + b.constant
	plan.DualBound = -res.dual + b.constant
	plan.Iterations = res.iterations
	return plan, nil
}

// hindsightLP is the program with the maps back to decisions.
type hindsightLP struct {
	lp
	s        *site.Site
	hz       *Horizon
	jobs     []JobState
	constant float64 // profit terms no decision changes
	// Column indices, -1 when absent: x[t][i][k] miners, q[t][p] inference,
	// bj[t][j] batch GPUs on job j.
	x     [][][]int
	q     [][]int
	bj    [][]int
	gpuSc []float64 // GPU column scale per pool: free GPUs
}

// buildHindsight writes the site model over the horizon as an LP. Variables
// are scaled to fractions of a tier or pool so the program is well scaled.
func buildHindsight(s *site.Site, hz *Horizon) *hindsightLP {
	T := hz.Len()
	h := hz.Step.Hours()
	b := &hindsightLP{s: s, hz: hz, jobs: Jobs(s, hz.Start, hz.Start.Add(time.Duration(T)*hz.Step))}
	b.x = make([][][]int, T)
	b.q = make([][]int, T)
	b.bj = make([][]int, T)
	room := s.InterconnectMW - s.FixedMW()
	loc := s.Location()
	adder := PeakAdder(s, hz.Step)
	vol := s.Volume()

	prevX := make([][]int, len(s.Tiers)) // previous interval's x columns
	prevDone := make([]int, len(b.jobs)) // previous done column per job
	for j := range prevDone {
		prevDone[j] = -1
	}
	// Reserve room: a year has about a million columns.
	perT := 4
	for _, tr := range s.Tiers {
		perT += len(tr.Profiles) + 3
	}
	for _, g := range s.GPUPools {
		perT += 3 + 2*len(g.Batch)
	}
	b.c = make([]float64, 0, perT*T)
	b.u = make([]float64, 0, perT*T)
	b.ti = make([]int32, 0, 3*perT*T)
	b.tj = make([]int32, 0, 3*perT*T)
	b.tv = make([]float64, 0, 3*perT*T)
	b.gpuSc = make([]float64, len(s.GPUPools))
	for p, g := range s.GPUPools {
		b.gpuSc[p] = float64(g.Count - g.Firm.GPUs)
	}
	for t := 0; t < T; t++ {
		at := hz.Start.Add(time.Duration(t) * hz.Step)
		price, hp := hz.Prices[t], hz.Hashprice[t]
		eff := price
		if hz.Peak != nil {
			eff += adder * hz.Peak[t]
		}
		b.constant -= s.FixedMW() * eff * h
		if vol > 0 {
			b.constant += (price - s.Contract.PricePerMWh) * vol * h
		}
		b.x[t] = make([][]int, len(s.Tiers))
		b.q[t] = make([]int, len(s.GPUPools))
		b.bj[t] = make([]int, len(b.jobs))
		for j := range b.bj[t] {
			b.bj[t][j] = -1
		}
		// Start rows link this interval's miners to the previous one's.
		startRow := make([]int, len(s.Tiers))
		for i := range s.Tiers {
			startRow[i] = -1
			tr := &s.Tiers[i]
			if tr.Count == 0 || !hasStartCost(tr) {
				continue
			}
			rhs := 0.0
			if t == 0 {
				rhs = -1 // every miner runs before the horizon
			}
			r := b.addRow(rhs)
			startRow[i] = r
			sc := b.addCol(float64(tr.Count)*startCost(tr, hz.Step, hp), 1)
			b.set(r, sc, 1)
			e := b.addCol(0, 2)
			b.set(r, e, -1)
			for _, c := range prevX[i] {
				if c >= 0 {
					b.set(r, c, 1)
				}
			}
		}
		capRow := -1
		if room > 0 {
			capRow = b.addRow(1)
			b.set(capRow, b.addCol(0, 1), 1)
		}
		for i := range s.Tiers {
			tr := &s.Tiers[i]
			N := float64(tr.Count)
			b.x[t][i] = make([]int, len(tr.Profiles))
			for k := range b.x[t][i] {
				b.x[t][i][k] = -1
			}
			lim := runnable(s, tr, hz.temp(t)) / math.Max(N, 1)
			if N == 0 || lim <= 0 || capRow < 0 {
				prevX[i] = nil
				continue
			}
			cntRow := -1
			if len(tr.Profiles) > 1 {
				cntRow = b.addRow(lim)
				b.set(cntRow, b.addCol(0, lim), 1)
			}
			for k, pr := range tr.Profiles {
				dMW := (pr.W - tr.SleepW) / 1e6
				v := pr.THs*hp/24*h - dMW*eff*h
				if ancillaryEligible(tr) {
					v += s.Ancillary.PricePerMWh * dMW * h
				}
				c := b.addCol(-N*v, lim)
				b.x[t][i][k] = c
				b.set(capRow, c, N*dMW/room)
				if cntRow >= 0 {
					b.set(cntRow, c, 1)
				}
				if startRow[i] >= 0 {
					b.set(startRow[i], c, -1)
				}
			}
			prevX[i] = b.x[t][i]
		}
		for p := range s.GPUPools {
			g := &s.GPUPools[p]
			b.q[t][p] = -1
			sc := b.gpuSc[p]
			b.constant += float64(g.Firm.GPUs) * g.Firm.PricePerGPUHour * h
			if sc <= 0 || capRow < 0 {
				continue
			}
			dMW := (g.LoadW - g.IdleW) / 1e6
			var cols []int
			if dem := math.Min(g.Inference.Demand(at, loc), sc); dem > 0 {
				c := b.addCol(-sc*(g.Inference.PricePerGPUHour*h-dMW*eff*h), dem/sc)
				b.q[t][p] = c
				cols = append(cols, c)
			}
			for j, js := range b.jobs {
				if js.Pool != p || at.Before(js.Release) || !at.Before(js.Deadline) {
					continue
				}
				c := b.addCol(-sc*(g.Batch[js.Job].PricePerGPUHour*h-dMW*eff*h), maxGPUs(s, js)/sc)
				b.bj[t][j] = c
				cols = append(cols, c)
				// Done chain: done_t = done_{t-1} + GPU-hours this interval.
				r := b.addRow(0)
				d := b.addCol(0, 1)
				b.set(r, d, 1)
				if prevDone[j] >= 0 {
					b.set(r, prevDone[j], -1)
				}
				b.set(r, c, -h*sc/js.Remaining)
				prevDone[j] = d
			}
			for _, c := range cols {
				b.set(capRow, c, sc*dMW/room)
			}
			if len(cols) > 1 {
				r := b.addRow(1)
				b.set(r, b.addCol(0, 1), 1)
				for _, c := range cols {
					b.set(r, c, 1)
				}
			}
		}
	}
	return b
}

func hasStartCost(t *site.Tier) bool { return t.SwitchCost > 0 || t.WakeLatency > 0 }

// startCost is the cost of one miner start: wear plus the hashing lost at
// the nominal profile while it wakes (at most one interval).
func startCost(t *site.Tier, step time.Duration, hashprice float64) float64 {
	return t.SwitchCost + wakeDays(t, step)*t.Profiles[0].THs*hashprice
}

func wakeDays(t *site.Tier, step time.Duration) float64 {
	return min(t.WakeLatency, step).Hours() / 24
}

func (b *hindsightLP) extract(x []float64) *Plan {
	s, T := b.s, b.hz.Len()
	plan := &Plan{Decisions: make([]Decision, T), Jobs: b.jobs}
	clamp := func(v, hi float64) float64 { return math.Max(0, math.Min(v, hi)) }
	for t := 0; t < T; t++ {
		d := newDecision(s, b.hz.Start.Add(time.Duration(t)*b.hz.Step), len(b.jobs))
		for i := range s.Tiers {
			N := float64(s.Tiers[i].Count)
			on := 0.0
			for k, c := range b.x[t][i] {
				if c >= 0 {
					n := clamp(x[c]*N, N-on)
					d.Tiers[i].Running[k] = n
					on += n
				}
			}
			d.Tiers[i].Sleeping = N - on
		}
		for p := range s.GPUPools {
			sc := b.gpuSc[p]
			used := 0.0
			if c := b.q[t][p]; c >= 0 {
				d.Pools[p].Inference = clamp(x[c]*sc, sc)
				used = d.Pools[p].Inference
			}
			for j, c := range b.bj[t] {
				if c >= 0 && b.jobs[j].Pool == p {
					n := clamp(x[c]*sc, sc-used)
					d.Jobs[j] = n
					d.Pools[p].Batch += n
					used += n
				}
			}
			d.Pools[p].Idle = sc - used
		}
		d.AncillaryMW = AncillaryMW(s, &d)
		d.Reasons = []Reason{{"site", CodeHindsight, "optimal with perfect knowledge of the whole period"}}
		plan.Decisions[t] = d
	}
	return plan
}
