package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/store"
)

// Grid events (demand response): a request to reduce the site's load by
// RequestedMW below its load when the request arrived (the baseline) before
// a deadline. While an event is in force the desired-state mapping caps the
// expected load at baseline − requested, sleeping the least efficient
// miners first and ignoring minimum on-times. The reduction achieved is
// measured from telemetry every tick: baseline − observed load.

// ErrEventInvalid is a grid event the site cannot act on.
var ErrEventInvalid = errors.New("invalid grid event")

// EventRequest asks for a load reduction.
type EventRequest struct {
	Source    string // api, mqtt
	Requester string
	MW        float64
	Deadline  time.Time
	Reason    string
}

// Curtail starts a grid event and returns its id. The next tick decides
// with the event's cap in force.
func (c *Controller) Curtail(ctx context.Context, r EventRequest) (int64, error) {
	now := c.cfg.Now()
	if !(r.MW > 0) || math.IsInf(r.MW, 0) {
		return 0, fmt.Errorf("%w: mw %v, want > 0", ErrEventInvalid, r.MW)
	}
	if !r.Deadline.After(now) {
		return 0, fmt.Errorf("%w: deadline %s is not in the future", ErrEventInvalid, r.Deadline.Format(time.RFC3339))
	}
	c.mu.Lock()
	if !c.started {
		c.mu.Unlock()
		return 0, fmt.Errorf("%w: the controller has not polled the site yet", ErrNotReady)
	}
	miningW, aiW := c.siteLoadLocked()
	c.mu.Unlock()
	base := (miningW + aiW) / 1e6
	var sleepW float64
	for _, u := range c.units {
		sleepW += u.SleepW
	}
	if floor := (sleepW + aiW) / 1e6; r.MW > base-floor+1e-9 {
		return 0, fmt.Errorf("%w: %.3f MW requested but at most %.3f MW of the %.3f MW load can be shed (sleeping miners and GPUs still draw power)",
			ErrEventInvalid, r.MW, math.Max(0, base-floor), base)
	}
	e := store.GridEvent{Source: r.Source, Requester: r.Requester, RequestedMW: r.MW, BaselineMW: round3(base),
		Deadline: r.Deadline, Reason: r.Reason, CreatedAt: now, State: store.EventOpen, UpdatedAt: now}
	// The ramp limit applies to grid events too (it protects the site's
	// electrical plant); say so when it makes the deadline unreachable.
	if ramp := c.cfg.Params.RampWPerMin; ramp > 0 {
		need := time.Duration(r.MW * 1e6 / ramp * float64(time.Minute))
		if need > r.Deadline.Sub(now) {
			e.Note = fmt.Sprintf("warning: at the ramp limit of %.3f MW/min shedding %.3f MW takes %s, past the deadline",
				ramp/1e6, r.MW, need.Round(time.Second))
		}
	}
	id, err := c.cfg.Store.CreateGridEvent(ctx, e)
	if err != nil {
		return 0, fmt.Errorf("grid event: %w", err)
	}
	e.ID = id
	if _, err := c.cfg.Store.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: r.Requester, Action: "curtail request",
		Reason: r.Reason, PriceUSDMWh: c.currentPrice(),
		Detail: fmt.Sprintf("event %d via %s: shed %.3f MW from %.3f MW by %s", id, r.Source, r.MW, base, r.Deadline.UTC().Format(time.RFC3339))}); err != nil {
		return 0, fmt.Errorf("grid event: audit: %w", err)
	}
	c.mu.Lock()
	c.events = append(c.events, e)
	c.decideNow = true
	c.mu.Unlock()
	c.notify(e)
	c.log.Info("grid event", "id", id, "source", r.Source, "mw", r.MW, "baseline_mw", base, "deadline", r.Deadline)
	return id, nil
}

// ErrNotReady means the controller has not completed its first tick.
var ErrNotReady = errors.New("controller not ready")

func (c *Controller) siteLoadLocked() (miningW, aiW float64) {
	for _, u := range c.units {
		if o := c.obs[u.ID]; o.Reachable() {
			miningW += o.PowerW
		}
	}
	return miningW, c.snap.gpuW
}

func (c *Controller) currentPrice() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap.price
}

// capMargin is how far past a grid event's request the cap aims.
const capMargin = 1.01

// gridCap is the load cap of the events in force (c.mu held): the tightest
// baseline − requested. Zero when none.
func (c *Controller) gridCap() (float64, string) {
	capW, why := 0.0, ""
	for _, e := range c.events {
		if e.State == store.EventEnded || e.State == store.EventCancelled {
			continue
		}
		// Aim 1 % past the request so meter noise does not leave the
		// event just short.
		w := math.Max(0, (e.BaselineMW-capMargin*e.RequestedMW)*1e6)
		if capW == 0 || w < capW {
			capW, why = w, fmt.Sprintf("grid event %d (%s)", e.ID, e.Source)
		}
	}
	return capW, why
}

// trackEvents measures each event's reduction and moves its state:
// achieved when the reduction first reaches the request, missed when the
// deadline passes short of it, ended GridHold after the deadline (load may
// return, so the policy decides again).
func (c *Controller) trackEvents(ctx context.Context, now time.Time, obs map[string]Observation, gpus []gpu.Sample) error {
	c.mu.Lock()
	if len(c.events) == 0 {
		c.mu.Unlock()
		return nil
	}
	evs := append([]store.GridEvent(nil), c.events...)
	c.mu.Unlock()
	miningW, aiW := c.siteLoad(obs, gpus)
	load := (miningW + aiW) / 1e6
	var keep []store.GridEvent
	var errs []error
	ended := false
	for _, e := range evs {
		before := e
		e.AchievedMW = round3(math.Max(0, e.BaselineMW-load))
		switch {
		case e.AchievedAt.IsZero() && e.AchievedMW+1e-9 >= e.RequestedMW:
			e.AchievedAt = now
			if !now.After(e.Deadline) {
				e.State = store.EventAchieved
				e.Note = fmt.Sprintf("%.3f MW shed in %s", e.AchievedMW, now.Sub(e.CreatedAt).Round(time.Second))
			} else {
				e.Note = fmt.Sprintf("target reached %s after the deadline", now.Sub(e.Deadline).Round(time.Second))
			}
		case e.AchievedAt.IsZero() && now.After(e.Deadline) && e.State == store.EventOpen:
			e.State = store.EventMissed
			e.Note = fmt.Sprintf("deadline passed with %.3f of %.3f MW shed", e.AchievedMW, e.RequestedMW)
		}
		if now.Sub(e.Deadline) >= c.cfg.GridHold {
			e.State = store.EventEnded
			e.Note += fmt.Sprintf("; released after holding %s past the deadline", c.cfg.GridHold)
			ended = true
		}
		if e.State != before.State || e.AchievedAt != before.AchievedAt || math.Abs(e.AchievedMW-before.AchievedMW) >= 0.001 {
			e.UpdatedAt = now
			if err := c.cfg.Store.UpdateGridEvent(ctx, e); err != nil {
				errs = append(errs, fmt.Errorf("grid event %d: %w", e.ID, err))
			}
			if e.State != before.State {
				c.log.Info("grid event", "id", e.ID, "state", e.State, "achieved_mw", e.AchievedMW, "note", e.Note)
				c.notify(e)
			}
		}
		if e.State != store.EventEnded {
			keep = append(keep, e)
		}
	}
	c.mu.Lock()
	c.events = keep
	if ended {
		c.decideNow = true
	}
	// Closed loop: an event still short of its target with nothing in
	// flight means the estimate was off (sleep draw, meter noise); decide
	// again on what telemetry now shows.
	for _, e := range keep {
		if e.AchievedAt.IsZero() && len(c.open) == 0 && now.Sub(c.lastDecide) >= c.cfg.Interval {
			c.decideNow = true
		}
	}
	c.mu.Unlock()
	return errors.Join(errs...)
}

// EventListener is told when a grid event changes state (the MQTT bridge
// publishes it).
type EventListener func(e store.GridEvent)

// OnEvent registers a listener for grid event changes.
func (c *Controller) OnEvent(l EventListener) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, l)
}

func (c *Controller) notify(e store.GridEvent) {
	c.mu.Lock()
	ls := append([]EventListener(nil), c.listeners...)
	c.mu.Unlock()
	for _, l := range ls {
		l(e)
	}
}

// GridEvent returns an event as last measured.
func (c *Controller) GridEvent(ctx context.Context, id int64) (store.GridEvent, error) {
	c.mu.Lock()
	for _, e := range c.events {
		if e.ID == id {
			c.mu.Unlock()
			return e, nil
		}
	}
	c.mu.Unlock()
	return c.cfg.Store.GridEvent(ctx, id)
}
