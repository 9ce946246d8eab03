package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/jouleworks/joule/store"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// units: u0 least efficient (30 J/TH) … u3 most (17.5 J/TH).
var testUnits = []Unit{
	{ID: "u0", Tier: 0, NominalW: 3000, NominalTHs: 100, SleepW: 25},
	{ID: "u1", Tier: 0, NominalW: 3000, NominalTHs: 120, SleepW: 25},
	{ID: "u2", Tier: 1, NominalW: 3500, NominalTHs: 160, SleepW: 25},
	{ID: "u3", Tier: 1, NominalW: 3500, NominalTHs: 200, SleepW: 25},
}

func hashing(w, ths float64) Observation {
	return Observation{At: t0, State: WantHashing, PowerW: w, HashrateTHs: ths}
}

var asleep = Observation{At: t0, State: WantSleeping, PowerW: 25}

func allObs(o Observation) map[string]Observation {
	m := map[string]Observation{}
	for _, u := range testUnits {
		oo := o
		if o.State == WantHashing {
			oo.PowerW, oo.HashrateTHs = u.NominalW, u.NominalTHs
		}
		m[u.ID] = oo
	}
	return m
}

func desiredAll(state string, at time.Time) map[string]store.Desired {
	m := map[string]store.Desired{}
	for _, u := range testUnits {
		m[u.ID] = store.Desired{Target: u.ID, State: state, DecisionID: 7, UpdatedAt: at, Reason: "test"}
	}
	return m
}

func kinds(steps []Step) string {
	s := ""
	for _, st := range steps {
		s += fmt.Sprintf("%s:%s ", st.Kind, st.Action.Target)
	}
	return s
}

func TestReconcileTable(t *testing.T) {
	dispatched := func(target, cmd string, at time.Time, attempts int) store.Action {
		return store.Action{ID: "d7:" + target + ":" + cmd, Target: target, Command: cmd, State: store.Dispatched,
			Attempts: attempts, DispatchedAt: at, UpdatedAt: at, CreatedAt: at}
	}
	drifted := func(target string, at time.Time, attempts int) store.Action {
		a := dispatched(target, CmdSleep, at, attempts)
		a.State = store.Drifted
		return a
	}
	cases := []struct {
		name string
		in   ReconcileInput
		want string
	}{
		{"in sync: nothing", ReconcileInput{Now: t0, Units: testUnits, Desired: desiredAll(WantHashing, t0), Obs: allObs(hashing(0, 0))}, ""},
		{"sleep all, batch of 2, least efficient first",
			ReconcileInput{Now: t0, Params: Params{BatchSize: 2}, Units: testUnits, Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0))},
			"create:u0 create:u1 create:u2 create:u3 dispatch:u0 dispatch:u1 "},
		{"stagger holds the next batch",
			ReconcileInput{Now: t0, Params: Params{BatchSize: 2, Stagger: time.Minute}, Units: testUnits, Desired: desiredAll(WantSleeping, t0),
				Obs: allObs(hashing(0, 0)), Mem: Memory{LastBatch: t0.Add(-30 * time.Second)}},
			"create:u0 create:u1 create:u2 create:u3 "},
		{"ramp cap: 2 miners per minute",
			ReconcileInput{Now: t0, Params: Params{BatchSize: 10, RampWPerMin: 7000}, Units: testUnits, Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0))},
			"create:u0 create:u1 create:u2 create:u3 dispatch:u0 dispatch:u1 "},
		{"dispatched, telemetry confirms",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(asleep),
				Open: map[string]store.Action{"u0": dispatched("u0", CmdSleep, t0.Add(-10*time.Second), 1)}},
			"confirm:u0 "},
		{"pending, telemetry already shows it: confirmed, nothing sent",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(asleep),
				Open: map[string]store.Action{"u0": {ID: "d7:u0:sleep", Target: "u0", Command: CmdSleep, State: store.Pending, CreatedAt: t0}}},
			"confirm:u0 "},
		{"sleep flag up but power not yet fallen: not confirmed",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(Observation{At: t0, State: WantSleeping, PowerW: 2500}),
				Open: map[string]store.Action{"u0": dispatched("u0", CmdSleep, t0.Add(-2*time.Second), 1)}},
			""},
		{"dispatched, still hashing within timeout: wait, no duplicate",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Open: map[string]store.Action{"u0": dispatched("u0", CmdSleep, t0.Add(-10*time.Second), 1)}},
			""},
		{"dispatched, timeout: drift",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Open: map[string]store.Action{"u0": dispatched("u0", CmdSleep, t0.Add(-3*time.Minute), 1)}},
			"drift:u0 "},
		{"drifted, after cooldown: re-dispatch",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Open: map[string]store.Action{"u0": drifted("u0", t0.Add(-time.Minute), 1)}},
			"dispatch:u0 "},
		{"drifted, within cooldown: wait",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Open: map[string]store.Action{"u0": drifted("u0", t0.Add(-5*time.Second), 1)}},
			""},
		{"drifted, attempts exhausted: fail",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Open: map[string]store.Action{"u0": drifted("u0", t0.Add(-time.Minute), 3)}},
			"fail:u0 "},
		{"desired changed: cancel",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantHashing, t0), Obs: allObs(Observation{At: t0, State: "starting"}),
				Open: map[string]store.Action{"u0": dispatched("u0", CmdSleep, t0.Add(-5*time.Second), 1)}},
			"cancel:u0 "},
		{"unreachable: no command",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(Observation{At: t0, State: StateOffline})},
			""},
		{"cooldown after a settled action",
			ReconcileInput{Now: t0, Units: testUnits[:1], Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0)),
				Mem: Memory{Settled: map[string]time.Time{"u0": t0.Add(-10 * time.Second)}}},
			""},
		{"wakes most efficient first, after sleeps",
			ReconcileInput{Now: t0, Params: Params{BatchSize: 3}, Units: testUnits,
				Desired: map[string]store.Desired{"u0": {Target: "u0", State: WantSleeping, UpdatedAt: t0}, "u1": {Target: "u1", State: WantHashing, UpdatedAt: t0},
					"u2": {Target: "u2", State: WantHashing, UpdatedAt: t0}, "u3": {Target: "u3", State: WantHashing, UpdatedAt: t0}},
				Obs: map[string]Observation{"u0": hashing(3000, 100), "u1": asleep, "u2": asleep, "u3": asleep}},
			"create:u0 create:u1 create:u2 create:u3 dispatch:u0 dispatch:u3 dispatch:u2 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps, _ := Reconcile(c.in)
			if got := kinds(steps); got != c.want {
				t.Errorf("steps = %q, want %q", got, c.want)
			}
		})
	}
}

func TestReconcileMemoryWindow(t *testing.T) {
	in := ReconcileInput{Now: t0, Params: Params{BatchSize: 10, RampWPerMin: 7000}, Units: testUnits, Desired: desiredAll(WantSleeping, t0), Obs: allObs(hashing(0, 0))}
	_, mem := Reconcile(in)
	if len(mem.Switched) != 2 {
		t.Fatalf("switched = %d, want 2", len(mem.Switched))
	}
	in.Mem, in.Now = mem, t0.Add(61*time.Second)
	// After a minute the window is clear: two more may go.
	steps, mem := Reconcile(in)
	n := 0
	for _, s := range steps {
		if s.Kind == StepDispatch {
			n++
		}
	}
	if n != 2 || len(mem.Switched) != 2 {
		t.Errorf("after a minute: %d dispatches, window %d; want 2 and 2", n, len(mem.Switched))
	}
}

func TestAssignTable(t *testing.T) {
	rules := []TierRule{{Name: "old", OnFraction: 1}, {Name: "new", OnFraction: 1}}
	cases := []struct {
		name  string
		mod   func(in *AssignInput)
		want  string // desired states u0..u3, h or s
		chged int
	}{
		{"all on", func(in *AssignInput) {}, "hhhh", 4},
		{"half of tier 0 off: least efficient sleeps", func(in *AssignInput) { in.Tiers[0].OnFraction = 0.5 }, "shhh", 4},
		{"cap sleeps least efficient site-wide", func(in *AssignInput) { in.CapW = 7100; in.CapReason = "grid event 1" }, "sshh", 4},
		{"force sleep", func(in *AssignInput) { in.Force = ForceSleep }, "ssss", 4},
		{"min_on holds a freshly woken miner", func(in *AssignInput) {
			in.Tiers[0].OnFraction, in.Tiers[0].MinOn = 0.5, time.Hour
			in.Prev = desiredAll(WantHashing, t0.Add(-2*time.Hour))
			in.Prev["u0"] = store.Desired{Target: "u0", State: WantHashing, UpdatedAt: t0.Add(-time.Minute)}
		}, "hshh", 1},
		{"hold keeps previous states", func(in *AssignInput) {
			in.Force = ForceHold
			in.Prev = map[string]store.Desired{"u0": {Target: "u0", State: WantSleeping}}
		}, "shhh", 3},
		{"offline miner keeps its state and does not count", func(in *AssignInput) {
			in.Obs["u1"] = Observation{State: StateOffline}
			in.Tiers[0].OnFraction = 0
		}, "shhh", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := AssignInput{Now: t0, Units: testUnits, Obs: allObs(hashing(0, 0)), Tiers: append([]TierRule(nil), rules...)}
			c.mod(&in)
			res := Assign(in)
			got := ""
			for _, d := range res.Desired {
				got += d.State[:1]
			}
			if got != c.want || res.Changed != c.chged {
				t.Errorf("desired = %s (changed %d), want %s (changed %d); reasons %v", got, res.Changed, c.want, c.chged, res.Reasons)
			}
		})
	}
}
