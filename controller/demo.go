package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store/sqlite"
	"github.com/jouleworks/joule/web"
)

// DemoMix is the demo fleet: 200 miners of four models on all four
// firmwares.
const DemoMix = "s19jpro:stock=60,s19xp:braiins=40,s21:luxos=60,m50s:whatsminer=40"

// DemoOptions configures NewDemo.
type DemoOptions struct {
	Addr  string  // listen address of the dashboard and API (default 127.0.0.1:8080)
	Speed float64 // simulated seconds per wall second (default 60)
	Seed  int64   // market scenario and fleet seed (default 1)
	Mix   string  // fleet mix (default DemoMix)
	GPUs  int     // emulated H100s (default 32)
	// Net is the loopback /16 the emulated miners use (default 127.42.0.0).
	Net    netip.Addr
	Logger *slog.Logger
}

// Demo is an emulated site under the live controller, with its dashboard.
type Demo struct {
	URL        string
	AdminToken string
	GPUs       int
	Controller *Controller
	Fleet      *emulator.Fleet
	Store      *sqlite.Store

	dir   string
	srv   *http.Server
	ln    net.Listener
	gpuLn net.Listener
	gpuS  *http.Server
}

// demoStart is where the demo's market time begins: mid-July, when ERCOT
// prices spike, so the dashboard shows curtailment within minutes.
var demoStart = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)

// demoHistory is the price history the forecast sees before the demo starts.
const demoHistory = 14 * 24 * time.Hour

// demoSpike is the price from which the demo's replay is positioned: the
// replay starts an hour before the scenario's first interval at or above it,
// so a newcomer sees the controller curtail within a minute or two.
const demoSpike = 150.0

// demoRampW is the demo's ramp limit, 0.25 MW/min (about 75 miners a
// minute): the dashboard shows a curtailment as a ramp, as a real site's
// plant would want it, rather than a cliff.
const demoRampW = 0.25e6

// demoOrigin picks the replay start: an hour before the first price spike
// after the forecast's history, or just after the history if none.
func demoOrigin(p market.Series) time.Time {
	first := p.Start.Add(demoHistory)
	for i := 0; i < p.Len(); i++ {
		t := p.At(i)
		if !t.Before(first.Add(time.Hour)) && p.Values[i] >= demoSpike {
			return t.Add(-time.Hour)
		}
	}
	return first
}

// DemoSite builds the site model of an emulated fleet: one tier per model ×
// firmware with its nameplate profile, and a pool of H100s.
func DemoSite(f *emulator.Fleet, gpus int) (*site.Site, []int) {
	s := &site.Site{Name: "joule-demo", Timezone: "America/Chicago"}
	tierOf := map[string]int{}
	units := make([]int, f.Len())
	maxW := 0.0
	for i, m := range f.Miners() {
		key := m.ModelKey + "-" + m.Firmware.String()
		t, ok := tierOf[key]
		if !ok {
			spec := specOf(m.ModelKey)
			t = len(s.Tiers)
			tierOf[key] = t
			s.Tiers = append(s.Tiers, site.Tier{Name: key, Model: m.Model,
				Profiles: []site.Profile{{Name: "stock", THs: spec.HashTH, W: spec.PowerW}},
				SleepW:   25, WakeLatency: wakeLatency(m.Firmware), SleepLatency: time.Minute,
				MinOn: 30 * time.Minute, MinOff: 15 * time.Minute, SwitchCost: 0.10, Cooling: site.CoolingHydro})
		}
		s.Tiers[t].Count++
		units[i] = t
		maxW += s.Tiers[t].Profiles[0].W
	}
	if gpus > 0 {
		byHour := make([]float64, 24)
		for h := range byHour {
			byHour[h] = math.Round(float64(gpus) * (0.5 + 0.35*math.Sin(2*math.Pi*(float64(h)-8)/24)))
		}
		s.GPUPools = []site.GPUPool{{Name: "h100", Model: gpu.H100Name, Count: gpus, LoadW: gpu.H100MaxW, IdleW: gpu.H100IdleW,
			Batch:     []site.BatchJob{{Name: "fine-tune", GPUHours: float64(gpus) * 24, PricePerGPUHour: 1.60, Every: 168 * time.Hour}},
			Inference: site.Inference{PricePerGPUHour: 2.50, GPUsByHour: byHour}}}
		maxW += float64(gpus) * gpu.H100MaxW
	}
	// The interconnect fits the whole fleet with 5 % margin, rounded up to
	// 10 kW.
	s.InterconnectMW = math.Ceil(maxW*1.05/1e4) / 100
	return s, units
}

// AddEcoProfiles gives every tier whose firmware takes power targets
// (LuxOS, Braiins OS+, Whatsminer) an "eco" profile at 80 % of the
// miner's steady-state power, with the hashrate the emulator's tuner
// reaches there (hashrate scales with the clock). Stock firmware keeps its
// one profile. The policy then runs a tier at eco when the last 20 % of
// power costs more than it earns.
func AddEcoProfiles(f *emulator.Fleet, s *site.Site, tierOf []int) {
	done := map[int]bool{}
	for i, m := range f.Miners() {
		t := tierOf[i]
		if done[t] || m.Firmware == emulator.Stock {
			continue
		}
		done[t] = true
		var scale, w float64
		f.Do(i, func(pm *physics.Miner) {
			w = 0.8 * pm.SteadyPower(1)
			lo, hi := 0.3, 1.0
			for range 40 {
				mid := (lo + hi) / 2
				if pm.SteadyPower(mid) < w {
					lo = mid
				} else {
					hi = mid
				}
			}
			scale = (lo + hi) / 2
		})
		nom := s.Tiers[t].Profiles[0]
		s.Tiers[t].Profiles = append(s.Tiers[t].Profiles, site.Profile{Name: "eco", THs: math.Round(nom.THs*scale*10) / 10, W: math.Round(w)})
	}
}

func wakeLatency(fw emulator.Firmware) time.Duration {
	switch fw {
	case emulator.Stock:
		return 4 * time.Minute
	case emulator.Whatsminer:
		return 2 * time.Minute
	}
	return 30 * time.Second
}

// DialectOf maps an emulated firmware to the miner package's dialect.
func DialectOf(fw emulator.Firmware) miner.Dialect {
	switch fw {
	case emulator.LuxOS:
		return miner.DialectLuxOS
	case emulator.Braiins:
		return miner.DialectBraiins
	case emulator.Whatsminer:
		return miner.DialectWhatsminer
	}
	return miner.DialectAntminer
}

// EmulatedFleet opens a miner client for every emulated miner, through its
// real wire protocols, with units on the site's tiers.
func EmulatedFleet(f *emulator.Fleet, s *site.Site, tierOf []int, timeout time.Duration) ([]FleetMiner, error) {
	var out []FleetMiner
	for i, m := range f.Miners() {
		t := miner.Target{Host: m.Addr.String(), CGMinerPort: int(m.CGMiner.Port())}
		if m.HTTP.IsValid() {
			t.HTTPPort = int(m.HTTP.Port())
		}
		if m.API3.IsValid() {
			t.WhatsminerPort = int(m.API3.Port())
		}
		d := DialectOf(m.Firmware)
		mc, err := miner.Open(t, d, miner.Identity{Make: m.Make, Model: m.Model}, miner.Options{Timeout: timeout, Light: true,
			Credentials: func(miner.Target, miner.Dialect) miner.Credentials {
				return miner.Credentials{User: miner.DefaultCredentials[d].User, Password: m.Password}
			}})
		if err != nil {
			return nil, err
		}
		tier := &s.Tiers[tierOf[i]]
		out = append(out, FleetMiner{Unit: Unit{ID: m.Name, Address: m.Addr.String(), Tier: tierOf[i], Model: m.Model,
			Firmware: m.Firmware.String(), NominalW: tier.Profiles[0].W, NominalTHs: tier.Profiles[0].THs, SleepW: tier.SleepW}, Miner: mc})
	}
	return out, nil
}

// NewDemo builds and starts everything but the control loop: the emulated
// fleet and GPUs, the market replay, the store in a temporary directory and
// the HTTP server. Run starts the loop; Close tears it all down.
func NewDemo(ctx context.Context, o DemoOptions) (d *Demo, err error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Speed == 0 {
		o.Speed = 60
	}
	if !(o.Speed > 0) || o.Speed > 3600 {
		return nil, fmt.Errorf("demo: speed %v: want 0 < speed ≤ 3600", o.Speed)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Mix == "" {
		o.Mix = DemoMix
	}
	if o.GPUs == 0 {
		o.GPUs = 32
	}
	if !o.Net.IsValid() {
		o.Net = netip.AddrFrom4([4]byte{127, 42, 0, 0})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d = &Demo{GPUs: o.GPUs}
	// Every error return below sets d to nil: close the partial demo
	// through its own reference.
	partial := d
	defer func() {
		if err != nil {
			partial.Close()
		}
	}()
	// Bind the dashboard first: a taken port is the likeliest failure.
	if d.ln, err = net.Listen("tcp", o.Addr); err != nil {
		return nil, fmt.Errorf("demo: listen %s: %w (pick another with --addr)", o.Addr, err)
	}
	sc := market.Generate(o.Seed, demoStart, 60)
	origin := demoOrigin(sc.Prices)
	d.Fleet, err = emulator.NewFleet(emulator.Config{Mix: o.Mix, Seed: uint64(o.Seed), Speed: o.Speed, Net: o.Net, Epoch: origin})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := d.Fleet.Start(ctx); err != nil {
		return nil, fmt.Errorf("demo: start emulated fleet: %w", err)
	}
	now := d.Fleet.Now
	s, tierOf := DemoSite(d.Fleet, o.GPUs)
	AddEcoProfiles(d.Fleet, s, tierOf)
	fleet, err := EmulatedFleet(d.Fleet, s, tierOf, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	em := gpu.NewEmulator(o.GPUs, gpu.EmulatorOptions{Host: "demo-gpu", Seed: uint64(o.Seed), Now: now})
	em.ClaimBatch(o.GPUs / 5)
	if d.gpuLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: GPU endpoint: %w", err)
	}
	d.gpuS = &http.Server{Handler: em, ReadHeaderTimeout: 5 * time.Second}
	go d.gpuS.Serve(d.gpuLn)
	gpuSrc := gpu.DCGM{Label: "dcgm-demo", URL: "http://" + d.gpuLn.Addr().String() + "/metrics"}

	// Replays start at their series' first value: slice both at the origin
	// (the hashprice at its day).
	live, err := sc.Prices.Slice(origin, sc.Prices.End())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	liveHP, err := sc.Hashprice.Slice(origin.Truncate(24*time.Hour), sc.Hashprice.End())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	price, err := feed.NewReplay("scenario RT price", live, origin, 1, true)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	hp, err := feed.NewReplay("scenario hashprice", liveHP, origin.Truncate(24*time.Hour), 1, true)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	step := 5 * time.Minute
	var hist []float64
	for t := origin.Add(-demoHistory); t.Before(origin); t = t.Add(step) {
		if t.Before(sc.Prices.Start) {
			continue
		}
		v, _ := sc.Prices.Value(t)
		hist = append(hist, v)
	}
	d.dir, err = os.MkdirTemp("", "joule-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Store, err = sqlite.Open(ctx, filepath.Join(d.dir, "joule.db"), sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Controller, err = New(ctx, Config{Site: s, Fleet: fleet, GPUs: []gpu.Source{gpuSrc},
		Batch: gpu.BatchClient{URL: "http://" + d.gpuLn.Addr().String()},
		Feeds: feed.Set{Price: price, Hashprice: hp, PriceMaxAge: 30 * time.Minute, HashMaxAge: 48 * time.Hour, FailSafeMode: feed.Hold},
		Store: d.Store, Now: now, Interval: time.Second, Step: step, PriceHistory: hist,
		Params: Params{BatchSize: 50, Stagger: 2 * time.Second, RampWPerMin: demoRampW}, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.AdminToken = randomToken()
	a, err := api.New(api.Config{Site: d.Controller, History: d.Store, Public: api.Viewer, Now: now, Logger: o.Logger,
		Tokens: []api.Token{{Name: "demo-admin", Secret: d.AdminToken, Role: api.Admin}}})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.srv = &http.Server{Handler: Mux(a), ReadHeaderTimeout: 10 * time.Second}
	d.URL = "http://" + d.ln.Addr().String() + "/"
	return d, nil
}

// Mux mounts the API, /metrics, /healthz and the dashboard on one handler.
func Mux(a *api.Server) http.Handler {
	mux := http.NewServeMux()
	h := a.Handler()
	mux.Handle("/api/", h)
	mux.Handle("/metrics", h)
	mux.Handle("/healthz", h)
	mux.Handle("/", web.Handler())
	return mux
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Run serves the dashboard and runs the control loop until ctx ends.
func (d *Demo) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(d.ln) }()
	// The first tick fills the dashboard before anyone looks.
	if err := d.Controller.Tick(ctx); err != nil && ctx.Err() == nil {
		slog.Default().Warn("first tick", "err", err)
	}
	done := make(chan struct{})
	go func() { d.Controller.Run(ctx); close(done) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("demo: serve: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	d.srv.Shutdown(sctx)
	<-done
	return nil
}

// Close stops the fleet and removes the temporary database.
func (d *Demo) Close() error {
	if d.srv != nil {
		d.srv.Close()
	} else if d.ln != nil {
		d.ln.Close()
	}
	if d.gpuS != nil {
		d.gpuS.Close()
	}
	if d.Fleet != nil {
		d.Fleet.Close()
	}
	if d.Store != nil {
		d.Store.Close()
	}
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
	return nil
}

// specOf returns the nameplate of an emulated model (the fleet only holds
// known keys).
func specOf(key string) *physics.Spec {
	s, err := physics.LookupModel(key)
	if err != nil {
		return &physics.Spec{Key: key, HashTH: 100, PowerW: 3000}
	}
	return s
}
