package api

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collector turns a Site snapshot into Prometheus metrics at scrape time, so
// the controller keeps one source of truth (its snapshot) and /metrics can
// never drift from /api/v1/status. Units are Prometheus base units: watts,
// hashes per second.
type collector struct {
	s       *Server
	errs    prometheus.Counter
	descs   map[string]*prometheus.Desc
	timeout time.Duration
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

func newCollector(s *Server) *collector {
	return &collector{
		s:       s,
		timeout: 5 * time.Second,
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "joule_snapshot_errors_total", Help: "Scrapes for which the controller snapshot failed.",
		}),
		descs: map[string]*prometheus.Desc{
			"power":     desc("joule_site_power_watts", "Site power by workload (mining, ai, grid resale, curtailed).", "workload"),
			"cap":       desc("joule_site_cap_watts", "Grid interconnect cap."),
			"hashrate":  desc("joule_hashrate_hashes_per_second", "Fleet hashrate."),
			"price":     desc("joule_price_usd_per_mwh", "Power price in use by the controller, $/MWh."),
			"hashprice": desc("joule_hashprice_usd_per_th_day", "Hashprice in use, $ per TH/s per day."),
			"profit":    desc("joule_profit_usd_per_hour", "Current profit run rate, $/h."),
			"today":     desc("joule_revenue_today_usd", "Money since local midnight by component (energy_cost is a cost; profit is the net).", "component"),
			"miners":    desc("joule_miners", "Miners by observed state.", "state"),
			"gpus":      desc("joule_gpus", "GPUs by role.", "role"),
			"backlog":   desc("joule_reconciler_backlog", "Open actions in the command journal (pending, dispatched, drifted)."),
			"commands":  desc("joule_commands_total", "Commands by outcome since the controller started.", "outcome"),
			"alerts":    desc("joule_alerts", "Active alerts by severity.", "severity"),
			"alert":     desc("joule_alert_active", "1 for each active alert.", "alert", "severity"),
			"failsafe":  desc("joule_failsafe_active", "1 while an input is stale and the fail-safe mode applies.", "mode"),
			"stale":     desc("joule_feed_stale", "1 when the source is stale.", "source", "role"),
			"age":       desc("joule_feed_age_seconds", "Age of the source's latest value.", "source", "role"),
		},
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	c.errs.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	defer c.errs.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	snap, err := c.s.cfg.Site.Snapshot(ctx)
	if err != nil {
		c.errs.Inc()
		c.s.cfg.Logger.Error("metrics snapshot", "err", err)
		return
	}
	g := func(name string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v, labels...)
	}
	const mw = 1e6
	g("power", snap.Power.MiningMW*mw, "mining")
	g("power", snap.Power.AIMW*mw, "ai")
	g("power", snap.Power.GridMW*mw, "grid")
	g("power", snap.Power.CurtailedMW*mw, "curtailed")
	g("cap", snap.CapMW*mw)
	g("hashrate", snap.HashrateTHs*1e12)
	g("price", snap.PriceUSDMWh)
	g("hashprice", snap.HashpriceUSDTHDay)
	g("profit", snap.ProfitUSDPerHour)
	t := snap.Today
	for _, kv := range []struct {
		k string
		v float64
	}{{"mining", t.MiningUSD}, {"ai", t.AIUSD}, {"ancillary", t.AncillaryUSD}, {"resale", t.ResaleUSD}, {"energy_cost", t.EnergyCostUSD}, {"profit", t.ProfitUSD}} {
		g("today", kv.v, kv.k)
	}
	states := make([]string, 0, len(snap.MinerStates))
	for st := range snap.MinerStates {
		states = append(states, st)
	}
	sort.Strings(states)
	for _, st := range states {
		g("miners", float64(snap.MinerStates[st]), st)
	}
	g("gpus", float64(snap.GPUs.Inference), "inference")
	g("gpus", float64(snap.GPUs.Batch), "batch")
	g("gpus", float64(snap.GPUs.Idle), "idle")
	g("backlog", float64(snap.Backlog))
	for _, kv := range []struct {
		k string
		v uint64
	}{{"sent", snap.Commands.Sent}, {"confirmed", snap.Commands.Confirmed}, {"drifted", snap.Commands.Drifted}, {"failed", snap.Commands.Failed}} {
		ch <- prometheus.MustNewConstMetric(c.descs["commands"], prometheus.CounterValue, float64(kv.v), kv.k)
	}
	bySev := map[string]int{"info": 0, "warning": 0, "critical": 0}
	seen := map[[2]string]bool{}
	for _, a := range snap.Alerts {
		bySev[a.Severity]++
		if key := [2]string{a.Name, a.Severity}; !seen[key] {
			seen[key] = true
			g("alert", 1, a.Name, a.Severity)
		}
	}
	for _, sev := range []string{"critical", "info", "warning"} {
		g("alerts", float64(bySev[sev]), sev)
	}
	active := 0.0
	if snap.Feeds.Active {
		active = 1
	}
	mode := string(snap.Feeds.Mode)
	if mode == "" {
		mode = "none"
	}
	g("failsafe", active, mode)
	seenSrc := map[[2]string]bool{}
	for _, s := range snap.Feeds.Sources {
		key := [2]string{s.Name, s.Role}
		if seenSrc[key] {
			continue
		}
		seenSrc[key] = true
		stale := 0.0
		if s.Stale {
			stale = 1
		}
		g("stale", stale, s.Name, s.Role)
		g("age", s.AgeS, s.Name, s.Role)
	}
}
