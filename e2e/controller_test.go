package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/internal/testenv"
	"github.com/jouleworks/joule/store"
)

// At hashprice $0.05/TH/day the breakevens are about $71/MWh (s19jpro),
// $81 (m50s), $98 (s19xp) and $120 (s21): a $90 price makes the two least
// efficient tiers lose money and leaves the other two profitable.
const spikePrice = 90

func TestPriceSpikeCurtailsLeastEfficientFirst(t *testing.T) {
	h := newHarness(t, opts{params: controller.Params{BatchSize: 4, Stagger: time.Second}})
	h.tick()
	if n := len(h.actions()); n != 0 {
		t.Fatalf("at $30/MWh every miner should keep hashing; journal has %d actions", n)
	}
	h.setPrice(spikePrice)
	h.tick()
	// The first batch went out, but nothing is confirmed on an ACK alone.
	for _, a := range h.actions() {
		if a.State == store.Confirmed {
			t.Fatalf("action %s confirmed before telemetry could show it", a.ID)
		}
	}
	models := h.byModel()
	slept := map[int]bool{}
	for _, k := range []string{"s19jpro", "m50s"} {
		for _, i := range models[k] {
			slept[i] = true
		}
	}
	h.until(5*time.Second, 10*time.Minute, "curtailment confirmed", func() bool {
		for _, a := range h.actions() {
			if a.State != store.Confirmed {
				return false
			}
		}
		return len(h.actions()) == len(slept)
	})
	h.step(30 * time.Second) // stock firmware powers its boards down over 15 s
	byTarget := map[string]store.Action{}
	for _, a := range h.actions() {
		byTarget[a.Target] = a
		if a.Command != controller.CmdSleep {
			t.Errorf("action %s: command %s, want sleep", a.ID, a.Command)
		}
	}
	// Least efficient first: every s19jpro went out before any m50s.
	var lastJ, firstM time.Time
	for i, m := range h.fleet.Miners() {
		want := "hashing"
		if slept[i] {
			want = "sleeping"
			a, ok := byTarget[m.Name]
			if !ok {
				t.Fatalf("%s (%s): no action", m.Name, m.ModelKey)
			}
			if m.ModelKey == "s19jpro" && a.DispatchedAt.After(lastJ) {
				lastJ = a.DispatchedAt
			}
			if m.ModelKey == "m50s" && (firstM.IsZero() || a.DispatchedAt.Before(firstM)) {
				firstM = a.DispatchedAt
			}
		}
		if got := h.physState(i); got != want {
			t.Errorf("%s (%s): emulator state %s, want %s", m.Name, m.ModelKey, got, want)
		}
		c := h.fleet.Commands(i)
		wantSleeps := 0
		if slept[i] {
			wantSleeps = 1
		}
		if c.Sleep != wantSleeps || c.Wake != 0 || c.Repeats != 0 {
			t.Errorf("%s: commands %+v, want %d sleep, 0 wake, 0 repeats", m.Name, c, wantSleeps)
		}
	}
	if !lastJ.Before(firstM) {
		t.Errorf("last s19jpro dispatched %s, first m50s %s: least efficient tier should go first", lastJ, firstM)
	}
	var snap api.Snapshot
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	if snap.Commands.Confirmed != uint64(len(slept)) || snap.Backlog != 0 {
		t.Errorf("snapshot commands %+v backlog %d, want %d confirmed and no backlog", snap.Commands, snap.Backlog, len(slept))
	}
	var audit struct{ Audit []store.AuditEntry }
	h.do("GET", "/api/v1/audit?limit=1000", viewerTok, "", &audit)
	dispatched := 0
	for _, e := range audit.Audit {
		if e.Action == "dispatch sleep" {
			dispatched++
			if e.DecisionID == 0 || e.PriceUSDMWh != spikePrice || e.ActionID == "" || e.Reason == "" {
				t.Errorf("audit entry %+v lacks decision, price, action or reason", e)
			}
		}
	}
	if dispatched != len(slept) {
		t.Errorf("audit has %d dispatches, want %d", dispatched, len(slept))
	}
}

func TestGridEventReachesTargetBeforeDeadline(t *testing.T) {
	h := newHarness(t, opts{params: controller.Params{BatchSize: 8, Stagger: time.Second}})
	h.tick()
	var resp api.CurtailResponse
	if code := h.do("POST", "/api/v1/curtail", operatorTok, `{"mw": 0.02, "within_s": 600, "reason": "ERS-10 deployment"}`, &resp); code != 202 {
		t.Fatalf("POST curtail: HTTP %d", code)
	}
	took := h.until(5*time.Second, 11*time.Minute, "grid event achieved", func() bool {
		var e store.GridEvent
		h.do("GET", fmt.Sprintf("/api/v1/events/%d", resp.ID), viewerTok, "", &e)
		return e.State == store.EventAchieved
	})
	h.step(30 * time.Second)
	var e store.GridEvent
	h.do("GET", fmt.Sprintf("/api/v1/events/%d", resp.ID), viewerTok, "", &e)
	if e.AchievedMW < e.RequestedMW || e.AchievedAt.After(e.Deadline) {
		t.Fatalf("event %+v: want ≥ %.3f MW achieved before %s", e, e.RequestedMW, e.Deadline)
	}
	t.Logf("0.020 MW shed in %s of simulated time (deadline 10 min); achieved %.3f MW", took, e.AchievedMW)
	// The least efficient miners went first: 20 kW is about 7 miners, so
	// every s19jpro (29.5 J/TH) sleeps and no s21 (17.5 J/TH) does.
	m := h.byModel()
	for _, i := range m["s19jpro"] {
		if got := h.physState(i); got != "sleeping" {
			t.Errorf("s19jpro %d: %s, want sleeping", i, got)
		}
	}
	for _, i := range m["s21"] {
		if got := h.physState(i); got != "hashing" {
			t.Errorf("s21 %d: %s, want hashing", i, got)
		}
	}
	if tc := h.fleet.TotalCommands(); tc.Repeats != 0 || tc.Wake != 0 {
		t.Errorf("commands %+v: want no repeats and no wakes", tc)
	}
}

func TestRestartMidCurtailmentConvergesWithoutDuplicates(t *testing.T) {
	testRestart(t, false)
}

// The same on PostgreSQL (skipped locally without JOULE_TEST_POSTGRES_DSN;
// CI provides one).
func TestRestartOnPostgres(t *testing.T) {
	testRestart(t, true)
}

func testRestart(t *testing.T, pg bool) {
	h := newHarness(t, opts{params: controller.Params{BatchSize: 3, Stagger: time.Minute}, postgres: pg})
	h.tick()
	h.setPrice(spikePrice)
	h.tick() // decides; journals 8 sleeps; dispatches the first 3
	open := 0
	for _, a := range h.actions() {
		if a.State.Open() {
			open++
		}
	}
	if open != 8 {
		t.Fatalf("%d open actions after the spike, want 8: %+v", open, h.actions())
	}
	h.step(5 * time.Second) // the first miners start stopping
	// The worst moment to die: one action journalled as dispatched whose
	// command never left (killed between the journal write and the send).
	var lost store.Action
	for _, a := range h.actions() {
		if a.State == store.Pending {
			lost = a
			break
		}
	}
	if _, err := h.st.Transition(h.ctx, lost.ID, store.Pending, store.Dispatched, h.fleet.Now(), "dispatch", ""); err != nil {
		t.Fatal(err)
	}
	h.kill()

	h.fleet.Advance(20 * time.Second)
	h.open(nil) // a new controller on the same database
	h.until(5*time.Second, 10*time.Minute, "restarted controller converged", func() bool {
		for _, a := range h.actions() {
			if a.State != store.Confirmed {
				return false
			}
		}
		return true
	})
	models := h.byModel()
	sleeps := 0
	for _, k := range []string{"s19jpro", "m50s"} {
		for _, i := range models[k] {
			c := h.fleet.Commands(i)
			if c.Sleep != 1 || c.Repeats != 0 {
				t.Errorf("miner %d (%s): commands %+v, want exactly one sleep and no repeats", i, k, c)
			}
			if got := h.physState(i); got != "sleeping" {
				t.Errorf("miner %d (%s): %s, want sleeping", i, k, got)
			}
		}
	}
	tc := h.fleet.TotalCommands()
	sleeps = tc.Sleep
	if sleeps != 8 || tc.Wake != 0 || tc.Repeats != 0 || tc.Refused != 0 {
		t.Errorf("fleet commands %+v, want 8 sleeps and nothing else", tc)
	}
	if n := len(h.actions()); n != 8 {
		t.Errorf("journal has %d actions, want 8 (none lost, none repeated)", n)
	}
	// The unsent one drifted after the timeout and was sent once.
	a, err := h.st.Action(h.ctx, lost.ID)
	if err != nil || a.State != store.Confirmed || a.Attempts != 2 {
		t.Errorf("unsent action %+v (%v): want confirmed after a second dispatch", a, err)
	}
}

func TestAuthRoles(t *testing.T) {
	h := newHarness(t, opts{})
	h.tick()
	cases := []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/api/v1/status", "", "", 401},
		{"GET", "/api/v1/status", "not-a-token-not-a-token-not-a-token", "", 401},
		{"GET", "/api/v1/status", viewerTok, "", 200},
		{"GET", "/metrics", "", "", 401},
		{"POST", "/api/v1/curtail", viewerTok, `{"mw": 0.01, "within_s": 600}`, 403},
		{"POST", "/api/v1/price/manual", viewerTok, `{"price_usd_mwh": 10}`, 403},
		{"POST", "/api/v1/mode/override", operatorTok, `{"mode": "curtail", "reason": "x"}`, 403},
		{"POST", "/api/v1/mode/override", adminTok, `{"mode": "auto"}`, 200},
		{"POST", "/api/v1/curtail", operatorTok, `{"mw": 0.01, "within_s": 600}`, 202},
	}
	for _, c := range cases {
		if got := h.do(c.method, c.path, c.token, c.body, nil); got != c.want {
			t.Errorf("%s %s with %q: HTTP %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
}

func TestMalformedBodies(t *testing.T) {
	h := newHarness(t, opts{})
	h.tick()
	for _, b := range []string{
		`{"mw": "lots", "within_s": 600}`,
		`{"mw": 0.01, "within_s": 600`,
		`{"mw": 0.01, "within_s": 600, "colour": "red"}`,
		`{"mw": -1, "within_s": 600}`,
		`{"mw": 0.01}`,
		`{"mw": 5, "within_s": 600}`, // more than the site draws
		``,
	} {
		if got := h.do("POST", "/api/v1/curtail", operatorTok, b, nil); got != 400 {
			t.Errorf("POST curtail %q: HTTP %d, want 400", b, got)
		}
	}
	if got := h.do("POST", "/api/v1/mode/override", adminTok, `{"mode": "turbo", "reason": "x"}`, nil); got != 400 {
		t.Errorf("override turbo: HTTP %d, want 400", got)
	}
	if n := len(h.actions()); n != 0 {
		t.Errorf("bad requests left %d actions in the journal", n)
	}
}

func TestStalePriceTriggersFailSafe(t *testing.T) {
	h := newHarness(t, opts{failsafe: feed.Curtail, params: controller.Params{BatchSize: 16}})
	h.tick()
	// The manual price was set at start; 30 minutes later it is stale.
	h.until(time.Minute, 40*time.Minute, "fail-safe active", func() bool {
		var s api.Snapshot
		h.do("GET", "/api/v1/status", viewerTok, "", &s)
		return s.Feeds.Active
	})
	var s api.Snapshot
	h.do("GET", "/api/v1/status", viewerTok, "", &s)
	if s.Mode != "failsafe:curtail" || !strings.Contains(s.Feeds.Reason, "price manual price") {
		t.Errorf("snapshot mode %q reason %q, want failsafe:curtail naming the price source", s.Mode, s.Feeds.Reason)
	}
	h.until(5*time.Second, 10*time.Minute, "every miner asleep", func() bool {
		for i := range h.fleet.Len() {
			if h.physState(i) != "sleeping" {
				return false
			}
		}
		return true
	})
	var ds struct{ Decisions []store.Decision }
	h.do("GET", "/api/v1/decisions?limit=5", viewerTok, "", &ds)
	if len(ds.Decisions) == 0 || ds.Decisions[0].FailSafe != "curtail" {
		t.Fatalf("latest decision %+v, want fail-safe curtail", ds.Decisions)
	}
	// A fresh price lifts the fail-safe.
	h.setPrice(30)
	h.tick()
	h.do("GET", "/api/v1/status", viewerTok, "", &s)
	if s.Feeds.Active || s.Mode != "auto" {
		t.Errorf("after a fresh price: mode %q, fail-safe active %v", s.Mode, s.Feeds.Active)
	}
	// Back to mining: every firmware's wake is confirmed by hashrate (stock
	// Antminer restarts its miner process and ramps for minutes).
	h.until(10*time.Second, 20*time.Minute, "every miner hashing again", func() bool {
		for _, a := range h.actions() {
			if a.State != store.Confirmed {
				return false
			}
		}
		for i := range h.fleet.Len() {
			if h.physState(i) != "hashing" {
				return false
			}
		}
		return true
	})
	for i := range h.fleet.Len() {
		if c := h.fleet.Commands(i); c.Sleep != 1 || c.Wake != 1 || c.Repeats != 0 {
			t.Errorf("miner %d: commands %+v, want one sleep, one wake, no repeats", i, c)
		}
	}
}

// A miner woken behind the controller's back is put back to sleep: drift
// is detected from telemetry and re-dispatched once.
func TestDriftIsRedispatched(t *testing.T) {
	h := newHarness(t, opts{params: controller.Params{BatchSize: 16, Cooldown: 10 * time.Second}})
	h.tick()
	h.setPrice(spikePrice)
	h.tick()
	h.until(5*time.Second, 5*time.Minute, "curtailment confirmed", func() bool {
		for _, a := range h.actions() {
			if a.State != store.Confirmed {
				return false
			}
		}
		return true
	})
	h.step(30 * time.Second)
	// Wake a sleeping miner by hand (a technician, a reboot).
	j := h.byModel()["m50s"][0]
	h.fleet.Do(j, func(m *physics.Miner) { m.Wake() })
	h.until(10*time.Second, 10*time.Minute, "drifted miner back asleep", func() bool {
		return h.physState(j) == "sleeping" && h.fleet.Commands(j).Sleep == 2
	})
	var s api.Snapshot
	h.do("GET", "/api/v1/status", viewerTok, "", &s)
	if s.Commands.Drifted < 1 {
		t.Errorf("commands %+v: want the drift counted", s.Commands)
	}
	var audit struct{ Audit []store.AuditEntry }
	h.do("GET", "/api/v1/audit?limit=1000", viewerTok, "", &audit)
	found := false
	for _, e := range audit.Audit {
		if e.Target == h.fleet.Miner(j).Name && e.Action == "dispatch sleep" && strings.HasPrefix(e.Reason, "drift:") {
			found = true
		}
	}
	if !found {
		t.Error("no audited dispatch with a drift reason")
	}
	if c := h.fleet.Commands(j); c.Repeats != 0 || c.Wake != 0 {
		t.Errorf("drifted miner commands %+v", c)
	}
}

// /metrics from the live controller passes promtool.
func TestMetricsPassPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	h := newHarness(t, opts{})
	h.tick()
	req, _ := http.NewRequest("GET", h.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+viewerTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"joule_site_power_watts", "joule_miners{state=\"hashing\"} 16", "joule_reconciler_backlog"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// The ramp limit spreads a curtailment: no 60 s window switches more than
// ramp_mw_per_min.
func TestRampRateHonoured(t *testing.T) {
	const rampW = 7000 // two ~3 kW miners a minute
	h := newHarness(t, opts{params: controller.Params{BatchSize: 16, RampWPerMin: rampW}})
	h.tick()
	h.setPrice(spikePrice)
	h.tick()
	took := h.until(5*time.Second, 15*time.Minute, "curtailment confirmed", func() bool {
		as := h.actions()
		for _, a := range as {
			if a.State != store.Confirmed {
				return false
			}
		}
		return len(as) == 8
	})
	nominal := map[string]float64{}
	for _, m := range h.fleet.Miners() {
		spec, err := physics.LookupModel(m.ModelKey)
		if err != nil {
			t.Fatal(err)
		}
		nominal[m.Name] = spec.PowerW
	}
	as := h.actions()
	for _, a := range as {
		w := 0.0
		for _, b := range as {
			if d := b.DispatchedAt.Sub(a.DispatchedAt); d >= 0 && d < time.Minute {
				w += nominal[b.Target]
			}
		}
		if w > rampW {
			t.Errorf("%.0f W switched in the minute from %s, ramp limit %d W", w, a.DispatchedAt.Format(time.TimeOnly), rampW)
		}
	}
	if took < 3*time.Minute {
		t.Errorf("8 miners slept in %s: the ramp limit should spread them over at least 3 minutes", took)
	}
}
