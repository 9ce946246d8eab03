// Package controller runs a live site: every interval it polls the miners
// and GPUs, reads the live prices, decides with a dispatch policy, maps the
// decision to a desired state per miner and reconciles the fleet towards it
// through a durable command journal, confirming every command by telemetry.
// Decisions (Assign, Reconcile) are pure functions; this file and the
// others named for their I/O (poll, execute, events) are the edge.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store"
)

// Miner is what the controller needs of one miner: telemetry, sleep and
// wake. miner.Miner satisfies it.
type Miner interface {
	Read(ctx context.Context) (miner.Reading, error)
	Sleep(ctx context.Context) (miner.Outcome, error)
	Wake(ctx context.Context) (miner.Outcome, error)
}

var _ Miner = (miner.Miner)(nil)

// Store is the subset of store.Store the controller uses.
type Store interface {
	store.TelemetryWriter
	store.Maintainer
	store.DesiredStates
	store.Journal
	store.AuditLog
	store.DecisionLog
	store.GridEvents
}

// FleetMiner is one unit and its connection.
type FleetMiner struct {
	Unit  Unit
	Miner Miner
}

// Config configures New.
type Config struct {
	Site   *site.Site
	Policy dispatch.Policy // default dispatch.Joule{}
	Fleet  []FleetMiner
	GPUs   []gpu.Source
	// Batch, when set, is the first GPU pool's batch claim: the decision's
	// batch allocation is applied to it (gpu.Emulator, gpu.BatchClient).
	Batch BatchPool
	// Epoch is when recurring batch jobs' periods start (default: the
	// first tick).
	Epoch time.Time
	Feeds feed.Set
	// ManualPrice and ManualHashprice, when the feeds use them, are what
	// POST /api/v1/price/manual sets.
	ManualPrice     *feed.Manual
	ManualHashprice *feed.Manual
	Store           Store
	// Now is the clock (default time.Now). The demo and tests pass the
	// emulator's simulated clock.
	Now func() time.Time
	// Interval is how often Run ticks (poll + reconcile), in wall time
	// (default 2 s).
	Interval time.Duration
	// Step is the dispatch interval: the policy decides every Step of
	// clock time (default 5 min).
	Step time.Duration
	// PriceHistory seeds the settled prices of the Steps before start,
	// oldest first, for the policy's forecast.
	PriceHistory []float64
	Params       Params
	// GridHold is how long a grid event's reduction is held after its
	// deadline before load may return (default 1 h).
	GridHold time.Duration
	// TelemetryEvery is the least clock time between two stored miner
	// samples (default: every tick).
	TelemetryEvery time.Duration
	// FullPollEvery is the least clock time between two sweeps of the
	// whole fleet; ticks in between poll only the miners with an action in
	// flight, so confirmations keep pace with commands on large fleets
	// (default 0: every tick sweeps everything).
	FullPollEvery time.Duration
	// PollTimeout bounds one miner read (default 5 s); Concurrency bounds
	// parallel reads and commands (default 128).
	PollTimeout time.Duration
	Concurrency int
	// FeedPollEvery is the least clock time between two polls of the
	// feeds that need polling (ERCOT), default 1 min: the API is rate
	// limited and publishes a price every 5 to 15 minutes.
	FeedPollEvery time.Duration
	Logger        *slog.Logger
}

// Controller is the live site controller. It implements api.Site.
type Controller struct {
	cfg    Config
	log    *slog.Logger
	units  []Unit
	byID   map[string]int
	policy dispatch.Policy

	// tickMu serialises Tick; mu guards the fields below it, which the API
	// reads and writes concurrently.
	tickMu sync.Mutex

	mu         sync.Mutex
	obs        map[string]Observation
	desired    map[string]store.Desired
	open       map[string]store.Action
	mem        Memory
	prices     []float64
	lastDecide time.Time
	decideNow  bool
	lastDec    *store.Decision
	lastAnc    float64
	override   *Override
	events     []store.GridEvent
	counters   Counters
	snap       snapshot
	lastTick   time.Time
	lastFull   time.Time
	lastFeed   time.Time
	lastWrite  time.Time
	lastPrune  time.Time
	today      money
	alerts     map[string]Alert
	started    bool
	listeners  []EventListener
	jobs       jobBook
	health     healthBook
	// decidedStale is whether the last decision saw a stale input: a feed
	// going stale (or fresh again) is decided on at once, not at the next
	// step, so the fail-safe applies within one tick of max-age.
	decidedStale bool
}

// Counters are cumulative command counts since the controller started.
type Counters struct {
	Sent, Confirmed, Drifted, Failed uint64
}

// Override is an operator-forced mode.
type Override struct {
	Mode   string
	Until  time.Time
	Reason string
	Actor  string
}

// Alert is an active condition.
type Alert struct {
	Name, Severity, Message string
	Since                   time.Time
}

// New validates cfg and reloads what the store remembers: desired states,
// open actions and open grid events, so a restarted controller carries on
// where the last one stopped.
func New(ctx context.Context, cfg Config) (*Controller, error) {
	if cfg.Site == nil {
		return nil, errors.New("controller: site is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("controller: store is required")
	}
	if cfg.Feeds.Price == nil || cfg.Feeds.Hashprice == nil {
		return nil, errors.New("controller: price and hashprice feeds are required")
	}
	if cfg.Policy == nil {
		cfg.Policy = dispatch.Joule{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Step <= 0 {
		cfg.Step = 5 * time.Minute
	}
	if cfg.GridHold <= 0 {
		cfg.GridHold = time.Hour
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 128
	}
	if cfg.FeedPollEvery <= 0 {
		cfg.FeedPollEvery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Fleet = append([]FleetMiner(nil), cfg.Fleet...) // units get their profiles below
	c := &Controller{cfg: cfg, log: cfg.Logger, policy: cfg.Policy, byID: map[string]int{},
		obs: map[string]Observation{}, desired: map[string]store.Desired{}, open: map[string]store.Action{},
		prices: append([]float64(nil), cfg.PriceHistory...), alerts: map[string]Alert{},
		jobs: jobBook{epoch: cfg.Epoch, at: cfg.Epoch, target: -1}}
	for i, fm := range cfg.Fleet {
		u := fm.Unit
		if u.ID == "" {
			return nil, fmt.Errorf("controller: miner %d has no id", i)
		}
		if _, dup := c.byID[u.ID]; dup {
			return nil, fmt.Errorf("controller: miner id %q used twice", u.ID)
		}
		if u.Tier < 0 || u.Tier >= len(cfg.Site.Tiers) {
			return nil, fmt.Errorf("controller: miner %s: tier %d out of range", u.ID, u.Tier)
		}
		if len(u.Profiles) == 0 {
			u.Profiles = cfg.Site.Tiers[u.Tier].Profiles
		}
		c.byID[u.ID] = i
		c.cfg.Fleet[i].Unit = u
		c.units = append(c.units, u)
	}
	ds, err := cfg.Store.DesiredStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("controller: reload desired states: %w", err)
	}
	for _, d := range ds {
		c.desired[d.Target] = d
	}
	open, err := cfg.Store.OpenActions(ctx)
	if err != nil {
		return nil, fmt.Errorf("controller: reload open actions: %w", err)
	}
	now := cfg.Now()
	for _, a := range open {
		if _, ok := c.byID[a.Target]; !ok {
			// The miner is no longer configured: settle its action so
			// the backlog does not carry it forever.
			if _, err := cfg.Store.Transition(ctx, a.ID, a.State, store.Cancelled, now, "miner no longer configured", ""); err != nil {
				return nil, fmt.Errorf("controller: cancel action %s: %w", a.ID, err)
			}
			continue
		}
		c.open[a.Target] = a
		if a.State == store.Dispatched && now.Sub(a.DispatchedAt) < time.Minute {
			if i, ok := c.byID[a.Target]; ok {
				c.mem.Switched = append(c.mem.Switched, Switch{At: a.DispatchedAt, W: switchW(c.units[i], a, Observation{})})
			}
		}
	}
	if len(c.prices) == 0 {
		// Rebuild the forecast's price history from the decision log:
		// one decision per step, newest first.
		decs, err := cfg.Store.Decisions(ctx, store.Filter{Since: now.Add(-14 * 24 * time.Hour), Limit: store.MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("controller: reload price history: %w", err)
		}
		for i := len(decs) - 1; i >= 0; i-- {
			if decs[i].FailSafe == "" {
				c.prices = append(c.prices, decs[i].PriceUSDMWh)
			}
		}
	}
	evs, err := cfg.Store.GridEvents(ctx, store.Filter{Limit: store.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("controller: reload grid events: %w", err)
	}
	for _, e := range evs {
		if e.State == store.EventOpen || e.State == store.EventAchieved || e.State == store.EventMissed {
			c.events = append(c.events, e)
		}
	}
	if len(open) > 0 || len(ds) > 0 {
		c.log.Info("controller resumed", "desired", len(ds), "open_actions", len(open), "grid_events", len(c.events))
	}
	// Decide at the first tick.
	c.decideNow = true
	return c, nil
}

// Units returns the controlled miners.
func (c *Controller) Units() []Unit { return append([]Unit(nil), c.units...) }

// Run ticks every Interval until ctx ends. A failed tick is logged and the
// loop carries on: one unreachable database or miner must not stop control.
func (c *Controller) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		if err := c.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs one control cycle: poll, store telemetry, check the feeds,
// decide when due, track grid events, reconcile.
func (c *Controller) Tick(ctx context.Context) error {
	c.tickMu.Lock()
	defer c.tickMu.Unlock()
	now := c.cfg.Now()
	t0 := time.Now()
	obs := c.poll(ctx, now)
	gpus := c.pollGPUs(ctx)
	c.assessHealth(ctx, now)
	tPoll := time.Since(t0)
	var errs []error
	if c.lastFeed.IsZero() || now.Sub(c.lastFeed) >= c.cfg.FeedPollEvery {
		c.lastFeed = now // only Tick touches it, under tickMu
		if err := c.cfg.Feeds.Poll(ctx, now); err != nil {
			c.log.Warn("feed poll", "err", err)
		}
	}
	verdict := c.cfg.Feeds.Evaluate(now)

	c.mu.Lock()
	c.obs = obs
	if len(c.cfg.Site.GPUPools) > 0 {
		_, _, batch, _, _ := gpuSummary(gpus)
		c.jobs.refresh(c, now, now.Add(c.cfg.Step))
		c.jobs.progress(now, batch)
	}
	if o := c.override; o != nil && !o.Until.IsZero() && !now.Before(o.Until) {
		c.decideNow = true // the override expired: back to the policy now
	}
	due := c.decideNow || c.lastDecide.IsZero() || now.Sub(c.lastDecide) >= c.cfg.Step || verdict.Active != c.decidedStale
	c.mu.Unlock()

	if err := c.writeTelemetry(ctx, now, obs, gpus, verdict); err != nil {
		errs = append(errs, err)
	}
	tWrite := time.Since(t0)
	if err := c.trackEvents(ctx, now, obs, gpus); err != nil {
		errs = append(errs, err)
	}
	if due {
		if err := c.decide(ctx, now, verdict, obs, gpus); err != nil {
			errs = append(errs, err)
		}
	}
	tDecide := time.Since(t0)
	if err := c.reconcile(ctx, now, obs, verdict); err != nil {
		errs = append(errs, err)
	}
	c.log.Debug("tick", "poll", tPoll, "telemetry", tWrite-tPoll, "decide", tDecide-tWrite, "reconcile", time.Since(t0)-tDecide)
	c.account(now, obs, gpus, verdict)
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	return errors.Join(errs...)
}

// price returns the price and hashprice in use from a verdict (0 when the
// source has no value).
func prices(v feed.Verdict) (price, hashprice float64) {
	for _, s := range v.Sources {
		if !s.HasValue {
			continue
		}
		switch s.Role {
		case "price":
			price = s.Value
		case "hashprice":
			hashprice = s.Value
		}
	}
	return price, hashprice
}

// gpuSummary classifies GPUs by what they are doing: idle below 5 %
// utilisation; batch when running flat out with most of its memory used
// (training); inference otherwise.
func gpuSummary(s []gpu.Sample) (total, inference, batch, idle int, powerW float64) {
	for _, g := range s {
		total++
		if !math.IsNaN(g.PowerW) {
			powerW += g.PowerW
		}
		switch {
		case math.IsNaN(g.UtilPct) || g.UtilPct < 5:
			idle++
		case g.UtilPct >= 96 && g.MemTotalMiB > 0 && g.MemUsedMiB >= 0.9*g.MemTotalMiB:
			batch++
		default:
			inference++
		}
	}
	return
}
