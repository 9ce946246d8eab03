package e2e

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store"
)

// withEco gives every tier a second, more efficient profile at 80 % of
// nominal power and 90 % of its hashrate (an underclock). At hashprice
// $0.05/TH/day the eco profile breaks even at about $110/MWh (S19 XP) and
// $135 (S21), the last 20 % of power only below about $48 and $60: a
// $90 price runs every miner at eco.
func withEco(s *site.Site) {
	for i := range s.Tiers {
		n := s.Tiers[i].Profiles[0]
		s.Tiers[i].Profiles = append(s.Tiers[i].Profiles, site.Profile{Name: "eco", THs: 0.9 * n.THs, W: math.Round(0.8 * n.W)})
	}
}

func TestLowerProfileConfirmedByTelemetry(t *testing.T) {
	h := newHarness(t, opts{mix: "s19xp:braiins=4,s21:luxos=4", tune: withEco,
		params: controller.Params{BatchSize: 8, Stagger: time.Second, RampWPerMin: 10e6}})
	h.tick()
	if n := len(h.actions()); n != 0 {
		t.Fatalf("at $30/MWh every miner should hash at its nominal profile; journal has %d actions", n)
	}
	h.setPrice(90)
	h.tick()
	for _, a := range h.actions() {
		if a.State == store.Confirmed {
			t.Fatalf("action %s confirmed on the ACK, before telemetry could show it", a.ID)
		}
	}
	took := h.until(5*time.Second, 10*time.Minute, "profile moves confirmed", func() bool {
		as := h.actions()
		for _, a := range as {
			if a.State != store.Confirmed {
				return false
			}
		}
		return len(as) == h.fleet.Len()
	})
	t.Logf("%d profile moves confirmed by telemetry in %s of simulated time", h.fleet.Len(), took)
	tier := map[string]site.Profile{}
	for _, tr := range h.site.Tiers {
		tier[tr.Model] = tr.Profiles[1]
	}
	byTarget := map[string]store.Action{}
	for _, a := range h.actions() {
		if a.Command != controller.CmdProfile || a.Args != "eco" || !strings.HasSuffix(a.ID, ":profile-eco") {
			t.Errorf("action %s: %s %q, want profile eco", a.ID, a.Command, a.Args)
		}
		if a.Attempts != 1 {
			t.Errorf("action %s: %d attempts, want 1", a.ID, a.Attempts)
		}
		byTarget[a.Target] = a
	}
	for i, m := range h.fleet.Miners() {
		c := h.fleet.Commands(i)
		if c.PowerTarget+c.Profile != 1 || c.Sleep != 0 || c.Wake != 0 || c.Repeats != 0 {
			t.Errorf("%s: commands %+v, want exactly one power target", m.Name, c)
		}
		eco := tier[m.Model]
		tel := h.fleet.Telemetry(i)
		if got := tel.PowerW; math.Abs(got-eco.W) > 0.05*eco.W {
			t.Errorf("%s: emulator power %.0f W, want %.0f W ± 5 %%", m.Name, got, eco.W)
		}
		if _, ok := byTarget[m.Name]; !ok {
			t.Errorf("%s: no profile action", m.Name)
		}
	}
	// Another decision at the same price changes nothing.
	h.step(6 * time.Minute)
	if n := len(h.actions()); n != h.fleet.Len() {
		t.Errorf("journal has %d actions after a second decision, want %d", n, h.fleet.Len())
	}
	var audit struct{ Audit []store.AuditEntry }
	h.do("GET", "/api/v1/audit?limit=1000", viewerTok, "", &audit)
	var dispatched, confirmed int
	for _, e := range audit.Audit {
		switch e.Action {
		case "dispatch profile":
			dispatched++
			if e.DecisionID == 0 || e.PriceUSDMWh != 90 || e.ActionID == "" || !strings.Contains(e.Detail, "power target") {
				t.Errorf("audit entry %+v lacks decision, price, action or target", e)
			}
			if !strings.Contains(e.Reason, "profile eco") {
				t.Errorf("audit entry reason %q: want the decision's profile move (not a drift)", e.Reason)
			}
		case "confirm profile":
			confirmed++
		}
	}
	if dispatched != h.fleet.Len() || confirmed != h.fleet.Len() {
		t.Errorf("audit: %d profile dispatches and %d confirmations, want %d each", dispatched, confirmed, h.fleet.Len())
	}
	var snap api.Snapshot
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	wantMW := 0.0
	for _, m := range h.fleet.Miners() {
		wantMW += tier[m.Model].W / 1e6
	}
	if math.Abs(snap.Power.MiningMW-wantMW) > 0.05*wantMW {
		t.Errorf("mining %.4f MW, want %.4f MW (every miner at eco) ± 5 %%", snap.Power.MiningMW, wantMW)
	}
}
