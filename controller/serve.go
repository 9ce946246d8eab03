package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/postgres"
	"github.com/jouleworks/joule/store/sqlite"
)

// Server is `joule serve`: a controller, its store and its HTTP listener,
// built from a ServeConfig.
type Server struct {
	Controller *Controller
	API        *api.Server
	Addr       string
	Config     *ServeConfig

	st  store.Store
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// NewServer opens the store, finds the miners (detecting firmware where the
// config says auto), wires feeds and GPU sources, and binds the listener.
// getenv resolves secrets named by *_env keys.
func NewServer(ctx context.Context, cfg *ServeConfig, getenv func(string) string, log *slog.Logger) (s *Server, err error) {
	if log == nil {
		log = slog.Default()
	}
	s = &Server{Config: cfg, log: log}
	// Every error return below sets s to nil: close the partial server
	// through its own reference.
	partial := s
	defer func() {
		if err != nil {
			partial.Close()
		}
	}()
	var st store.Store
	switch dsn := cfg.Store.PostgresDSN; {
	case dsn != "" || cfg.Store.PostgresDSNEnv != "":
		if dsn == "" {
			dsn = getenv(cfg.Store.PostgresDSNEnv)
		}
		p, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("serve: store: %w", err)
		}
		st, s.st = p, p
	default:
		path := cfg.Store.SQLite
		if path == "" {
			path = "joule.db"
		}
		q, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("serve: store: %w", err)
		}
		st, s.st = q, q
	}
	fleet, err := openFleet(ctx, cfg, getenv, log)
	if err != nil {
		return nil, err
	}
	feeds, manualP, manualH, err := openFeeds(cfg, getenv, time.Now())
	if err != nil {
		return nil, err
	}
	var gpus []gpu.Source
	var batch BatchPool
	for _, g := range cfg.GPUs {
		if g.BatchURL != "" {
			batch = gpu.BatchClient{URL: g.BatchURL}
		}
		switch g.Kind {
		case "dcgm":
			gpus = append(gpus, gpu.DCGM{Label: g.Name, URL: g.URL})
		case "smi":
			gpus = append(gpus, gpu.SMI{Label: g.Name, Command: g.Command})
		}
	}
	cc := cfg.Controller
	params := Params{BatchSize: cc.BatchSize, Stagger: cc.Stagger, Cooldown: cc.Cooldown, SleepTimeout: cc.SleepTimeout,
		WakeTimeout: cc.WakeTimeout, MaxAttempts: cc.MaxAttempts, RampWPerMin: cc.RampMWPerMin * 1e6,
		ProfileTolerance: cc.ProfileTolerance, ProfileTimeout: cc.ProfileTimeout}
	s.Controller, err = New(ctx, Config{Site: &cfg.Site, Fleet: fleet, GPUs: gpus, Batch: batch, Feeds: feeds, ManualPrice: manualP, ManualHashprice: manualH,
		Store: st, Interval: cc.Interval, Step: cc.Step, Params: params, GridHold: cc.GridHold, TelemetryEvery: cc.TelemetryEvery, FullPollEvery: cc.FullPollEvery,
		PollTimeout: cc.PollTimeout, Concurrency: cc.Concurrency, FeedPollEvery: cfg.Feeds.Price.PollEvery, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	var toks []api.Token
	for _, t := range cfg.API.Tokens {
		r, _ := api.ParseRole(t.Role)
		sec := t.Secret
		if t.SecretEnv != "" {
			sec = getenv(t.SecretEnv)
		}
		toks = append(toks, api.Token{Name: t.Name, Secret: sec, Role: r})
	}
	public := api.RoleNone
	if cfg.API.Public == "viewer" {
		public = api.Viewer
	}
	s.API, err = api.New(api.Config{Site: s.Controller, History: st, Tokens: toks, Public: public, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.API.Listen); err != nil {
		return nil, fmt.Errorf("serve: api.listen %s: %w", cfg.API.Listen, err)
	}
	s.Addr = s.ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/", Mux(s.API))
	for _, h := range []struct {
		path string
		f    FeedConfig
		m    *feed.Manual
	}{{"/hooks/price", cfg.Feeds.Price, manualP}, {"/hooks/hashprice", cfg.Feeds.Hashprice, manualH}} {
		if h.f.WebhookSecretEnv != "" && h.m != nil {
			mux.Handle(h.path, feed.Webhook(h.m, getenv(h.f.WebhookSecretEnv), time.Now))
		}
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// openFleet expands the miner groups into units. Groups with a known
// firmware are opened without I/O; "auto" groups are detected now, and
// addresses where nothing answers are logged and left out.
func openFleet(ctx context.Context, cfg *ServeConfig, getenv func(string) string, log *slog.Logger) ([]FleetMiner, error) {
	tierIdx := map[string]int{}
	for i, t := range cfg.Site.Tiers {
		tierIdx[t.Name] = i
	}
	var out []FleetMiner
	seen := map[string]bool{}
	for gi, g := range cfg.Miners {
		d, _ := dialectOf(g.Firmware)
		addrs, err := (miner.Selection{IPs: g.IPs, CIDR: g.CIDR, Ranges: g.Range}).Addrs()
		if err != nil {
			return nil, fmt.Errorf("serve: miners[%d]: %w", gi, err)
		}
		pw := g.Password
		if g.PasswordEnv != "" {
			pw = getenv(g.PasswordEnv)
		}
		opt := miner.Options{Timeout: 5 * time.Second, Light: true}
		if g.User != "" || pw != "" {
			opt.Credentials = func(miner.Target, miner.Dialect) miner.Credentials {
				return miner.Credentials{User: g.User, Password: pw}
			}
		}
		targets := make([]miner.Target, len(addrs))
		for i, a := range addrs {
			targets[i] = miner.Target{Host: a.String(), Dialect: d, CGMinerPort: g.Ports.CGMiner, HTTPPort: g.Ports.HTTP, WhatsminerPort: g.Ports.Whatsminer}
		}
		var ms []miner.Miner
		if d == miner.DialectUnknown {
			p := miner.Poller{Options: opt}
			var res []miner.PollResult
			ms, res = p.Scan(ctx, targets)
			for i, r := range res {
				if ms[i] == nil {
					log.Warn("miner not found", "group", gi, "addr", targets[i].Host, "err", r.Err)
				}
			}
		} else {
			for _, t := range targets {
				m, err := miner.Open(t, d, miner.Identity{}, opt)
				if err != nil {
					return nil, fmt.Errorf("serve: miners[%d]: %w", gi, err)
				}
				ms = append(ms, m)
			}
		}
		ti := tierIdx[g.Tier]
		tier := cfg.Site.Tiers[ti]
		for _, m := range ms {
			if m == nil {
				continue
			}
			id := m.Target().Host
			if g.Ports.CGMiner != 0 {
				id = net.JoinHostPort(id, fmt.Sprint(g.Ports.CGMiner))
			}
			if seen[id] {
				return nil, fmt.Errorf("serve: miners[%d]: %s is listed twice", gi, id)
			}
			seen[id] = true
			out = append(out, FleetMiner{Unit: Unit{ID: id, Address: m.Target().Host, Tier: ti, Model: tier.Model, Firmware: string(m.Dialect()),
				NominalW: tier.Profiles[0].W, NominalTHs: tier.Profiles[0].THs, SleepW: tier.SleepW}, Miner: m})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("serve: no miners found")
	}
	return out, nil
}

// openFeeds builds the price and hashprice sources.
func openFeeds(cfg *ServeConfig, getenv func(string) string, now time.Time) (feed.Set, *feed.Manual, *feed.Manual, error) {
	fs := feed.Set{PriceMaxAge: cfg.Feeds.Price.MaxAge, HashMaxAge: cfg.Feeds.Hashprice.MaxAge, FailSafeMode: feed.Hold}
	if cfg.Feeds.FailSafe != "" {
		fs.FailSafeMode, _ = feed.ParseMode(cfg.Feeds.FailSafe)
	}
	if fs.PriceMaxAge == 0 {
		fs.PriceMaxAge = 30 * time.Minute
	}
	var mp, mh *feed.Manual
	p := cfg.Feeds.Price
	switch p.Kind {
	case "manual":
		mp = feed.NewManual("manual price")
		if p.Value != nil {
			if err := mp.Set(*p.Value, now, now); err != nil {
				return fs, nil, nil, fmt.Errorf("serve: feeds.price.value: %w", err)
			}
		}
		fs.Price = mp
	case "file":
		series, err := market.OpenPrices(p.File, market.PriceOptions{SettlementPoint: p.SettlementPoint})
		if err != nil {
			return fs, nil, nil, fmt.Errorf("serve: feeds.price.file: %w", err)
		}
		r, err := feed.NewReplay("file "+series.Name, series, now, 1, p.Loop)
		if err != nil {
			return fs, nil, nil, fmt.Errorf("serve: feeds.price: %w", err)
		}
		fs.Price = r
	case "ercot":
		fs.Price = &feed.ERCOT{Label: "ercot " + p.SettlementPoint, SubscriptionKey: getenv(p.SubscriptionKeyEnv), SettlementPoint: p.SettlementPoint,
			Tokens: &feed.ERCOTLogin{Username: getenv(p.UsernameEnv), Password: getenv(p.PasswordEnv)}}
	}
	h := cfg.Feeds.Hashprice
	switch h.Kind {
	case "manual":
		mh = feed.NewManual("manual hashprice")
		if h.Value != nil {
			if err := mh.Set(*h.Value, now, now); err != nil {
				return fs, nil, nil, fmt.Errorf("serve: feeds.hashprice.value: %w", err)
			}
		}
		fs.Hashprice = mh
	case "constant":
		fs.Hashprice = feed.Constant{Label: "configured hashprice", Value: *h.Value}
	}
	return fs, mp, mh, nil
}

// Run serves the API and runs the control loop until ctx ends, then shuts
// the listener down gracefully (in-flight requests get 5 s) and lets the
// current tick finish: the journal stays consistent either way.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	done := make(chan struct{})
	go func() { s.Controller.Run(ctx); close(done) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(sctx)
	<-done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close releases the store and listener.
func (s *Server) Close() error {
	if s.srv != nil {
		s.srv.Close()
	} else if s.ln != nil {
		s.ln.Close()
	}
	if s.st != nil {
		return s.st.Close()
	}
	return nil
}

// Getenv is os.Getenv, for callers that wire the real environment.
var Getenv = os.Getenv
