// Package e2e tests the live controller end to end on loopback: an
// in-process emulated fleet spoken to through the real miner protocols, the
// SQLite store, the HTTP API, with the emulator's clock advanced by the test
// (no sleeps, no wall-clock timing).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/internal/testenv"
	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/postgres"
	"github.com/jouleworks/joule/store/sqlite"
)

// Tokens of the test API: 32+ characters each, one per role.
const (
	viewerTok   = "viewer-0123456789abcdef0123456789abcdef"
	operatorTok = "operator-0123456789abcdef0123456789abcd"
	adminTok    = "admin-0123456789abcdef0123456789abcdef0"
)

// testMix has four models of clearly different efficiency, one per firmware:
// s19jpro 29.5 J/TH (stock), m50s 26 (Whatsminer), s19xp 21.5 (Braiins OS+),
// s21 17.5 (LuxOS).
const testMix = "s19jpro:stock=4,m50s:whatsminer=4,s19xp:braiins=4,s21:luxos=4"

var netSeq atomic.Int32

// harness is one emulated site under one controller.
type harness struct {
	t      *testing.T
	fleet  *emulator.Fleet
	dbPath string
	st     store.Store
	pgDSN  string // non-empty: PostgreSQL (schema pgSchema) instead of SQLite
	pgSch  string
	ctrl   *controller.Controller
	site   *site.Site
	price  *feed.Manual
	hash   *feed.Manual
	srv    *httptest.Server
	params controller.Params
	gpus   *gpu.Emulator
	fsMode feed.Mode
	ctx    context.Context
}

type opts struct {
	mix      string
	params   controller.Params
	failsafe feed.Mode
	postgres bool
	// tune, when set, edits the site model before the controller starts.
	tune func(f *emulator.Fleet, s *site.Site, tierOf []int)
	// gpus, when positive, adds an in-process emulated GPU pool of that
	// size with a constant inference demand of gpuDemand (a fraction).
	gpus      int
	gpuDemand float64
}

func newHarness(t *testing.T, o opts) *harness {
	t.Helper()
	if o.mix == "" {
		o.mix = testMix
	}
	if o.failsafe == "" {
		o.failsafe = feed.Hold
	}
	n := netSeq.Add(1)
	f, err := emulator.NewFleet(emulator.Config{Mix: o.mix, Seed: 7, Net: netip.AddrFrom4([4]byte{127, byte(60 + n), 0, 0})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	h := &harness{t: t, fleet: f, dbPath: filepath.Join(t.TempDir(), "joule.db"), params: o.params, fsMode: o.failsafe, ctx: ctx,
		price: feed.NewManual("manual price"), hash: feed.NewManual("manual hashprice")}
	if o.postgres {
		h.pgDSN = testenv.PostgresDSN(t)
		h.pgSch = fmt.Sprintf("e2e_%d_%d", time.Now().UnixNano()%1e9, n)
	}
	s, tierOf := controller.DemoSite(f, o.gpus)
	if o.gpus > 0 {
		d := o.gpuDemand
		h.gpus = gpu.NewEmulator(o.gpus, gpu.EmulatorOptions{Now: f.Now, Demand: func(time.Time) float64 { return d }})
	}
	s.Timezone = "UTC"
	for i := range s.Tiers {
		// Latencies matter to the policy's start cost only; minimum
		// durations would hold miners the tests want to move.
		s.Tiers[i].MinOn, s.Tiers[i].MinOff = 0, 0
	}
	if o.tune != nil {
		o.tune(f, s, tierOf)
	}
	h.site = s
	now := f.Now()
	if err := h.price.Set(30, now, now); err != nil {
		t.Fatal(err)
	}
	if err := h.hash.Set(0.05, now, now); err != nil {
		t.Fatal(err)
	}
	h.open(tierOf)
	return h
}

// open starts a controller (a fresh process, as far as it can tell) on the
// harness's database.
func (h *harness) open(tierOf []int) {
	t := h.t
	t.Helper()
	var st store.Store
	var err error
	if h.pgDSN != "" {
		st, err = postgres.Open(h.ctx, h.pgDSN, postgres.Options{Schema: h.pgSch})
	} else {
		st, err = sqlite.Open(h.ctx, h.dbPath, sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	t.Cleanup(func() { st.Close() })
	if tierOf == nil {
		_, tierOf = controller.DemoSite(h.fleet, 0)
	}
	fleet, err := controller.EmulatedFleet(h.fleet, h.site, tierOf, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var gpus []gpu.Source
	var batch controller.BatchPool
	if h.gpus != nil {
		gpus, batch = []gpu.Source{h.gpus}, h.gpus
	}
	h.ctrl, err = controller.New(h.ctx, controller.Config{Site: h.site, Fleet: fleet, Store: st, Now: h.fleet.Now, GPUs: gpus, Batch: batch,
		Feeds:       feed.Set{Price: h.price, Hashprice: h.hash, PriceMaxAge: 30 * time.Minute, HashMaxAge: 48 * time.Hour, FailSafeMode: h.fsMode},
		ManualPrice: h.price, ManualHashprice: h.hash, Step: 5 * time.Minute, Params: h.params})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Config{Site: h.ctrl, History: st, Now: h.fleet.Now, Tokens: []api.Token{
		{Name: "vera", Secret: viewerTok, Role: api.Viewer},
		{Name: "otto", Secret: operatorTok, Role: api.Operator},
		{Name: "ada", Secret: adminTok, Role: api.Admin}}})
	if err != nil {
		t.Fatal(err)
	}
	if h.srv != nil {
		h.srv.Close()
	}
	h.srv = httptest.NewServer(controller.Mux(a))
	t.Cleanup(h.srv.Close)
}

// kill abandons the controller mid-flight: no more ticks, no shutdown
// work; the database is closed as a killed process's would be.
func (h *harness) kill() {
	h.st.Close()
	h.srv.Close()
	h.ctrl = nil
}

// tick runs one control cycle.
func (h *harness) tick() {
	h.t.Helper()
	if err := h.ctrl.Tick(h.ctx); err != nil {
		h.t.Fatalf("tick at %s: %v", h.fleet.Now().Format(time.TimeOnly), err)
	}
}

// step advances simulated time by d, then ticks.
func (h *harness) step(d time.Duration) {
	h.fleet.Advance(d)
	h.tick()
}

// until steps every d until cond holds or limit of simulated time passes.
func (h *harness) until(d, limit time.Duration, what string, cond func() bool) time.Duration {
	h.t.Helper()
	start := h.fleet.Now()
	for !cond() {
		if h.fleet.Now().Sub(start) > limit {
			h.t.Fatalf("%s: not reached within %s of simulated time", what, limit)
		}
		h.step(d)
	}
	return h.fleet.Now().Sub(start)
}

// do sends a request to the API and decodes a JSON reply into out (if not
// nil), returning the status code.
func (h *harness) do(method, path, token, body string, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// byModel returns the emulated miners' indexes by model key.
func (h *harness) byModel() map[string][]int {
	out := map[string][]int{}
	for i, m := range h.fleet.Miners() {
		out[m.ModelKey] = append(out[m.ModelKey], i)
	}
	return out
}

// physState is miner i's true state in the emulator.
func (h *harness) physState(i int) string {
	return h.fleet.Telemetry(i).State.String()
}

// actions lists the journal, newest first.
func (h *harness) actions() []store.Action {
	h.t.Helper()
	as, err := h.st.Actions(h.ctx, store.ActionFilter{Filter: store.Filter{Limit: store.MaxLimit}})
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

func (h *harness) setPrice(v float64) {
	h.t.Helper()
	if code := h.do("POST", "/api/v1/price/manual", operatorTok, fmt.Sprintf(`{"price_usd_mwh": %g, "reason": "test"}`, v), nil); code != 200 {
		h.t.Fatalf("set price: HTTP %d", code)
	}
}
