package e2e

import (
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/emulator/physics"
)

// TestHealthRiskShownForWearingFan wears out one miner's fan over the
// emulator's physics and checks that the fleet API shows the failure
// predictor's assessment for it, from the controller's own poll history,
// and no alarm for the healthy miners.
func TestHealthRiskShownForWearingFan(t *testing.T) {
	h := newHarness(t, opts{mix: "s21:luxos=4"})
	start := h.fleet.Elapsed()
	if err := h.fleet.InjectFault(0, physics.Fault{Kind: physics.FanWear, Start: start, FailAt: start + 6*3600, Target: 1}); err != nil {
		t.Fatal(err)
	}
	h.tick()
	for range 5 * 30 {
		h.step(2 * time.Minute)
	}
	var resp struct {
		Miners []api.Miner `json:"miners"`
	}
	if code := h.do("GET", "/api/v1/miners", viewerTok, "", &resp); code != 200 || len(resp.Miners) != 4 {
		t.Fatalf("GET /api/v1/miners: HTTP %d, %d miners", code, len(resp.Miners))
	}
	sick := h.fleet.Miners()[0].Name
	for _, m := range resp.Miners {
		if m.Risk == nil {
			t.Fatalf("%s: no health assessment after 5 h of polls", m.ID)
		}
		t.Logf("%s: health %s, risk %.2f %s (ttf %.1f h): %s", m.ID, m.Health, m.Risk.Score, m.Risk.Kind, m.Risk.TTFHours, m.Risk.Reason)
		if m.ID == sick {
			if m.Risk.Kind != "fan_wear" || !m.Risk.Alarm || m.Risk.Reason == "" || m.Health != api.HealthWarning {
				t.Errorf("%s (fan wearing out, 1 h before it stops): health %s, risk %+v; want a fan_wear alarm with its reason", m.ID, m.Health, *m.Risk)
			}
		} else if m.Risk.Alarm {
			t.Errorf("%s (healthy): alarm %+v", m.ID, *m.Risk)
		}
	}
}
