package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/store"
)

var _ api.Site = (*Controller)(nil)

// Snapshot implements api.Site.
func (c *Controller) Snapshot(ctx context.Context) (api.Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		return api.Snapshot{}, fmt.Errorf("%w: first poll not finished", api.ErrUnavailable)
	}
	sn := c.snap
	s := api.Snapshot{Time: sn.time, Site: c.cfg.Site.Name, Policy: c.policy.Name(), Mode: "auto", CapMW: c.cfg.Site.InterconnectMW,
		Power:       api.Power{MiningMW: round3(sn.miningW / 1e6), AIMW: round3(sn.gpuW / 1e6), CurtailedMW: sn.curtailedMW},
		PriceUSDMWh: sn.price, HashpriceUSDTHDay: sn.hp, HashrateTHs: math.Round(sn.hashrateTHs*10) / 10,
		ProfitUSDPerHour: round2(sn.rates.Profit()), Feeds: sn.verdict, MinerStates: map[string]int{},
		GPUs: api.GPUs{Total: sn.gpuTotal, Inference: sn.gpuInf, Batch: sn.gpuBatch, Idle: sn.gpuIdle, PowerMW: round3(sn.gpuW / 1e6),
			BatchTarget: max(c.jobs.target, 0), Jobs: c.jobs.apiJobs(c, sn.time)},
		Backlog:  len(c.open),
		Commands: api.Commands{Sent: c.counters.Sent, Confirmed: c.counters.Confirmed, Drifted: c.counters.Drifted, Failed: c.counters.Failed},
		Alerts:   []api.Alert{},
	}
	t := c.today
	s.Today = api.Revenue{MiningUSD: round2(t.mining), AIUSD: round2(t.ai), AncillaryUSD: round2(t.ancillary), ResaleUSD: round2(t.resale),
		EnergyCostUSD: round2(t.cost)}
	s.Today.ProfitUSD = round2(s.Today.MiningUSD + s.Today.AIUSD + s.Today.AncillaryUSD + s.Today.ResaleUSD - s.Today.EnergyCostUSD)
	if s.Power.MiningMW+s.Power.AIMW < c.cfg.Site.Volume() {
		s.Power.GridMW = round3(c.cfg.Site.Volume() - s.Power.MiningMW - s.Power.AIMW)
	}
	if o := c.override; o != nil && (o.Until.IsZero() || sn.time.Before(o.Until)) {
		s.Mode = o.Mode
		s.Override = &api.Override{Mode: o.Mode, Until: o.Until, Reason: o.Reason, Actor: o.Actor}
	} else if sn.verdict.Active {
		s.Mode = "failsafe:" + string(sn.verdict.Mode)
	}
	for _, u := range c.units {
		s.MinerStates[orDash(c.obs[u.ID].State)]++
	}
	names := make([]string, 0, len(c.alerts))
	for n := range c.alerts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := c.alerts[n]
		s.Alerts = append(s.Alerts, api.Alert{Name: a.Name, Severity: a.Severity, Message: a.Message, Since: a.Since})
	}
	for _, e := range c.events {
		if e.State == store.EventOpen || e.State == store.EventMissed {
			s.Alerts = append(s.Alerts, api.Alert{Name: fmt.Sprintf("grid-event-%d", e.ID), Severity: "warning",
				Message: fmt.Sprintf("grid event %d: shed %.2f of %.2f MW by %s", e.ID, e.AchievedMW, e.RequestedMW, e.Deadline.UTC().Format(time.RFC3339)), Since: e.CreatedAt})
		}
	}
	if c.lastDec != nil {
		d := *c.lastDec
		s.LastDecision = &d
	}
	return s, nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Miners implements api.Site.
func (c *Controller) Miners(ctx context.Context) ([]api.Miner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]api.Miner, 0, len(c.units))
	for _, u := range c.units {
		o := c.obs[u.ID]
		m := api.Miner{ID: u.ID, Address: u.Address, Model: u.Model, Firmware: u.Firmware, Tier: c.cfg.Site.Tiers[u.Tier].Name,
			State: orDash(o.State), Desired: c.desired[u.ID].State, Profile: c.desired[u.ID].Profile, HashrateTHs: round2(o.HashrateTHs), PowerW: math.Round(o.PowerW),
			ChipC: math.Round(o.ChipC*10) / 10, Errors: o.Errors}
		if a, ok := c.open[u.ID]; ok {
			m.Pending = a.ID
		}
		switch {
		case !o.Reachable():
			m.Health = api.HealthOffline
		case o.State == "fault":
			m.Health = api.HealthFault
		case len(o.Errors) > 0:
			m.Health = api.HealthWarning
		default:
			m.Health = api.HealthOK
		}
		if a, ok := c.health.risk[u.ID]; ok {
			m.Risk = apiRisk(a)
			if a.Alarm && m.Health == api.HealthOK {
				// A predicted failure is worth a look before it happens.
				m.Health = api.HealthWarning
			}
		}
		if o.Reachable() {
			m.LastSeen = o.At
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RequestCurtail implements api.Site.
func (c *Controller) RequestCurtail(ctx context.Context, r api.CurtailRequest) (int64, error) {
	id, err := c.Curtail(ctx, EventRequest{Source: "api", Requester: r.Actor, MW: r.MW, Deadline: r.Deadline, Reason: r.Reason})
	switch {
	case errors.Is(err, ErrEventInvalid):
		return 0, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	case errors.Is(err, ErrNotReady):
		return 0, fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return id, err
}

// SetManualPrice implements api.Site: it sets the manual price and
// hashprice sources, which must be the ones the feeds use.
func (c *Controller) SetManualPrice(ctx context.Context, p api.ManualPrice) error {
	now := c.cfg.Now()
	var did []string
	if p.PriceUSDMWh != nil {
		if c.cfg.ManualPrice == nil {
			return fmt.Errorf("%w: the price feed is %s, not manual", api.ErrConflict, c.cfg.Feeds.Price.Name())
		}
	}
	if p.HashpriceUSD != nil {
		if c.cfg.ManualHashprice == nil {
			return fmt.Errorf("%w: the hashprice feed is %s, not manual", api.ErrConflict, c.cfg.Feeds.Hashprice.Name())
		}
	}
	if p.PriceUSDMWh != nil {
		if err := c.cfg.ManualPrice.Set(*p.PriceUSDMWh, now, now); err != nil {
			return fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		did = append(did, fmt.Sprintf("price $%.2f/MWh", *p.PriceUSDMWh))
	}
	if p.HashpriceUSD != nil {
		if err := c.cfg.ManualHashprice.Set(*p.HashpriceUSD, now, now); err != nil {
			return fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		did = append(did, fmt.Sprintf("hashprice $%.4f/TH/day", *p.HashpriceUSD))
	}
	price := 0.0
	if p.PriceUSDMWh != nil {
		price = *p.PriceUSDMWh
	}
	if _, err := c.cfg.Store.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: p.Actor, Action: "set manual price",
		Reason: p.Reason, PriceUSDMWh: price, Detail: strings.Join(did, ", ")}); err != nil {
		return err
	}
	c.mu.Lock()
	c.decideNow = true
	c.mu.Unlock()
	return nil
}

// SetOverride implements api.Site. "auto" returns to the policy.
func (c *Controller) SetOverride(ctx context.Context, o api.Override) error {
	now := c.cfg.Now()
	detail := "mode " + o.Mode
	if !o.Until.IsZero() {
		detail += " until " + o.Until.UTC().Format(time.RFC3339)
	}
	if _, err := c.cfg.Store.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: o.Actor, Action: "override mode",
		Reason: o.Reason, PriceUSDMWh: c.currentPrice(), Detail: detail}); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o.Mode == "auto" {
		c.override = nil
	} else {
		c.override = &Override{Mode: o.Mode, Until: o.Until, Reason: o.Reason, Actor: o.Actor}
	}
	c.decideNow = true
	return nil
}
