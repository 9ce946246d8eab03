// Package storetest is the conformance suite every store implementation
// passes: the same table of behaviours run against SQLite and PostgreSQL, so
// switching databases never changes what the controller sees.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/jouleworks/joule/store"
)

// Harness opens stores for the suite.
type Harness struct {
	// Open returns a new, empty store with the given retention. Each call
	// must be isolated from the others (own file or schema) and cleaned up
	// by t.Cleanup.
	Open func(t *testing.T, ret store.Retention) store.Store
	// Reopen closes s and opens the same database again, as a restarted
	// controller would.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// t0 is a fixed instant on a minute boundary, well after the epoch.
var t0 = time.Date(2025, 7, 14, 15, 0, 0, 0, time.UTC)

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"TelemetryRaw", testTelemetryRaw},
		{"RollupMinuteHour", testRollup},
		{"RollupIdempotentAfterPrune", testRollupAfterPrune},
		{"Prune", testPrune},
		{"SeriesValidation", testSeriesValidation},
		{"JournalLifecycle", testJournalLifecycle},
		{"JournalOneOpenPerTarget", testJournalInFlight},
		{"JournalCompareAndSet", testJournalCAS},
		{"JournalSurvivesRestart", testJournalRestart},
		{"DesiredStates", testDesired},
		{"AuditLog", testAudit},
		{"DecisionLog", testDecisions},
		{"GridEvents", testGridEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

var keepAll = store.Retention{}

func ctx(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func testTelemetryRaw(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	var batch []store.MinerSample
	for i := range 3 {
		batch = append(batch, store.MinerSample{Time: t0.Add(time.Duration(i) * 10 * time.Second), MinerID: "m1",
			HashrateTHs: 100 + float64(i), PowerW: 3000, InletC: 25, ChipC: 70, FanRPM: 4000, State: "hashing"})
	}
	batch = append(batch, store.MinerSample{Time: t0, MinerID: "m2", HashrateTHs: math.NaN(), PowerW: 25, State: "sleeping"})
	must(t, s.WriteMinerSamples(ctx(t), batch))
	// A retried batch must not duplicate rows.
	must(t, s.WriteMinerSamples(ctx(t), batch))
	pts, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindMiner, ID: "m1", Metric: "hashrate_ths", Resolution: store.Raw})
	must(t, err)
	if len(pts) != 3 || pts[0].Value != 100 || pts[2].Value != 102 || !pts[0].Time.Equal(t0) {
		t.Fatalf("m1 raw = %+v, want 3 points 100..102 from %s", pts, t0)
	}
	pts, err = s.Series(ctx(t), store.SeriesQuery{Kind: store.KindMiner, ID: "m2", Metric: "hashrate_ths", Resolution: store.Raw})
	must(t, err)
	if len(pts) != 0 {
		t.Fatalf("m2 hashrate (NaN) = %+v, want no points", pts)
	}
	pts, err = s.Series(ctx(t), store.SeriesQuery{Kind: store.KindMiner, ID: "m1", Metric: "hashrate_ths", Resolution: store.Raw, Limit: 2})
	must(t, err)
	if len(pts) != 2 || pts[0].Value != 101 || pts[1].Value != 102 {
		t.Fatalf("limit 2 = %+v, want the newest two, oldest first", pts)
	}
	must(t, s.WriteGPUSamples(ctx(t), []store.GPUSample{{Time: t0, GPUID: "GPU-a", Source: "dcgm", UtilPct: 80, PowerW: 600, TempC: 60, MemUsedMiB: 1000, MemTotalMiB: 81559}}))
	pts, err = s.Series(ctx(t), store.SeriesQuery{Kind: store.KindGPU, ID: "GPU-a", Metric: "power_w", Resolution: store.Raw})
	must(t, err)
	if len(pts) != 1 || pts[0].Value != 600 {
		t.Fatalf("gpu power = %+v, want one point of 600", pts)
	}
	if err := s.WriteMinerSamples(ctx(t), []store.MinerSample{{Time: t0}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("sample without miner id: err = %v, want ErrInvalid", err)
	}
}

// siteRamp writes one site sample every 15 s for d, with mining MW = minute
// index and price alternating 10/30, and returns the samples.
func siteRamp(t *testing.T, s store.Store, start time.Time, d time.Duration) []store.SiteSample {
	var out []store.SiteSample
	for at := start; at.Before(start.Add(d)); at = at.Add(15 * time.Second) {
		i := len(out)
		out = append(out, store.SiteSample{Time: at, MiningMW: float64(at.Sub(start) / time.Minute), AIMW: 5,
			CapMW: 100, PriceUSDMWh: float64(10 + 20*(i%2)), HashpriceUSD: 0.05})
	}
	must(t, s.WriteSiteSamples(ctx(t), out))
	return out
}

func testRollup(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	samples := siteRamp(t, s, t0, 2*time.Hour)
	// Miner temperatures: the 1m rollup keeps the maximum.
	must(t, s.WriteMinerSamples(ctx(t), []store.MinerSample{
		{Time: t0, MinerID: "m1", HashrateTHs: 100, PowerW: 3000, ChipC: 70, State: "hashing"},
		{Time: t0.Add(20 * time.Second), MinerID: "m1", HashrateTHs: 110, PowerW: 3100, ChipC: 80, State: "hashing", Errors: "fan"},
		{Time: t0.Add(40 * time.Second), MinerID: "m1", HashrateTHs: 120, PowerW: 3200, ChipC: 75, State: "hashing"},
	}))
	must(t, s.Rollup(ctx(t), t0, t0.Add(2*time.Hour)))
	must(t, s.Rollup(ctx(t), t0, t0.Add(2*time.Hour))) // idempotent
	m, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "mining_mw", Resolution: store.Minute})
	must(t, err)
	if len(m) != 120 {
		t.Fatalf("1m buckets = %d, want 120", len(m))
	}
	for i, p := range m {
		if p.Value != float64(i) || p.N != 4 || !p.Time.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("1m bucket %d = %+v, want value %d from 4 samples at %s", i, p, i, t0.Add(time.Duration(i)*time.Minute))
		}
	}
	price, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "price", Resolution: store.Minute, Limit: 1})
	must(t, err)
	if len(price) != 1 || price[0].Value != 20 {
		t.Fatalf("1m price = %+v, want mean 20", price)
	}
	hr, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "mining_mw", Resolution: store.Hour})
	must(t, err)
	if len(hr) != 2 {
		t.Fatalf("1h buckets = %+v, want 2", hr)
	}
	// The hour mean equals the mean of its raw samples.
	for hi, p := range hr {
		var sum float64
		var n int
		for _, x := range samples {
			if x.Time.Truncate(time.Hour).Equal(t0.Add(time.Duration(hi) * time.Hour)) {
				sum += x.MiningMW
				n++
			}
		}
		if !near(p.Value, sum/float64(n)) || p.N != int64(n) {
			t.Fatalf("hour %d = %+v, want mean %v over %d samples", hi, p, sum/float64(n), n)
		}
	}
	chip, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindMiner, ID: "m1", Metric: "chip_c", Resolution: store.Minute})
	must(t, err)
	if len(chip) != 1 || chip[0].Value != 80 {
		t.Fatalf("1m chip_c = %+v, want max 80", chip)
	}
	hash, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindMiner, ID: "m1", Metric: "hashrate_ths", Resolution: store.Hour})
	must(t, err)
	if len(hash) != 1 || !near(hash[0].Value, 110) || hash[0].N != 3 {
		t.Fatalf("1h hashrate = %+v, want 110 over 3", hash)
	}
	// A late sample is folded in by rolling its window up again.
	must(t, s.WriteSiteSamples(ctx(t), []store.SiteSample{{Time: t0.Add(7 * time.Second), MiningMW: 4}}))
	must(t, s.Rollup(ctx(t), t0, t0.Add(time.Minute)))
	m, err = s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "mining_mw", Resolution: store.Minute, To: t0.Add(time.Minute)})
	must(t, err)
	if len(m) != 1 || !near(m[0].Value, 0.8) || m[0].N != 5 {
		t.Fatalf("first minute after late sample = %+v, want mean 0.8 over 5", m)
	}
}

func testRollupAfterPrune(t *testing.T, h Harness) {
	ret := store.Retention{Raw: 24 * time.Hour}
	s := h.Open(t, ret)
	siteRamp(t, s, t0, 10*time.Minute)
	must(t, s.Rollup(ctx(t), t0, t0.Add(time.Hour)))
	st, err := s.Prune(ctx(t), t0.Add(48*time.Hour))
	must(t, err)
	if st.Raw != 40 || st.Minute != 0 || st.Hour != 0 {
		t.Fatalf("prune = %+v, want 40 raw rows and no rollups", st)
	}
	// Re-running the rollup with the raw rows gone must keep the buckets.
	must(t, s.Rollup(ctx(t), t0, t0.Add(time.Hour)))
	m, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "mining_mw", Resolution: store.Minute})
	must(t, err)
	if len(m) != 10 || m[9].Value != 9 {
		t.Fatalf("1m after prune = %d points, want 10 intact", len(m))
	}
	hr, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "mining_mw", Resolution: store.Hour})
	must(t, err)
	if len(hr) != 1 || !near(hr[0].Value, 4.5) || hr[0].N != 40 {
		t.Fatalf("1h after prune = %+v, want 4.5 over 40", hr)
	}
}

func testPrune(t *testing.T, h Harness) {
	ret := store.Retention{Raw: time.Hour, Minute: 2 * time.Hour}
	s := h.Open(t, ret)
	siteRamp(t, s, t0, 3*time.Hour)
	must(t, s.WriteMinerSamples(ctx(t), []store.MinerSample{{Time: t0, MinerID: "m", State: "hashing", PowerW: 1}}))
	must(t, s.Rollup(ctx(t), t0, t0.Add(3*time.Hour)))
	now := t0.Add(3 * time.Hour)
	st, err := s.Prune(ctx(t), now)
	must(t, err)
	// Raw keeps [2h,3h): 240 of 720 site rows go... 480 site + 1 miner.
	if st.Raw != 481 || st.Minute != 60+1 || st.Hour != 0 {
		t.Fatalf("prune = %+v, want raw 481, 1m 61, 1h 0", st)
	}
	again, err := s.Prune(ctx(t), now)
	must(t, err)
	if again != (store.PruneStats{}) {
		t.Fatalf("second prune = %+v, want nothing", again)
	}
	hr, err := s.Series(ctx(t), store.SeriesQuery{Kind: store.KindSite, Metric: "cap_mw", Resolution: store.Hour})
	must(t, err)
	if len(hr) != 3 {
		t.Fatalf("1h rows = %d, want 3 kept forever", len(hr))
	}
}

func testSeriesValidation(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	bad := []store.SeriesQuery{
		{Kind: "rack", Metric: "power_w", Resolution: store.Raw},
		{Kind: store.KindSite, Metric: "power_w; DROP TABLE audit", Resolution: store.Raw},
		{Kind: store.KindSite, Metric: "price", Resolution: "5m"},
		{Kind: store.KindMiner, Metric: "power_w", Resolution: store.Raw},
		{Kind: store.KindSite, Metric: "price", Resolution: store.Raw, From: t0, To: t0.Add(-time.Hour)},
	}
	for _, q := range bad {
		if _, err := s.Series(ctx(t), q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Series(%+v) err = %v, want ErrInvalid", q, err)
		}
	}
}

func action(id, target, cmd string) store.Action {
	return store.Action{ID: id, Target: target, Command: cmd, DecisionID: 7, Reason: "price 412 > breakeven 61", CreatedAt: t0}
}

func testJournalLifecycle(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	a, created, err := s.PutAction(ctx(t), action("d7:m1:sleep", "m1", "sleep"))
	must(t, err)
	if !created || a.State != store.Pending || a.Attempts != 0 {
		t.Fatalf("put = %+v created=%v, want new pending", a, created)
	}
	again, created, err := s.PutAction(ctx(t), action("d7:m1:sleep", "m1", "sleep"))
	must(t, err)
	if created || again.ID != a.ID {
		t.Fatalf("second put created=%v, want the existing action back", created)
	}
	steps := []struct {
		from, to store.ActionState
		attempts int
	}{
		{store.Pending, store.Dispatched, 1},
		{store.Dispatched, store.Drifted, 1},
		{store.Drifted, store.Dispatched, 2},
		{store.Dispatched, store.Confirmed, 2},
	}
	at := t0
	for _, st := range steps {
		at = at.Add(time.Second)
		got, err := s.Transition(ctx(t), a.ID, st.from, st.to, at, "", "")
		must(t, err)
		if got.State != st.to || got.Attempts != st.attempts || !got.UpdatedAt.Equal(at) {
			t.Fatalf("%s→%s: got %+v, want state %s attempts %d updated %s", st.from, st.to, got, st.to, st.attempts, at)
		}
	}
	got, err := s.Action(ctx(t), a.ID)
	must(t, err)
	if !got.SettledAt.Equal(at) || !got.DispatchedAt.Equal(t0.Add(3*time.Second)) || got.Reason != a.Reason || got.DecisionID != 7 {
		t.Fatalf("settled action = %+v", got)
	}
	if _, err := s.Transition(ctx(t), a.ID, store.Confirmed, store.Dispatched, at, "", ""); !errors.Is(err, store.ErrBadTransition) {
		t.Fatalf("confirmed→dispatched err = %v, want ErrBadTransition", err)
	}
	if _, err := s.Transition(ctx(t), "nope", store.Pending, store.Dispatched, at, "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown action err = %v, want ErrNotFound", err)
	}
	// The target is free again: a new action may be journalled.
	_, created, err = s.PutAction(ctx(t), action("d8:m1:wake", "m1", "wake"))
	must(t, err)
	if !created {
		t.Fatal("wake after confirmed sleep not created")
	}
	f, err := s.Transition(ctx(t), "d8:m1:wake", store.Pending, store.Failed, at, "unreachable", "dial tcp: refused")
	must(t, err)
	if f.Err != "dial tcp: refused" || f.Reason != "unreachable" {
		t.Fatalf("failed action = %+v", f)
	}
	list, err := s.Actions(ctx(t), store.ActionFilter{Target: "m1"})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("actions for m1 = %d, want 2", len(list))
	}
	list, err = s.Actions(ctx(t), store.ActionFilter{State: store.Failed})
	must(t, err)
	if len(list) != 1 || list[0].ID != "d8:m1:wake" {
		t.Fatalf("failed actions = %+v", list)
	}
	if _, _, err := s.PutAction(ctx(t), store.Action{ID: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("invalid action err = %v, want ErrInvalid", err)
	}
}

func testJournalInFlight(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	_, _, err := s.PutAction(ctx(t), action("a1", "m1", "sleep"))
	must(t, err)
	for _, st := range []store.ActionState{store.Pending, store.Dispatched, store.Drifted} {
		if st != store.Pending {
			prev := map[store.ActionState]store.ActionState{store.Dispatched: store.Pending, store.Drifted: store.Dispatched}[st]
			_, err := s.Transition(ctx(t), "a1", prev, st, t0, "", "")
			must(t, err)
		}
		if _, _, err := s.PutAction(ctx(t), action("a2-"+string(st), "m1", "wake")); !errors.Is(err, store.ErrInFlight) {
			t.Fatalf("second action while first is %s: err = %v, want ErrInFlight", st, err)
		}
	}
	// Other targets are independent.
	_, _, err = s.PutAction(ctx(t), action("b1", "m2", "sleep"))
	must(t, err)
	_, err = s.Transition(ctx(t), "a1", store.Drifted, store.Cancelled, t0, "superseded", "")
	must(t, err)
	_, created, err := s.PutAction(ctx(t), action("a3", "m1", "wake"))
	must(t, err)
	if !created {
		t.Fatal("action after cancel not created")
	}
}

func testJournalCAS(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	_, _, err := s.PutAction(ctx(t), action("a1", "m1", "sleep"))
	must(t, err)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for range n {
		wg.Go(func() {
			_, err := s.Transition(context.Background(), "a1", store.Pending, store.Dispatched, t0, "", "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrBadTransition):
				conflicts++
			default:
				t.Errorf("transition: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("concurrent dispatch: %d won, %d conflicted; want exactly 1 winner", wins, conflicts)
	}
	a, err := s.Action(ctx(t), "a1")
	must(t, err)
	if a.Attempts != 1 {
		t.Fatalf("attempts = %d, want 1", a.Attempts)
	}
}

func testJournalRestart(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	for i := range 5 {
		_, _, err := s.PutAction(ctx(t), action(fmt.Sprintf("d1:m%d:sleep", i), fmt.Sprintf("m%d", i), "sleep"))
		must(t, err)
	}
	for i := range 3 {
		_, err := s.Transition(ctx(t), fmt.Sprintf("d1:m%d:sleep", i), store.Pending, store.Dispatched, t0, "", "")
		must(t, err)
	}
	_, err := s.Transition(ctx(t), "d1:m0:sleep", store.Dispatched, store.Confirmed, t0, "", "")
	must(t, err)
	must(t, s.SetDesired(ctx(t), []store.Desired{{Target: "m0", State: "sleeping", DecisionID: 1, UpdatedAt: t0}}))
	s = h.Reopen(t, s)
	open, err := s.OpenActions(ctx(t))
	must(t, err)
	if len(open) != 4 {
		t.Fatalf("open after restart = %d, want 4", len(open))
	}
	states := map[string]store.ActionState{}
	for _, a := range open {
		states[a.ID] = a.State
	}
	if states["d1:m1:sleep"] != store.Dispatched || states["d1:m4:sleep"] != store.Pending {
		t.Fatalf("open states = %v", states)
	}
	// The restarted controller retries the same key: no new command.
	_, created, err := s.PutAction(ctx(t), action("d1:m1:sleep", "m1", "sleep"))
	must(t, err)
	if created {
		t.Fatal("re-put after restart created a duplicate")
	}
	d, err := s.DesiredStates(ctx(t))
	must(t, err)
	if len(d) != 1 || d[0].State != "sleeping" {
		t.Fatalf("desired after restart = %+v", d)
	}
}

func testDesired(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	must(t, s.SetDesired(ctx(t), []store.Desired{
		{Target: "m2", State: "hashing", UpdatedAt: t0},
		{Target: "m1", State: "hashing", UpdatedAt: t0},
		{Target: "m1", State: "sleeping", DecisionID: 3, Reason: "price spike", UpdatedAt: t0.Add(time.Second)},
	}))
	must(t, s.SetDesired(ctx(t), []store.Desired{{Target: "m2", State: "hashing", Profile: "eco", UpdatedAt: t0.Add(time.Minute)}}))
	d, err := s.DesiredStates(ctx(t))
	must(t, err)
	want := []store.Desired{
		{Target: "m1", State: "sleeping", DecisionID: 3, Reason: "price spike", UpdatedAt: t0.Add(time.Second)},
		{Target: "m2", State: "hashing", Profile: "eco", UpdatedAt: t0.Add(time.Minute)},
	}
	if len(d) != 2 || d[0] != want[0] || d[1] != want[1] {
		t.Fatalf("desired = %+v, want %+v", d, want)
	}
	if err := s.SetDesired(ctx(t), []store.Desired{{Target: "m3"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("desired without state: err = %v, want ErrInvalid", err)
	}
}

func testAudit(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	for i := range 5 {
		_, err := s.AppendAudit(ctx(t), store.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Actor: "controller",
			Action: "dispatch sleep", Target: fmt.Sprintf("m%d", i), Reason: "price spike", PriceUSDMWh: 412.5, DecisionID: 9, ActionID: "a"})
		must(t, err)
	}
	got, err := s.Audit(ctx(t), store.Filter{Limit: 2})
	must(t, err)
	if len(got) != 2 || got[0].Target != "m4" || got[0].PriceUSDMWh != 412.5 || got[0].DecisionID != 9 || !got[0].Time.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("audit newest 2 = %+v", got)
	}
	got, err = s.Audit(ctx(t), store.Filter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)})
	must(t, err)
	if len(got) != 2 || got[1].Target != "m1" {
		t.Fatalf("audit window = %+v, want m2, m1", got)
	}
	if _, err := s.AppendAudit(ctx(t), store.AuditEntry{Time: t0}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("audit without actor: err = %v, want ErrInvalid", err)
	}
}

func testDecisions(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	d := store.Decision{Time: t0, Policy: "joule", Reasons: []string{"price 412 $/MWh above S19j Pro breakeven 61", "AI demand 4.2 MW served first"},
		MW: map[string]float64{"mining": 60.5, "ai": 4.2, "curtailed": 35.3}, PriceUSDMWh: 412, HashpriceUSD: 0.049}
	id, err := s.AppendDecision(ctx(t), d)
	must(t, err)
	id2, err := s.AppendDecision(ctx(t), store.Decision{Time: t0.Add(5 * time.Minute), Policy: "joule", FailSafe: "hold"})
	must(t, err)
	if id2 <= id {
		t.Fatalf("ids %d then %d, want increasing", id, id2)
	}
	got, err := s.Decisions(ctx(t), store.Filter{})
	must(t, err)
	if len(got) != 2 || got[1].ID != id || got[1].MW["curtailed"] != 35.3 || len(got[1].Reasons) != 2 || got[0].FailSafe != "hold" {
		t.Fatalf("decisions = %+v", got)
	}
}

func testGridEvents(t *testing.T, h Harness) {
	s := h.Open(t, keepAll)
	e := store.GridEvent{Source: "api", Requester: "api:ops", RequestedMW: 20, BaselineMW: 95, Deadline: t0.Add(10 * time.Minute), Reason: "ERS-10 deployment", CreatedAt: t0}
	id, err := s.CreateGridEvent(ctx(t), e)
	must(t, err)
	got, err := s.GridEvent(ctx(t), id)
	must(t, err)
	if got.State != store.EventOpen || got.RequestedMW != 20 || !got.Deadline.Equal(e.Deadline) || !got.AchievedAt.IsZero() {
		t.Fatalf("created event = %+v", got)
	}
	got.State, got.AchievedMW, got.AchievedAt, got.UpdatedAt = store.EventAchieved, 21.5, t0.Add(4*time.Minute), t0.Add(4*time.Minute)
	must(t, s.UpdateGridEvent(ctx(t), got))
	back, err := s.GridEvent(ctx(t), id)
	must(t, err)
	if back != got {
		t.Fatalf("updated event = %+v, want %+v", back, got)
	}
	if _, err := s.GridEvent(ctx(t), id+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing event err = %v, want ErrNotFound", err)
	}
	if err := s.UpdateGridEvent(ctx(t), store.GridEvent{ID: id + 100}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing event err = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateGridEvent(ctx(t), store.GridEvent{CreatedAt: t0, Deadline: t0, RequestedMW: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative MW err = %v, want ErrInvalid", err)
	}
	list, err := s.GridEvents(ctx(t), store.Filter{})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("events = %d, want 1", len(list))
	}
}
