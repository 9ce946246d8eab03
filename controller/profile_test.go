package controller

import (
	"testing"
	"time"

	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store"
)

var ecoProfiles = []site.Profile{{Name: "stock", THs: 200, W: 3500}, {Name: "eco", THs: 180, W: 2800}}

func ecoUnit(id string) Unit {
	return Unit{ID: id, NominalW: 3500, NominalTHs: 200, SleepW: 25, Profiles: ecoProfiles}
}

// The profile state machine, one step at a time: what Reconcile does for a
// miner desired hashing at eco, given what telemetry shows and the open
// action.
var profileSteps = []struct {
	name  string
	obs   Observation
	open  *store.Action
	now   time.Duration // after t0
	want  string        // step kinds
	wantW float64       // ramp load of a dispatch
}{
	{"stock power: create and send", hashing(3490, 200), nil, 0, "create:p dispatch:p ", 690},
	{"settled within 5 %: nothing to do", hashing(2850, 181), nil, 0, "", 0},
	{"asleep: wake first", asleep, nil, 0, "create:p dispatch:p ", 3475},
	{"dispatched, slewing: wait", hashing(3100, 190), &store.Action{ID: "d7:p:profile-eco", Target: "p", Command: CmdProfile, Args: "eco", State: store.Dispatched, Attempts: 1, DispatchedAt: t0}, time.Minute, "", 0},
	{"dispatched, settled: confirm", hashing(2790, 180), &store.Action{ID: "d7:p:profile-eco", Target: "p", Command: CmdProfile, Args: "eco", State: store.Dispatched, Attempts: 1, DispatchedAt: t0}, time.Minute, "confirm:p ", 0},
	{"dispatched, never settles: drift", hashing(3500, 200), &store.Action{ID: "d7:p:profile-eco", Target: "p", Command: CmdProfile, Args: "eco", State: store.Dispatched, Attempts: 1, DispatchedAt: t0}, 5 * time.Minute, "drift:p ", 0},
	{"open action for another profile: cancel", hashing(3100, 190), &store.Action{ID: "d6:p:profile-stock", Target: "p", Command: CmdProfile, Args: "stock", State: store.Dispatched, Attempts: 1, DispatchedAt: t0}, time.Minute, "cancel:p ", 0},
}

func TestReconcileProfile(t *testing.T) {
	u := ecoUnit("p")
	for _, c := range profileSteps {
		open := map[string]store.Action{}
		if c.open != nil {
			open["p"] = *c.open
		}
		steps, _ := Reconcile(ReconcileInput{Now: t0.Add(c.now), Units: []Unit{u}, Obs: map[string]Observation{"p": c.obs}, Open: open,
			Desired: map[string]store.Desired{"p": {Target: "p", State: WantHashing, Profile: "eco", DecisionID: 7, UpdatedAt: t0}}, DecisionID: 7})
		if got := kinds(steps); got != c.want {
			t.Errorf("%s: steps %q, want %q", c.name, got, c.want)
			continue
		}
		for _, s := range steps {
			if s.Kind == StepCreate && c.obs.State == WantHashing && (s.Action.Command != CmdProfile || s.Action.Args != "eco" || s.Action.ID != "d7:p:profile-eco") {
				t.Errorf("%s: created %+v, want d7:p:profile-eco", c.name, s.Action)
			}
			if s.Kind == StepDispatch && s.W != c.wantW {
				t.Errorf("%s: dispatch counts %.0f W against the ramp, want %.0f", c.name, s.W, c.wantW)
			}
		}
	}
}

// Assign spreads a tier over its profiles moving the fewest miners, and
// sends nothing to miners that stay at a nominal profile never pinned.
func TestAssignProfiles(t *testing.T) {
	units := []Unit{ecoUnit("a"), ecoUnit("b"), ecoUnit("c"), ecoUnit("d")}
	obs := map[string]Observation{}
	for _, u := range units {
		obs[u.ID] = hashing(3500, 200)
	}
	obs["d"] = hashing(3500, 180) // least efficient
	rule := TierRule{Name: "s21", OnFraction: 1, Shares: []float64{0.5, 0.5}}
	res := Assign(AssignInput{Now: t0, DecisionID: 8, Units: units, Obs: obs, Tiers: []TierRule{rule}})
	got := map[string]string{}
	for _, d := range res.Desired {
		got[d.Target] = d.Profile
	}
	// Half stay nominal (unpinned: no command); the two most efficient
	// fill stock first, so the least efficient and the last by ID go eco.
	if got["a"] != "" || got["b"] != "" || got["c"] != "eco" || got["d"] != "eco" {
		t.Fatalf("profiles %v, want a, b unpinned and c, d at eco", got)
	}
	prev := map[string]store.Desired{}
	for _, d := range res.Desired {
		prev[d.Target] = d
	}
	// Back to all nominal: the eco miners are pinned to stock explicitly
	// (their firmware holds the eco target); the others stay unpinned.
	rule.Shares = []float64{1, 0}
	res = Assign(AssignInput{Now: t0.Add(time.Hour), DecisionID: 9, Units: units, Obs: obs, Prev: prev, Tiers: []TierRule{rule}})
	for _, d := range res.Desired {
		want := ""
		if d.Target == "c" || d.Target == "d" {
			want = "stock"
		}
		if d.Profile != want || d.State != WantHashing {
			t.Errorf("%s: %s at %q, want hashing at %q", d.Target, d.State, d.Profile, want)
		}
		if want != "" && !d.UpdatedAt.Equal(prev[d.Target].UpdatedAt) {
			t.Errorf("%s: a profile move reset the state time to %s (min on/off run from the last state change)", d.Target, d.UpdatedAt)
		}
	}
	if res.Changed != 2 {
		t.Errorf("changed %d, want 2", res.Changed)
	}
}
