package dispatch

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jouleworks/joule/site"
)

// newDecision returns a decision with every miner asleep, firm GPUs at work
// and the rest idle.
func newDecision(s *site.Site, start time.Time, jobs int) Decision {
	d := Decision{Start: start, Tiers: make([]TierDecision, len(s.Tiers)),
		Pools: make([]PoolDecision, len(s.GPUPools)), Jobs: make([]float64, jobs)}
	for i := range s.Tiers {
		d.Tiers[i] = TierDecision{Running: make([]float64, len(s.Tiers[i].Profiles)), Sleeping: float64(s.Tiers[i].Count)}
	}
	for p, g := range s.GPUPools {
		d.Pools[p] = PoolDecision{Firm: float64(g.Firm.GPUs), Idle: float64(g.Count - g.Firm.GPUs)}
	}
	return d
}

// headroom returns the MW left under the interconnect cap in d.
func headroom(s *site.Site, d *Decision) float64 { return s.InterconnectMW - LoadMW(s, d) }

// aiPlan allocates GPUs to inference and open batch jobs, jobs near their
// deadline first and then most valuable per GPU, within the pool's free GPUs
// and the MW headroom. price is the $/MWh the power is valued at. When
// priced is set, work whose value at that price is not positive is skipped
// (with a reason) unless its job is due; the baselines pass priced=false to
// run all AI work regardless of price.
func aiPlan(in *Input, d *Decision, price float64, priced bool) {
	s := in.Site
	h := in.Step.Hours()
	loc := s.Location()
	room := headroom(s, d)
	for p := range s.GPUPools {
		g := &s.GPUPools[p]
		dMW := (g.LoadW - g.IdleW) / 1e6
		free := float64(g.Count - g.Firm.GPUs)
		type use struct {
			job   int // -1: inference
			value float64
			limit float64
			due   bool
		}
		var uses []use
		dem := g.Inference.Demand(in.Start, loc)
		if p < len(in.InferenceDemand) {
			dem = max(in.InferenceDemand[p], 0)
		}
		if dem > 0 {
			uses = append(uses, use{-1, g.Inference.PricePerGPUHour*h - dMW*price*h, dem, false})
		}
		for j, js := range in.State.Jobs {
			if js.Pool != p || js.Remaining <= 0 || !in.Start.Before(js.Deadline) || in.Start.Before(js.Release) {
				continue
			}
			mg := maxGPUs(s, js)
			left := js.Deadline.Sub(in.Start).Hours()
			// Due: the job needs most of its GPUs from now on to finish.
			due := js.Remaining >= 0.8*mg*left
			uses = append(uses, use{j, g.Batch[js.Job].PricePerGPUHour*h - dMW*price*h,
				math.Min(mg, math.Ceil(js.Remaining/h)), due})
		}
		slices.SortStableFunc(uses, func(a, b use) int {
			if a.due != b.due {
				if a.due {
					return -1
				}
				return 1
			}
			return cmp.Compare(b.value, a.value)
		})
		for _, u := range uses {
			if priced && u.value <= 0 && !u.due {
				subj := g.Name
				if u.job < 0 {
					d.Reasons = append(d.Reasons, Reason{subj, CodeInferenceOff, fmt.Sprintf("inference pays less than power at $%.0f/MWh", price)})
				} else {
					d.Reasons = append(d.Reasons, Reason{subj, CodeBatchPaused, fmt.Sprintf("%s paused: power at $%.0f/MWh costs more than it pays", in.State.Jobs[u.job].Name, price)})
				}
				continue
			}
			n := math.Min(u.limit, free)
			if dMW > 0 {
				n = math.Min(n, math.Floor(room/dMW))
			}
			if n <= 0 {
				continue
			}
			free -= n
			room -= n * dMW
			if u.job < 0 {
				d.Pools[p].Inference += n
			} else {
				d.Jobs[u.job] += n
				d.Pools[p].Batch += n
				if u.due {
					d.Reasons = append(d.Reasons, Reason{g.Name, CodeBatchDue, in.State.Jobs[u.job].Name + " must run to meet its deadline"})
				}
			}
			d.Pools[p].Idle -= n
		}
	}
}

// segment moves units miners of a tier from profile from (-1: asleep) to
// profile to, each adding dMW and value.
type segment struct {
	tier, from, to int
	dMW, value     float64
	units          float64
	must           bool
}

// hull returns the upper concave hull of a tier's (MW above sleep, value)
// points starting at sleep, as segments of increasing MW and decreasing
// value per MW, keeping only segments that add value. value[k] is the value
// of one miner at profile k for the interval.
func hull(tier int, t *site.Tier, value []float64) []segment {
	type pt struct {
		k     int
		mw, v float64
	}
	pts := []pt{{-1, 0, 0}}
	for k, p := range t.Profiles {
		pts = append(pts, pt{k, (p.W - t.SleepW) / 1e6, value[k]})
	}
	slices.SortFunc(pts[1:], func(a, b pt) int { return cmp.Compare(a.mw, b.mw) })
	var h []pt
	for _, q := range pts {
		for len(h) >= 2 {
			a, b := h[len(h)-2], h[len(h)-1]
			// Drop b if it lies on or below the line from a to q.
			if (b.v-a.v)*(q.mw-a.mw) <= (q.v-a.v)*(b.mw-a.mw) {
				h = h[:len(h)-1]
				continue
			}
			break
		}
		if len(h) == 1 && q.mw == h[0].mw {
			continue
		}
		h = append(h, q)
	}
	var segs []segment
	for i := 1; i < len(h); i++ {
		a, b := h[i-1], h[i]
		if b.v-a.v <= 0 || b.mw <= a.mw {
			break
		}
		segs = append(segs, segment{tier: tier, from: a.k, to: b.k, dMW: b.mw - a.mw, value: b.v - a.v})
	}
	return segs
}

// takeSegments applies segments greedily, best value per MW first (musts
// before all), within room MW, in whole miners. capped[i] reports whether
// the cap stopped tier i short of what its segments asked for.
func takeSegments(d *Decision, segs []segment, room float64) (capped []bool) {
	slices.SortStableFunc(segs, func(a, b segment) int {
		if a.must != b.must {
			if a.must {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.value/b.dMW, a.value/a.dMW)
	})
	capped = make([]bool, len(d.Tiers))
	for _, sg := range segs {
		td := &d.Tiers[sg.tier]
		avail := sg.units
		if sg.from >= 0 {
			avail = math.Min(avail, td.Running[sg.from])
		} else {
			avail = math.Min(avail, td.Sleeping)
		}
		n := avail
		if sg.dMW > 0 && n*sg.dMW > room {
			// The 1e-9 keeps a miner that fits exactly from being lost
			// to rounding in room.
			n = math.Floor(room/sg.dMW + 1e-9)
			capped[sg.tier] = true
		}
		if n <= 0 {
			continue
		}
		if sg.from >= 0 {
			td.Running[sg.from] -= n
		} else {
			td.Sleeping -= n
		}
		td.Running[sg.to] += n
		room -= n * sg.dMW
	}
	return capped
}
