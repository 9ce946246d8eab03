package controller

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/store"
)

// maxHistory bounds the price history kept for the forecast: the policy
// looks back 14 days; keep a little more.
const maxHistory = 16 * 24 * 12

// forceFor maps a fail-safe or override mode to a forced assignment.
func forceFor(mode string) Force {
	switch mode {
	case string(feed.Hold):
		return ForceHold
	case string(feed.Mine):
		return ForceMine
	case string(feed.Curtail):
		return ForceSleep
	}
	return ForceNone
}

// tierState derives the policy's view of each tier from the desired states:
// the share of its miners desired on, scaled to the site model's count, and
// when that last rose and fell.
func (c *Controller) tierState() dispatch.State {
	s := c.cfg.Site
	st := dispatch.State{Tiers: make([]dispatch.TierState, len(s.Tiers))}
	on := make([][]int, len(s.Tiers))
	for i, t := range s.Tiers {
		on[i] = make([]int, max(1, len(t.Profiles)))
	}
	n := make([]int, len(s.Tiers))
	for _, u := range c.units {
		n[u.Tier]++
		d, ok := c.desired[u.ID]
		ts := &st.Tiers[u.Tier]
		if !ok {
			if st := c.obs[u.ID].State; st == WantHashing || st == "starting" {
				on[u.Tier][0]++
			}
			continue
		}
		if d.State == WantHashing {
			on[u.Tier][min(u.profileIndex(d.Profile), len(on[u.Tier])-1)]++
			if d.UpdatedAt.After(ts.LastUp) {
				ts.LastUp = d.UpdatedAt
			}
		} else if d.UpdatedAt.After(ts.LastDown) {
			ts.LastDown = d.UpdatedAt
		}
	}
	for i, t := range s.Tiers {
		st.Tiers[i].Running = make([]float64, len(t.Profiles))
		if n[i] > 0 {
			for k := range st.Tiers[i].Running {
				st.Tiers[i].Running[k] = math.Round(float64(on[i][k]) / float64(n[i]) * float64(t.Count))
			}
		}
	}
	return st
}

// decide runs the policy (or the forced mode), maps the decision to desired
// states, and persists decision, desired states and an audit entry.
func (c *Controller) decide(ctx context.Context, now time.Time, v feed.Verdict, obs map[string]Observation, gpus []gpu.Sample) error {
	s := c.cfg.Site
	price, hashprice := prices(v)
	_, inf, _, _, gpuW := gpuSummary(gpus)

	c.mu.Lock()
	force, failsafe := ForceNone, ""
	var reasons []string
	if o := c.override; o != nil && (o.Until.IsZero() || now.Before(o.Until)) {
		force = forceFor(o.Mode)
		reasons = append(reasons, fmt.Sprintf("override %s by %s: %s", o.Mode, o.Actor, o.Reason))
	} else if o != nil {
		c.override = nil
	}
	if force == ForceNone && v.Active {
		force, failsafe = forceFor(string(v.Mode)), string(v.Mode)
		reasons = append(reasons, "fail-safe: "+v.Reason)
	}
	// The live feed's latest value is the price of the interval now
	// running: the policy sees it as the last known price.
	hist := c.prices
	if !v.Active {
		hist = append(hist[:len(hist):len(hist)], price)
	}
	in := dispatch.Input{Site: s, Start: now.Truncate(c.cfg.Step), Step: c.cfg.Step,
		Prices: hist, Hashprice: hashprice, TempC: math.NaN(), State: c.tierState()}
	if len(gpus) > 0 && len(s.GPUPools) > 0 {
		// The GPU layer's busy inference GPUs are the live demand of the
		// first pool (the one the GPU sources report); other pools keep
		// their configured profile.
		in.InferenceDemand = make([]float64, len(s.GPUPools))
		for p := range s.GPUPools {
			in.InferenceDemand[p] = s.GPUPools[p].Inference.Demand(now, s.Location())
		}
		in.InferenceDemand[0] = float64(inf)
	}
	if len(s.GPUPools) > 0 {
		in.State.Jobs = c.jobs.openJobs(now)
	}
	batchTarget := -1 // keep the claim as it is
	rules := make([]TierRule, len(s.Tiers))
	for i, t := range s.Tiers {
		rules[i] = TierRule{Name: tierLabel(&s.Tiers[i]), MinOn: t.MinOn, MinOff: t.MinOff, OnFraction: 1}
	}
	mw := map[string]float64{}
	anc := 0.0
	if force == ForceNone {
		d := c.policy.Decide(&in)
		for i, t := range s.Tiers {
			if i < len(d.Tiers) && t.Count > 0 {
				rules[i].OnFraction = d.Tiers[i].On() / float64(t.Count)
				if len(t.Profiles) > 1 {
					rules[i].Shares = make([]float64, len(t.Profiles))
					for k := range rules[i].Shares {
						if k < len(d.Tiers[i].Running) {
							rules[i].Shares[k] = d.Tiers[i].Running[k] / float64(t.Count)
						}
					}
				}
			}
		}
		for _, r := range d.Reasons {
			reasons = append(reasons, operatorReason(s, r))
		}
		anc = d.AncillaryMW
		if len(d.Pools) > 0 {
			batchTarget = int(math.Round(d.Pools[0].Batch))
			c.jobs.alloc = map[string]float64{}
			for j, js := range in.State.Jobs {
				if j < len(d.Jobs) {
					c.jobs.alloc[js.Name] = d.Jobs[j]
					reasons = append(reasons, fmt.Sprintf("%s: batch: %s %.0f GPUs, %.1f GPU-h left, due %s", s.GPUPools[0].Name, js.Name, d.Jobs[j], js.Remaining, js.Deadline.In(s.Location()).Format("Jan 2 15:04 MST")))
				}
			}
		}
	} else if force == ForceSleep && len(s.GPUPools) > 0 {
		batchTarget = 0 // curtail: batch work is interruptible load too
	}
	capW, capReason := c.gridCap()
	prev := make(map[string]store.Desired, len(c.desired))
	for k, d := range c.desired {
		prev[k] = d
	}
	c.mu.Unlock()

	res := Assign(AssignInput{Now: now, Units: c.units, Obs: obs, Prev: prev, Tiers: rules, Force: force,
		CapW: capW, OtherW: gpuW, CapReason: capReason})
	reasons = append(reasons, res.Reasons...)
	maxW, sleepW := 0.0, 0.0
	for _, u := range c.units {
		if obs[u.ID].Reachable() {
			maxW += u.NominalW
		}
		sleepW += u.SleepW
	}
	mining := res.ExpectedW / 1e6
	mw["mining"] = round3(mining)
	mw["ai"] = round3(gpuW / 1e6)
	mw["curtailed"] = round3(math.Max(0, maxW-res.ExpectedW) / 1e6)
	if anc > 0 {
		mw["ancillary"] = round3(anc)
	}
	dec := store.Decision{Time: now, Policy: c.policy.Name(), Reasons: reasons, MW: mw, PriceUSDMWh: price,
		HashpriceUSD: hashprice, FailSafe: failsafe}
	if force != ForceNone && failsafe == "" {
		dec.Policy = "override:" + string(force)
	}
	id, err := c.cfg.Store.AppendDecision(ctx, dec)
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	dec.ID = id
	var changed []store.Desired
	for i := range res.Desired {
		d := &res.Desired[i]
		if p, ok := prev[d.Target]; !ok || p.State != d.State || p.Profile != d.Profile {
			d.DecisionID = id
			changed = append(changed, *d)
		}
	}
	if len(changed) > 0 {
		if err := c.cfg.Store.SetDesired(ctx, changed); err != nil {
			return fmt.Errorf("decide: persist desired states: %w", err)
		}
	}
	actor := "policy:" + c.policy.Name()
	if failsafe != "" {
		actor = "failsafe:" + failsafe
	} else if force != ForceNone {
		actor = "override"
	}
	if _, err := c.cfg.Store.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: actor, Action: "decide",
		Reason: summarize(reasons), PriceUSDMWh: price, DecisionID: id,
		Detail: fmt.Sprintf("%d miners change desired state; expected mining %.3f MW", len(changed), mining)}); err != nil {
		return fmt.Errorf("decide: audit: %w", err)
	}
	c.mu.Lock()
	for _, d := range res.Desired {
		c.desired[d.Target] = d
	}
	if !v.Active {
		c.prices = append(c.prices, price)
		if len(c.prices) > maxHistory {
			c.prices = append(c.prices[:0], c.prices[len(c.prices)-maxHistory:]...)
		}
	}
	c.lastDecide, c.decideNow, c.lastDec, c.lastAnc = now, false, &dec, anc
	c.decidedStale = v.Active
	c.mu.Unlock()
	if batchTarget >= 0 {
		if err := c.applyBatch(ctx, now, batchTarget, summarize(reasons), price, id); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
	}
	c.log.Info("decision", "id", id, "policy", dec.Policy, "price", price, "mining_mw", mw["mining"], "changed", len(changed), "failsafe", failsafe)
	return nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// summarize keeps the audit line short: the reasons that explain a change.
func summarize(rs []string) string {
	var keep []string
	for _, r := range rs {
		if strings.HasPrefix(r, "Forecast") || strings.Contains(r, "above breakeven") || strings.Contains(r, "fail-safe") ||
			strings.Contains(r, "override") || strings.Contains(r, "grid event") || strings.Contains(r, "forced") {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 && len(rs) > 0 {
		keep = rs[:1]
	}
	s := strings.Join(keep, "; ")
	if len(s) > 500 {
		s = s[:497] + "..."
	}
	return s
}
