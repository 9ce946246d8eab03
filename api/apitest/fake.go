// Package apitest provides fakes of the api package's Site and History
// interfaces, built from function fields, plus a deterministic example site
// for tests of the API and the dashboard.
package apitest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/store"
)

// ErrNotImplemented is returned by a fake method whose function is nil.
var ErrNotImplemented = errors.New("apitest: not implemented")

// Site is an api.Site whose methods call the function fields.
type Site struct {
	SnapshotFunc       func(ctx context.Context) (api.Snapshot, error)
	MinersFunc         func(ctx context.Context) ([]api.Miner, error)
	RequestCurtailFunc func(ctx context.Context, r api.CurtailRequest) (int64, error)
	SetManualPriceFunc func(ctx context.Context, p api.ManualPrice) error
	SetOverrideFunc    func(ctx context.Context, o api.Override) error
}

var _ api.Site = (*Site)(nil)

// Snapshot implements api.Site.
func (s *Site) Snapshot(ctx context.Context) (api.Snapshot, error) {
	if s.SnapshotFunc == nil {
		return api.Snapshot{}, ErrNotImplemented
	}
	return s.SnapshotFunc(ctx)
}

// Miners implements api.Site.
func (s *Site) Miners(ctx context.Context) ([]api.Miner, error) {
	if s.MinersFunc == nil {
		return nil, ErrNotImplemented
	}
	return s.MinersFunc(ctx)
}

// RequestCurtail implements api.Site.
func (s *Site) RequestCurtail(ctx context.Context, r api.CurtailRequest) (int64, error) {
	if s.RequestCurtailFunc == nil {
		return 0, ErrNotImplemented
	}
	return s.RequestCurtailFunc(ctx, r)
}

// SetManualPrice implements api.Site.
func (s *Site) SetManualPrice(ctx context.Context, p api.ManualPrice) error {
	if s.SetManualPriceFunc == nil {
		return ErrNotImplemented
	}
	return s.SetManualPriceFunc(ctx, p)
}

// SetOverride implements api.Site.
func (s *Site) SetOverride(ctx context.Context, o api.Override) error {
	if s.SetOverrideFunc == nil {
		return ErrNotImplemented
	}
	return s.SetOverrideFunc(ctx, o)
}

// History is an api.History whose methods call the function fields.
type History struct {
	DecisionsFunc func(ctx context.Context, f store.Filter) ([]store.Decision, error)
	AuditFunc     func(ctx context.Context, f store.Filter) ([]store.AuditEntry, error)
	SeriesFunc    func(ctx context.Context, q store.SeriesQuery) ([]store.Point, error)
	GridEventFunc func(ctx context.Context, id int64) (store.GridEvent, error)
}

var _ api.History = (*History)(nil)

// Decisions implements api.History.
func (h *History) Decisions(ctx context.Context, f store.Filter) ([]store.Decision, error) {
	if h.DecisionsFunc == nil {
		return nil, ErrNotImplemented
	}
	return h.DecisionsFunc(ctx, f)
}

// Audit implements api.History.
func (h *History) Audit(ctx context.Context, f store.Filter) ([]store.AuditEntry, error) {
	if h.AuditFunc == nil {
		return nil, ErrNotImplemented
	}
	return h.AuditFunc(ctx, f)
}

// Series implements api.History.
func (h *History) Series(ctx context.Context, q store.SeriesQuery) ([]store.Point, error) {
	if h.SeriesFunc == nil {
		return nil, ErrNotImplemented
	}
	return h.SeriesFunc(ctx, q)
}

// GridEvent implements api.History.
func (h *History) GridEvent(ctx context.Context, id int64) (store.GridEvent, error) {
	if h.GridEventFunc == nil {
		return store.GridEvent{}, ErrNotImplemented
	}
	return h.GridEventFunc(ctx, id)
}

// Example is a deterministic 100 MW site at Now: a fake Site and History
// whose answers are consistent with each other (the power series ends at
// the snapshot's power), for tests of the API and the dashboard.
type Example struct {
	Now    time.Time
	Site   *Site
	Hist   *History
	mu     sync.Mutex
	Events map[int64]store.GridEvent
	// Calls records the mutating requests received, for assertions.
	Calls []any
}

// NewExample builds the example site.
func NewExample(now time.Time) *Example {
	e := &Example{Now: now, Events: map[int64]store.GridEvent{}}
	models := []struct {
		model, fw      string
		ths, w, chip   float64
		count          int
		state, desired string
	}{
		{"Antminer S21", "LuxOS 2024.11", 200, 3500, 68, 6, "hashing", "hashing"},
		{"Antminer S19 XP", "Braiins OS+ 24.02", 141, 3032, 71, 5, "hashing", "hashing"},
		{"Antminer S19j Pro", "stock 2023", 104, 3068, 74, 5, "sleeping", "sleeping"},
		{"Whatsminer M50S", "API v3", 126, 3276, 70, 4, "hashing", "sleeping"},
	}
	var miners []api.Miner
	for _, m := range models {
		for i := range m.count {
			n := len(miners)
			mi := api.Miner{ID: fmt.Sprintf("m%03d", n), Address: fmt.Sprintf("127.0.1.%d", n+1), Model: m.model, Firmware: m.fw,
				Tier: m.model, State: m.state, Desired: m.desired, Health: api.HealthOK, HashrateTHs: m.ths, PowerW: m.w, ChipC: m.chip,
				LastSeen: now.Add(-time.Duration(5+i) * time.Second)}
			if m.state == "sleeping" {
				mi.HashrateTHs, mi.PowerW, mi.ChipC = 0, 25, 31
			}
			if m.state != m.desired {
				mi.Pending = fmt.Sprintf("d41:%s:sleep", mi.ID)
			}
			miners = append(miners, mi)
		}
	}
	miners[3].Health, miners[3].Errors = api.HealthWarning, []string{"fan 2 at 0 RPM"}
	miners[3].Risk = &api.Risk{Score: 0.87, Alarm: true, Kind: "fan_wear", TTFHours: 4.9,
		Reason: "fan_wear 0.87: fan 2 runs 10.9 % below the other fans at the same command"}
	miners[4].Risk = &api.Risk{Score: 0.04, Kind: "none"}
	miners[9].Health, miners[9].State, miners[9].HashrateTHs, miners[9].PowerW = api.HealthOffline, "offline", 0, 0
	power := api.Power{MiningMW: 61.8, AIMW: 4.6, GridMW: 0, CurtailedMW: 28.1}
	snap := api.Snapshot{Time: now, Site: "Reference 100 MW", Policy: "joule", Mode: "auto", CapMW: 100, Power: power,
		PriceUSDMWh: 87.4, HashpriceUSDTHDay: 0.0491, HashrateTHs: 3.31e6, // 61.8 MW of miners at ~18.7 J/TH
		Today: api.Revenue{MiningUSD: 21480.12, AIUSD: 6120.50, AncillaryUSD: 1390, EnergyCostUSD: 14230.77},
		Feeds: feed.Evaluate(feed.Hold, now,
			feed.State{Name: "ercot HB_HUBAVG", Role: "price", MaxAge: 30 * time.Minute, Have: true, Reading: feed.Reading{Value: 87.4, At: now.Add(-7 * time.Minute)}},
			feed.State{Name: "hashprice file", Role: "hashprice", MaxAge: 48 * time.Hour, Have: true, Reading: feed.Reading{Value: 0.0491, At: now.Add(-3 * time.Hour)}}),
		MinerStates: map[string]int{"hashing": 14, "sleeping": 5, "offline": 1},
		GPUs:        api.GPUs{Total: 32, Inference: 21, Batch: 6, Idle: 5, PowerMW: 0.0168},
		Backlog:     4, Commands: api.Commands{Sent: 312, Confirmed: 301, Drifted: 6, Failed: 1},
		Alerts: []api.Alert{{Name: "fan_degraded", Severity: "warning", Message: "m003 fan 2 at 0 RPM", Since: now.Add(-40 * time.Minute)}},
	}
	t := snap.Today
	snap.Today.ProfitUSD = t.MiningUSD + t.AIUSD + t.AncillaryUSD + t.ResaleUSD - t.EnergyCostUSD
	// Run rate: hashrate × hashprice per hour + inference GPUs × $/GPU-h − MW × price.
	snap.ProfitUSDPerHour = snap.HashrateTHs*snap.HashpriceUSDTHDay/24 + 21*2.1 - (power.MiningMW+power.AIMW)*snap.PriceUSDMWh
	decisions := []store.Decision{}
	for i := range 12 {
		at := now.Add(-time.Duration(i) * 5 * time.Minute)
		d := store.Decision{ID: int64(41 - i), Time: at, Policy: "joule", PriceUSDMWh: 87.4 - float64(i)*3, HashpriceUSD: 0.0491,
			MW:      map[string]float64{"mining": 61.8 + float64(i), "ai": 4.6, "curtailed": 28.1 - float64(i)},
			Reasons: []string{fmt.Sprintf("price %.1f $/MWh above S19j Pro breakeven 66.4: sleep tier", 87.4-float64(i)*3), "AI inference 21 GPUs served first"}}
		decisions = append(decisions, d)
	}
	e.Site = &Site{
		SnapshotFunc: func(context.Context) (api.Snapshot, error) { return snap, nil },
		MinersFunc:   func(context.Context) ([]api.Miner, error) { return miners, nil },
		RequestCurtailFunc: func(_ context.Context, r api.CurtailRequest) (int64, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.Calls = append(e.Calls, r)
			id := int64(len(e.Events) + 1)
			e.Events[id] = store.GridEvent{ID: id, Source: "api", Requester: r.Actor, RequestedMW: r.MW, Deadline: r.Deadline,
				Reason: r.Reason, CreatedAt: now, State: store.EventOpen, BaselineMW: power.MiningMW + power.AIMW}
			return id, nil
		},
		SetManualPriceFunc: func(_ context.Context, p api.ManualPrice) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.Calls = append(e.Calls, p)
			return nil
		},
		SetOverrideFunc: func(_ context.Context, o api.Override) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.Calls = append(e.Calls, o)
			return nil
		},
	}
	e.Hist = &History{
		DecisionsFunc: func(_ context.Context, f store.Filter) ([]store.Decision, error) {
			return decisions[:min(len(decisions), f.EffectiveLimit())], nil
		},
		AuditFunc: func(context.Context, store.Filter) ([]store.AuditEntry, error) {
			return []store.AuditEntry{{ID: 1, Time: now, Actor: "controller", Action: "dispatch sleep", Target: "m016", Reason: "decision 41", PriceUSDMWh: 87.4, DecisionID: 41}}, nil
		},
		SeriesFunc: func(_ context.Context, q store.SeriesQuery) ([]store.Point, error) {
			return exampleSeries(q, now, snap)
		},
		GridEventFunc: func(_ context.Context, id int64) (store.GridEvent, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			ev, ok := e.Events[id]
			if !ok {
				return ev, fmt.Errorf("grid event %d: %w", id, store.ErrNotFound)
			}
			return ev, nil
		},
	}
	return e
}

// exampleSeries is six hours of a day with an afternoon price spike: miners
// curtail as the price rises, AI load holds.
func exampleSeries(q store.SeriesQuery, now time.Time, snap api.Snapshot) ([]store.Point, error) {
	if _, err := store.MetricColumn(q); err != nil {
		return nil, err
	}
	step := time.Minute
	if q.Resolution == store.Hour {
		step = time.Hour
	}
	var out []store.Point
	for t := q.From.Truncate(step); t.Before(q.To) && !t.After(now); t = t.Add(step) {
		if t.Before(q.From) {
			continue
		}
		x := float64(now.Sub(t)) / float64(6*time.Hour) // 1 → 0 over the window
		spike := math.Exp(-math.Pow((x-0.35)/0.08, 2))
		price := 32 + 12*math.Sin(x*9) + 380*spike
		mining := 92 - 60*spike - 30*(1-x)*0.3
		ai := 4.2 + 0.4*math.Sin(x*20)
		var v float64
		switch q.Metric {
		case "price":
			v = price
		case "hashprice":
			v = 0.0491 + 0.0004*math.Sin(x*3)
		case "mining_mw":
			v = mining
		case "ai_mw":
			v = ai
		case "curtailed_mw":
			v = math.Max(0, snap.CapMW-mining-ai-3)
		case "cap_mw":
			v = snap.CapMW
		default:
			v = 0
		}
		out = append(out, store.Point{Time: t, Value: math.Round(v*1000) / 1000, N: 4})
	}
	if len(out) > 0 && q.Kind == store.KindSite {
		last := &out[len(out)-1]
		switch q.Metric {
		case "mining_mw":
			last.Value = snap.Power.MiningMW
		case "ai_mw":
			last.Value = snap.Power.AIMW
		case "curtailed_mw":
			last.Value = snap.Power.CurtailedMW
		case "price":
			last.Value = snap.PriceUSDMWh
		}
	}
	return out, nil
}
