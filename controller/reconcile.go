package controller

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jouleworks/joule/store"
)

// Commands the reconciler journals and sends.
const (
	CmdSleep = "sleep"
	CmdWake  = "wake"
	// CmdProfile moves a hashing miner to a power profile (Action.Args
	// names it); it is sent as a power target of the profile's watts.
	CmdProfile = "profile"
)

// Params tune the reconciler.
type Params struct {
	// BatchSize is the most commands sent per batch (default 50).
	BatchSize int
	// Stagger is the least time between two batches (default 1 s), so a
	// site's load steps rather than jumps.
	Stagger time.Duration
	// Cooldown is how long a miner is left alone after an action on it
	// settled or drifted before another is sent (default 30 s).
	Cooldown time.Duration
	// SleepTimeout and WakeTimeout bound how long telemetry may take to
	// confirm a command before the action drifts (defaults 2 min, 10 min:
	// stock Antminer firmware needs minutes to init and ramp its chains).
	SleepTimeout time.Duration
	WakeTimeout  time.Duration
	// MaxAttempts is how many sends an action gets before it fails
	// (default 3).
	MaxAttempts int
	// RampWPerMin caps the load switched (slept plus woken, plus the
	// change of profile moves) in any minute, in watts; 0 means no cap.
	RampWPerMin float64
	// ProfileTolerance is how close (a fraction of the profile's watts)
	// wall power must settle to confirm a profile command (default 0.05).
	ProfileTolerance float64
	// ProfileTimeout bounds how long a profile command may take to settle
	// before it drifts (default 5 min: tuners slew the clocks gradually).
	ProfileTimeout time.Duration
}

func (p Params) withDefaults() Params {
	if p.BatchSize <= 0 {
		p.BatchSize = 50
	}
	if p.Stagger < 0 {
		p.Stagger = 0
	} else if p.Stagger == 0 {
		p.Stagger = time.Second
	}
	if p.Cooldown <= 0 {
		p.Cooldown = 30 * time.Second
	}
	if p.SleepTimeout <= 0 {
		p.SleepTimeout = 2 * time.Minute
	}
	if p.WakeTimeout <= 0 {
		p.WakeTimeout = 10 * time.Minute
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.ProfileTolerance <= 0 {
		p.ProfileTolerance = 0.05
	}
	if p.ProfileTimeout <= 0 {
		p.ProfileTimeout = 5 * time.Minute
	}
	return p
}

// NoStagger, as Params.Stagger, sends batches back to back.
const NoStagger = -1

// Switch is load switched at one time, for the ramp-rate window.
type Switch struct {
	At time.Time
	W  float64
}

// Memory is the reconciler's own state between steps. It is rebuilt after a
// restart from the journal (see Resume), so losing it loses nothing.
type Memory struct {
	LastBatch time.Time
	// Switched is the load dispatched in the last minute.
	Switched []Switch
	// Settled is when each target's last action settled, for cooldowns.
	Settled map[string]time.Time
}

// StepKind is one thing the reconciler asks the edge to do.
type StepKind string

// Step kinds. Create journals a new pending action. Dispatch moves it (or a
// drifted one) to dispatched and sends the command. Confirm, Drift, Fail and
// Cancel only move the journal.
const (
	StepCreate   StepKind = "create"
	StepDispatch StepKind = "dispatch"
	StepConfirm  StepKind = "confirm"
	StepDrift    StepKind = "drift"
	StepFail     StepKind = "fail"
	StepCancel   StepKind = "cancel"
)

// Step is one journal move (and, for Dispatch, one command).
type Step struct {
	Kind   StepKind
	Action store.Action // the action as it stands before the step
	From   store.ActionState
	To     store.ActionState
	Reason string
	W      float64 // load the command switches, for the ramp window
}

// ReconcileInput is one reconciler step's view of the world.
type ReconcileInput struct {
	Now     time.Time
	Params  Params
	Units   []Unit
	Desired map[string]store.Desired
	Obs     map[string]Observation
	// Open maps each target to its open action, if any.
	Open map[string]store.Action
	// Mem is the reconciler memory; Reconcile returns the next one.
	Mem Memory
	// DecisionID is the latest decision (0: unknown). A profile set by it
	// is news, not drift, however long ago the miner's state last changed
	// (a profile move keeps the time of the last state change, which
	// minimum on/off times run from).
	DecisionID int64
}

// Reconcile is the state machine, one per target, as a pure function of
// what is desired, what telemetry shows, the open actions and the time:
//
//	(none)     → pending     desired ≠ observed, no open action, not cooling down
//	pending    → dispatched  within batch, stagger and ramp limits (command sent)
//	pending    → confirmed   telemetry already shows it (nothing sent)
//	dispatched → confirmed   telemetry shows it (never the ACK alone)
//	dispatched → drifted     not confirmed within the timeout
//	drifted    → dispatched  after the cooldown (re-sent)
//	drifted    → failed      attempts exhausted
//	any open   → cancelled   the desired state changed
//
// A target never has two open actions, so a command is never repeated
// while one is in flight. Sleeps go before wakes and, among sleeps, the
// least efficient miners first.
func Reconcile(in ReconcileInput) ([]Step, Memory) {
	p := in.Params.withDefaults()
	mem := Memory{LastBatch: in.Mem.LastBatch, Settled: map[string]time.Time{}}
	for k, v := range in.Mem.Settled {
		if in.Now.Sub(v) < p.Cooldown {
			mem.Settled[k] = v
		}
	}
	for _, s := range in.Mem.Switched {
		if in.Now.Sub(s.At) < time.Minute {
			mem.Switched = append(mem.Switched, s)
		}
	}
	var steps []Step
	type cand struct {
		step Step
		eff  float64
	}
	var cands []cand
	for _, u := range in.Units {
		d, hasD := in.Desired[u.ID]
		o := in.Obs[u.ID]
		a, open := in.Open[u.ID]
		want, wantArgs := "", ""
		if hasD {
			want, wantArgs = needed(u, d, o, p.ProfileTolerance)
		}
		if open {
			switch {
			case done(u, a, o, p.ProfileTolerance):
				steps = append(steps, Step{Kind: StepConfirm, Action: a, From: a.State, To: store.Confirmed,
					Reason: fmt.Sprintf("telemetry: %s, %.0f W, %.1f TH/s", o.State, o.PowerW, o.HashrateTHs)})
				mem.Settled[u.ID] = in.Now
				continue
			case want != a.Command || wantArgs != a.Args:
				steps = append(steps, Step{Kind: StepCancel, Action: a, From: a.State, To: store.Cancelled,
					Reason: fmt.Sprintf("superseded: desired %s", describe(d))})
				// The new action waits for the next step; the cooldown
				// does not apply to a superseded command.
				continue
			case a.State == store.Dispatched:
				timeout := p.SleepTimeout
				switch a.Command {
				case CmdWake:
					timeout = p.WakeTimeout
				case CmdProfile:
					timeout = p.ProfileTimeout
				}
				if in.Now.Sub(a.DispatchedAt) >= timeout {
					steps = append(steps, Step{Kind: StepDrift, Action: a, From: a.State, To: store.Drifted,
						Reason: fmt.Sprintf("not confirmed after %s: telemetry shows %s", timeout, orDash(o.State))})
					mem.Settled[u.ID] = in.Now
				}
				continue
			case a.State == store.Drifted:
				if a.Attempts >= p.MaxAttempts {
					steps = append(steps, Step{Kind: StepFail, Action: a, From: a.State, To: store.Failed,
						Reason: fmt.Sprintf("%d attempts, still %s", a.Attempts, orDash(o.State))})
					mem.Settled[u.ID] = in.Now
					continue
				}
				if t, ok := mem.Settled[u.ID]; ok && in.Now.Sub(t) < p.Cooldown {
					continue
				}
				if in.Now.Sub(a.UpdatedAt) < p.Cooldown {
					continue
				}
				if !o.Reachable() {
					continue
				}
				cands = append(cands, cand{Step{Kind: StepDispatch, Action: a, From: store.Drifted, To: store.Dispatched,
					Reason: "re-dispatch after drift", W: switchW(u, a, o)}, u.jPerTH(o)})
				continue
			default: // pending
				if !o.Reachable() {
					continue
				}
				cands = append(cands, cand{Step{Kind: StepDispatch, Action: a, From: store.Pending, To: store.Dispatched,
					Reason: a.Reason, W: switchW(u, a, o)}, u.jPerTH(o)})
				continue
			}
		}
		if want == "" || !o.Reachable() {
			continue
		}
		if t, ok := mem.Settled[u.ID]; ok && in.Now.Sub(t) < p.Cooldown {
			continue
		}
		key := want
		if want == CmdProfile {
			key = CmdProfile + "-" + wantArgs
		}
		a = store.Action{
			ID:         fmt.Sprintf("d%d:%s:%s", d.DecisionID, u.ID, key),
			Target:     u.ID,
			Command:    want,
			Args:       wantArgs,
			State:      store.Pending,
			DecisionID: d.DecisionID,
			Reason:     d.Reason,
			CreatedAt:  in.Now,
			UpdatedAt:  in.Now,
		}
		if in.Now.Sub(d.UpdatedAt) > p.Cooldown && (want != CmdProfile || in.DecisionID == 0 || d.DecisionID < in.DecisionID) {
			a.Reason = fmt.Sprintf("drift: desired %s, telemetry shows %s at %.0f W", describe(d), o.State, o.PowerW)
		}
		steps = append(steps, Step{Kind: StepCreate, Action: a, To: store.Pending, Reason: a.Reason})
		cands = append(cands, cand{Step{Kind: StepDispatch, Action: a, From: store.Pending, To: store.Dispatched,
			Reason: a.Reason, W: switchW(u, a, o)}, u.jPerTH(o)})
	}
	if len(cands) == 0 || (!mem.LastBatch.IsZero() && in.Now.Sub(mem.LastBatch) < p.Stagger) {
		return steps, mem
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ci, cj := cands[i], cands[j]
		oi, oj := cmdOrder(ci.step.Action.Command), cmdOrder(cj.step.Action.Command)
		if oi != oj {
			return oi < oj
		}
		if ci.step.Action.Command != CmdWake {
			return ci.eff > cj.eff // least efficient sleep (or slow down) first
		}
		return ci.eff < cj.eff // most efficient wake first
	})
	used := 0.0
	for _, s := range mem.Switched {
		used += s.W
	}
	sent := 0
	for _, c := range cands {
		if sent >= p.BatchSize {
			break
		}
		if p.RampWPerMin > 0 && used+c.step.W > p.RampWPerMin && used > 0 {
			break
		}
		used += c.step.W
		mem.Switched = append(mem.Switched, Switch{At: in.Now, W: c.step.W})
		steps = append(steps, c.step)
		sent++
	}
	if sent > 0 {
		mem.LastBatch = in.Now
	}
	return steps, mem
}

func cmdFor(state string) string {
	if state == WantSleeping {
		return CmdSleep
	}
	return CmdWake
}

func stateFor(cmd string) string {
	if cmd == CmdSleep {
		return WantSleeping
	}
	return WantHashing
}

// cmdOrder puts load reductions first: sleeps, then profile moves, then
// wakes.
func cmdOrder(cmd string) int {
	switch cmd {
	case CmdSleep:
		return 0
	case CmdProfile:
		return 1
	}
	return 2
}

// needed returns the command (and its argument) that moves a miner from
// what telemetry shows to its desired state, or "" when it is there: first
// sleep or wake, then, for a hashing miner with a pinned profile, the
// profile.
func needed(u Unit, d store.Desired, o Observation, tol float64) (cmd, args string) {
	if !satisfied(u, d.State, o) {
		return cmdFor(d.State), ""
	}
	if d.State == WantHashing && d.Profile != "" {
		if p, ok := u.profile(d.Profile); ok && !profileConfirmed(p, o, tol) {
			return CmdProfile, p.Name
		}
	}
	return "", ""
}

// done is the telemetry test of an action's command.
func done(u Unit, a store.Action, o Observation, tol float64) bool {
	if a.Command == CmdProfile {
		p, ok := u.profile(a.Args)
		return ok && profileConfirmed(p, o, tol)
	}
	return satisfied(u, stateFor(a.Command), o)
}

// describe names a desired state for reasons: "hashing at eco" or "sleeping".
func describe(d store.Desired) string {
	if d.State == WantHashing && d.Profile != "" {
		return d.State + " at " + d.Profile
	}
	return d.State
}

// switchW is the load a command moves: a sleep or wake the miner's draw
// above sleep, a profile move the change of its draw.
func switchW(u Unit, a store.Action, o Observation) float64 {
	switch a.Command {
	case CmdSleep:
		return max(0, u.expectedW(WantHashing, o)-u.SleepW)
	case CmdProfile:
		p, ok := u.profile(a.Args)
		if !ok {
			return 0
		}
		return math.Abs(u.expectedW(WantHashing, o) - p.W)
	}
	return max(0, u.NominalW-u.SleepW)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
