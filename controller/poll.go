package controller

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/store"
)

// observe turns a reading (or a read error) into an Observation dated by the
// controller's clock, so simulated and wall time never mix.
func observe(r miner.Reading, err error, now time.Time) Observation {
	if err != nil {
		return Observation{At: now, State: StateOffline}
	}
	o := Observation{At: now, State: string(r.State), PowerW: r.PowerW, HashrateTHs: r.HashrateTHs, ChipC: r.ChipMaxC}
	for _, e := range r.Errors {
		msg := e.Code
		if e.Message != "" {
			msg += " " + e.Message
		}
		o.Errors = append(o.Errors, strings.TrimSpace(msg))
	}
	return o
}

// poll reads the miners: all of them when a full sweep is due (every
// FullPollEvery), otherwise only those with an action in flight, whose
// telemetry confirms or drifts it. The others keep their last observation.
func (c *Controller) poll(ctx context.Context, now time.Time) map[string]Observation {
	c.mu.Lock()
	full := c.lastFull.IsZero() || now.Sub(c.lastFull) >= c.cfg.FullPollEvery || len(c.obs) == 0
	var idx []int
	if full {
		idx = make([]int, len(c.units))
		for i := range idx {
			idx[i] = i
		}
	} else {
		for i, u := range c.units {
			if _, ok := c.open[u.ID]; ok {
				idx = append(idx, i)
			}
		}
	}
	out := make(map[string]Observation, len(c.units))
	for k, o := range c.obs {
		out[k] = o
	}
	c.mu.Unlock()
	obs := make([]Observation, len(idx))
	reads := make([]miner.Reading, len(idx))
	errs := make([]error, len(idx))
	miner.Each(len(idx), c.cfg.Concurrency, func(j int) {
		i := idx[j]
		rctx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout)
		defer cancel()
		reads[j], errs[j] = c.cfg.Fleet[i].Miner.Read(rctx)
		obs[j] = observe(reads[j], errs[j], now)
	})
	c.mu.Lock()
	for j, i := range idx {
		out[c.units[i].ID] = obs[j]
		u := c.units[i]
		c.health.record(u, c.desired[u.ID].Profile, reads[j], errs[j], now)
	}
	if full {
		c.lastFull = now
	}
	c.mu.Unlock()
	return out
}

// pollGPUs reads every GPU source; a failing source is logged and skipped.
func (c *Controller) pollGPUs(ctx context.Context) []gpu.Sample {
	if len(c.cfg.GPUs) == 0 {
		return nil
	}
	p := gpu.Poller{Sources: c.cfg.GPUs, Timeout: c.cfg.PollTimeout}
	r := p.Poll(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(r.Errors) > 0 {
		for name, err := range r.Errors {
			c.raise("gpu-source-"+name, "warning", err.Error())
		}
	} else {
		for k := range c.alerts {
			if strings.HasPrefix(k, "gpu-source-") {
				delete(c.alerts, k)
			}
		}
	}
	return r.Samples
}

// raise records an alert (c.mu held); clear removes it.
func (c *Controller) raise(name, sev, msg string) {
	a, ok := c.alerts[name]
	if !ok {
		a.Since = c.cfg.Now()
	}
	a.Name, a.Severity, a.Message = name, sev, msg
	c.alerts[name] = a
}

func (c *Controller) clear(name string) { delete(c.alerts, name) }

// siteLoad is the site's observed draw by workload, in watts.
func (c *Controller) siteLoad(obs map[string]Observation, gpus []gpu.Sample) (miningW, aiW float64) {
	for _, u := range c.units {
		o := obs[u.ID]
		if o.Reachable() && !math.IsNaN(o.PowerW) {
			miningW += o.PowerW
		}
	}
	_, _, _, _, aiW = gpuSummary(gpus)
	return miningW, aiW
}

// writeTelemetry stores the sweep, the GPUs and the site sample, then keeps
// rollups current and applies retention hourly.
func (c *Controller) writeTelemetry(ctx context.Context, now time.Time, obs map[string]Observation, gpus []gpu.Sample, v feed.Verdict) error {
	c.mu.Lock()
	due := c.lastWrite.IsZero() || now.Sub(c.lastWrite) >= c.cfg.TelemetryEvery
	lastWrite, lastPrune := c.lastWrite, c.lastPrune
	c.mu.Unlock()
	if !due {
		return nil
	}
	st := c.cfg.Store
	ms := make([]store.MinerSample, 0, len(c.units))
	for _, u := range c.units {
		o := obs[u.ID]
		s := store.MinerSample{Time: now, MinerID: u.ID, HashrateTHs: o.HashrateTHs, PowerW: o.PowerW,
			InletC: math.NaN(), ChipC: o.ChipC, FanRPM: math.NaN(), State: o.State, Errors: strings.Join(o.Errors, ",")}
		if !o.Reachable() {
			s.HashrateTHs, s.PowerW, s.ChipC = math.NaN(), math.NaN(), math.NaN()
		}
		ms = append(ms, s)
	}
	if err := st.WriteMinerSamples(ctx, ms); err != nil {
		return err
	}
	if len(gpus) > 0 {
		gs := make([]store.GPUSample, len(gpus))
		for i, g := range gpus {
			gs[i] = g.Store(now)
		}
		if err := st.WriteGPUSamples(ctx, gs); err != nil {
			return err
		}
	}
	miningW, aiW := c.siteLoad(obs, gpus)
	price, hp := prices(v)
	c.mu.Lock()
	curtailed := c.curtailedW(obs) / 1e6
	c.mu.Unlock()
	if err := st.WriteSiteSamples(ctx, []store.SiteSample{{Time: now, MiningMW: miningW / 1e6, AIMW: aiW / 1e6,
		CurtailedMW: curtailed, CapMW: c.cfg.Site.InterconnectMW, PriceUSDMWh: price, HashpriceUSD: hp}}); err != nil {
		return err
	}
	// Every write ends with a rollup, so the last write is the last rollup.
	from := lastWrite
	if from.IsZero() {
		from = now.Add(-time.Hour)
	}
	// Recompute from one minute before the last rollup: that minute's
	// bucket was still filling then.
	if err := st.Rollup(ctx, from.Add(-time.Minute), now); err != nil {
		return err
	}
	if lastPrune.IsZero() || now.Sub(lastPrune) >= time.Hour {
		if _, err := st.Prune(ctx, now); err != nil {
			return err
		}
		lastPrune = now
	}
	c.mu.Lock()
	c.lastWrite, c.lastPrune = now, lastPrune
	c.mu.Unlock()
	return nil
}

// curtailedW is capacity held idle on purpose, as measured (c.mu held): for
// each reachable miner the controller wants asleep, its nameplate draw less
// what it still draws. Mining plus curtailed is then the fleet's capacity
// while a curtailment is under way, not double-counted.
func (c *Controller) curtailedW(obs map[string]Observation) float64 {
	w := 0.0
	for _, u := range c.units {
		o := obs[u.ID]
		if d, ok := c.desired[u.ID]; ok && d.State == WantSleeping && o.Reachable() {
			w += max(0, u.NominalW-o.PowerW)
		}
	}
	return w
}
