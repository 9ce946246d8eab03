package controller

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jouleworks/joule/store"
)

// Force is a mode that overrides the policy for every miner.
type Force string

// Forced modes: from an operator override or a fail-safe.
const (
	ForceNone  Force = ""
	ForceHold  Force = "hold"  // keep every desired state as it is
	ForceMine  Force = "mine"  // every reachable miner hashes
	ForceSleep Force = "sleep" // every miner sleeps
)

// TierRule is what Assign needs of a site tier.
type TierRule struct {
	Name   string
	MinOn  time.Duration
	MinOff time.Duration
	// On is how many of the tier's units the decision wants hashing, as a
	// fraction of the tier's configured size (the site model may count more
	// or fewer miners than were found).
	OnFraction float64
	// Shares, when the tier has more than one profile, are the decision's
	// miners at each profile (nominal first) as fractions of the tier's
	// configured size; nil leaves profiles as they are.
	Shares []float64
}

// AssignInput is everything the desired-state mapping needs. It is data
// only: Assign does no I/O and reads no clock.
type AssignInput struct {
	Now        time.Time
	DecisionID int64
	Units      []Unit
	Obs        map[string]Observation
	Prev       map[string]store.Desired
	Tiers      []TierRule
	Force      Force
	// CapW, when positive, bounds the expected load of the miners plus
	// OtherW (GPUs, ...): a grid event's target. Least efficient miners
	// are slept first to meet it, ignoring minimum on-times.
	CapW   float64
	OtherW float64
	// CapReason names what set CapW, for the desired states' reasons.
	CapReason string
}

// AssignResult is the desired state of every unit and why.
type AssignResult struct {
	Desired []store.Desired // one per unit, in Units order
	Changed int             // how many differ from Prev
	Reasons []string
	// ExpectedW is the expected load of the miners under Desired.
	ExpectedW float64
}

// Assign turns a per-tier decision into per-miner desired states. Within a
// tier it keeps running miners running and sleeping miners asleep where it
// can, so a decision that changes a tier's count by k moves exactly k
// miners: when the count falls the least efficient running miners sleep
// first; when it rises the most efficient sleeping miners wake first.
// Minimum on and off durations (from each miner's last desired change)
// hold miners in place unless a forced mode or a grid cap applies.
// Unreachable miners keep their previous desired state and do not count
// toward the tier's target.
func Assign(in AssignInput) AssignResult {
	var res AssignResult
	prevOn := func(u Unit) bool {
		if p, ok := in.Prev[u.ID]; ok {
			return p.State == WantHashing
		}
		// Without a previous desired state a miner is taken as it is; one
		// that does not answer is assumed to hash (its normal state), so a
		// miner rebooting at start-up is not put to sleep on return.
		o := in.Obs[u.ID]
		return o.State == WantHashing || o.State == "starting" || !o.Reachable()
	}
	want := make([]string, len(in.Units))
	why := make([]string, len(in.Units))
	prof := make([]string, len(in.Units))
	for i, u := range in.Units {
		want[i] = WantSleeping
		if prevOn(u) {
			want[i] = WantHashing
		}
		// A sleeping miner keeps its last pinned profile: the firmware
		// keeps its power target through sleep.
		prof[i] = in.Prev[u.ID].Profile
	}
	switch in.Force {
	case ForceHold:
		res.Reasons = append(res.Reasons, "hold: every miner keeps its desired state")
	case ForceMine:
		for i, u := range in.Units {
			if in.Obs[u.ID].Reachable() {
				want[i], why[i] = WantHashing, "forced: mine"
			}
		}
		res.Reasons = append(res.Reasons, "forced: every reachable miner hashes")
	case ForceSleep:
		for i := range in.Units {
			want[i], why[i] = WantSleeping, "forced: curtail"
		}
		res.Reasons = append(res.Reasons, "forced: every miner sleeps")
	default:
		byTier := map[int][]int{}
		for i, u := range in.Units {
			byTier[u.Tier] = append(byTier[u.Tier], i)
		}
		tiers := make([]int, 0, len(byTier))
		for t := range byTier {
			tiers = append(tiers, t)
		}
		sort.Ints(tiers)
		for _, t := range tiers {
			if t < 0 || t >= len(in.Tiers) {
				continue
			}
			r := assignTier(in, in.Tiers[t], byTier[t], want, why)
			if r != "" {
				res.Reasons = append(res.Reasons, r)
			}
			if r := assignProfiles(in, in.Tiers[t], byTier[t], want, why, prof); r != "" {
				res.Reasons = append(res.Reasons, r)
			}
		}
	}
	if in.CapW > 0 && in.Force != ForceHold {
		if r := applyCap(in, want, why); r != "" {
			res.Reasons = append(res.Reasons, r)
		}
	}
	res.Desired = make([]store.Desired, len(in.Units))
	for i, u := range in.Units {
		d := store.Desired{Target: u.ID, State: want[i], Profile: prof[i], DecisionID: in.DecisionID, Reason: why[i], UpdatedAt: in.Now}
		if p, ok := in.Prev[u.ID]; ok && p.State == want[i] && p.Profile == prof[i] {
			d = p // unchanged: keep when and why it was set
		} else if ok && p.State == want[i] {
			// Only the profile moved: minimum on/off times run from the
			// last state change, so keep its time.
			d.UpdatedAt = p.UpdatedAt
			res.Changed++
			if d.Reason == "" {
				d.Reason = "profile " + prof[i]
			}
		} else if !ok && satisfied(u, want[i], in.Obs[u.ID]) {
			// First sight of a miner already in the wanted state: how long
			// it has been so is unknown, so no minimum duration holds it.
			d.UpdatedAt, d.Reason = time.Time{}, "found "+want[i]
			res.Changed++
		} else {
			res.Changed++
			if d.Reason == "" {
				d.Reason = "decision"
			}
		}
		res.Desired[i] = d
		res.ExpectedW += u.wantW(want[i], prof[i], in.Obs[u.ID])
	}
	return res
}

// assignTier moves the fewest miners of one tier to reach its target.
func assignTier(in AssignInput, rule TierRule, idx []int, want, why []string) string {
	var avail []int
	for _, i := range idx {
		if in.Obs[in.Units[i].ID].Reachable() {
			avail = append(avail, i)
		}
	}
	target := int(math.Round(math.Max(0, math.Min(1, rule.OnFraction)) * float64(len(avail))))
	held := func(i int, on bool) bool {
		p, ok := in.Prev[in.Units[i].ID]
		if !ok || p.UpdatedAt.IsZero() {
			return false
		}
		if on {
			return in.Now.Sub(p.UpdatedAt) < rule.MinOn
		}
		return in.Now.Sub(p.UpdatedAt) < rule.MinOff
	}
	eff := func(i int) float64 { u := in.Units[i]; return u.jPerTH(in.Obs[u.ID]) }
	var on, off []int
	for _, i := range avail {
		if want[i] == WantHashing {
			on = append(on, i)
		} else {
			off = append(off, i)
		}
	}
	heldN := 0
	switch {
	case len(on) > target:
		// Least efficient first; ties by ID so the choice is stable.
		sort.SliceStable(on, func(a, b int) bool {
			ea, eb := eff(on[a]), eff(on[b])
			if ea != eb {
				return ea > eb
			}
			return in.Units[on[a]].ID < in.Units[on[b]].ID
		})
		n := len(on) - target
		for _, i := range on {
			if n == 0 {
				break
			}
			if held(i, true) {
				heldN++
				continue
			}
			want[i], why[i] = WantSleeping, fmt.Sprintf("%s: %d of %d on; least efficient sleep first (%.1f J/TH)", rule.Name, target, len(avail), eff(i))
			n--
		}
		if heldN > 0 && n > 0 {
			return fmt.Sprintf("%s: %d miners held on by min_on %s", rule.Name, n, rule.MinOn)
		}
	case len(on) < target:
		sort.SliceStable(off, func(a, b int) bool {
			ea, eb := eff(off[a]), eff(off[b])
			if ea != eb {
				return ea < eb
			}
			return in.Units[off[a]].ID < in.Units[off[b]].ID
		})
		n := target - len(on)
		for _, i := range off {
			if n == 0 {
				break
			}
			if held(i, false) {
				heldN++
				continue
			}
			want[i], why[i] = WantHashing, fmt.Sprintf("%s: %d of %d on; most efficient wake first (%.1f J/TH)", rule.Name, target, len(avail), eff(i))
			n--
		}
		if heldN > 0 && n > 0 {
			return fmt.Sprintf("%s: %d miners held asleep by min_off %s", rule.Name, n, rule.MinOff)
		}
	}
	return ""
}

// assignProfiles spreads a tier's hashing miners over its profiles as the
// decision's shares say, moving the fewest: a miner stays at its pinned
// profile while that profile has room; the rest fill the remaining places,
// most efficient miners at the highest profiles. A miner never pinned that
// stays nominal keeps an empty profile, so no command is sent to it.
func assignProfiles(in AssignInput, rule TierRule, idx []int, want, why, prof []string) string {
	if len(rule.Shares) < 2 || len(idx) == 0 {
		return ""
	}
	units := in.Units
	np := len(units[idx[0]].Profiles)
	if np < 2 {
		return ""
	}
	var on []int
	for _, i := range idx {
		if want[i] == WantHashing && in.Obs[units[i].ID].Reachable() {
			on = append(on, i)
		}
	}
	if len(on) == 0 {
		return ""
	}
	quota := shareOut(rule.Shares[:min(len(rule.Shares), np)], len(on))
	var rest []int
	for _, i := range on {
		k := units[i].profileIndex(prof[i])
		if k < len(quota) && quota[k] > 0 {
			quota[k]--
			continue
		}
		rest = append(rest, i)
	}
	sort.SliceStable(rest, func(a, b int) bool {
		ua, ub := units[rest[a]], units[rest[b]]
		ea, eb := ua.jPerTH(in.Obs[ua.ID]), ub.jPerTH(in.Obs[ub.ID])
		if ea != eb {
			return ea < eb
		}
		return ua.ID < ub.ID
	})
	moved := 0
	for _, i := range rest {
		for k := range quota {
			if quota[k] == 0 {
				continue
			}
			quota[k]--
			p := units[i].Profiles[k]
			if k == 0 && prof[i] == "" {
				break // nominal and never pinned: nothing to send
			}
			prof[i] = p.Name
			if why[i] == "" {
				why[i] = fmt.Sprintf("%s: profile %s (%.0f W, %.0f TH/s)", rule.Name, p.Name, p.W, p.THs)
			}
			moved++
			break
		}
	}
	if moved == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d miners change profile", rule.Name, moved)
}

// shareOut splits n places over shares by largest remainder.
func shareOut(shares []float64, n int) []int {
	total := 0.0
	for _, s := range shares {
		total += max(s, 0)
	}
	out := make([]int, len(shares))
	if total <= 0 {
		out[0] = n
		return out
	}
	type rem struct {
		k int
		r float64
	}
	rems := make([]rem, len(shares))
	given := 0
	for k, s := range shares {
		x := max(s, 0) / total * float64(n)
		out[k] = int(math.Floor(x))
		given += out[k]
		rems[k] = rem{k, x - math.Floor(x)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for j := 0; given < n; j++ {
		out[rems[j%len(rems)].k]++
		given++
	}
	return out
}

// applyCap sleeps the least efficient running miners, site-wide, until the
// expected load fits CapW.
func applyCap(in AssignInput, want, why []string) string {
	load := in.OtherW
	var on []int
	for i, u := range in.Units {
		o := in.Obs[u.ID]
		load += u.expectedW(want[i], o)
		if want[i] == WantHashing {
			on = append(on, i)
		}
	}
	if load <= in.CapW {
		return ""
	}
	sort.SliceStable(on, func(a, b int) bool {
		ua, ub := in.Units[on[a]], in.Units[on[b]]
		ea, eb := ua.jPerTH(in.Obs[ua.ID]), ub.jPerTH(in.Obs[ub.ID])
		if ea != eb {
			return ea > eb
		}
		return ua.ID < ub.ID
	})
	slept := 0
	for _, i := range on {
		if load <= in.CapW {
			break
		}
		u := in.Units[i]
		o := in.Obs[u.ID]
		load -= u.expectedW(WantHashing, o) - u.SleepW
		want[i], why[i] = WantSleeping, fmt.Sprintf("%s: least efficient first (%.1f J/TH)", in.CapReason, u.jPerTH(o))
		slept++
	}
	msg := fmt.Sprintf("%s: %d more miners sleep to hold %.3f MW", in.CapReason, slept, in.CapW/1e6)
	if load > in.CapW {
		msg += fmt.Sprintf(" (short by %.3f MW: nothing left to curtail)", (load-in.CapW)/1e6)
	}
	return msg
}
