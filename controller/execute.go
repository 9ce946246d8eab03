package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/store"
)

// reconcile runs the pure state machine and carries out its steps: journal
// first, then hardware, so a controller killed between the two finds the
// action dispatched and waits for telemetry (or the timeout) instead of
// sending it again.
func (c *Controller) reconcile(ctx context.Context, now time.Time, obs map[string]Observation, v feed.Verdict) error {
	c.mu.Lock()
	desired := make(map[string]store.Desired, len(c.desired))
	for k, d := range c.desired {
		desired[k] = d
	}
	open := make(map[string]store.Action, len(c.open))
	for k, a := range c.open {
		open[k] = a
	}
	mem := c.mem
	var latest int64
	if c.lastDec != nil {
		latest = c.lastDec.ID
	}
	c.mu.Unlock()

	steps, mem := Reconcile(ReconcileInput{Now: now, Params: c.cfg.Params, Units: c.units, Desired: desired, Obs: obs, Open: open, Mem: mem, DecisionID: latest})
	price, _ := prices(v)
	var errs []error
	var dispatch []store.Action
	var froms []store.ActionState
	var whys []string
	ids := map[string]string{} // created id → journalled id
	failed := map[string]bool{}
	for _, s := range steps {
		switch s.Kind {
		case StepCreate:
			a, err := c.create(ctx, s.Action)
			if err != nil {
				errs = append(errs, err)
				failed[s.Action.ID] = true
				continue
			}
			ids[s.Action.ID] = a.ID
			open[a.Target] = a
		case StepDispatch:
			id := s.Action.ID
			if failed[id] {
				continue
			}
			if nid, ok := ids[id]; ok {
				id = nid
			}
			a := s.Action
			a.ID = id
			dispatch = append(dispatch, a)
			froms = append(froms, s.From)
			whys = append(whys, s.Reason)
		default:
			a, err := c.cfg.Store.Transition(ctx, s.Action.ID, s.From, s.To, now, s.Reason, "")
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", s.Kind, s.Action.ID, err))
				c.reload(ctx)
				continue
			}
			if a.State.Open() {
				open[a.Target] = a
			} else {
				delete(open, a.Target)
			}
			c.mu.Lock()
			switch s.Kind {
			case StepConfirm:
				c.counters.Confirmed++
			case StepDrift:
				c.counters.Drifted++
			case StepFail:
				c.counters.Failed++
				c.raise("failed-"+a.Target, "warning", fmt.Sprintf("%s %s failed: %s", a.Command, a.Target, s.Reason))
			}
			c.mu.Unlock()
			if err := c.audit(ctx, now, a, string(s.Kind)+" "+a.Command, s.Reason, price); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.mu.Lock()
	c.open, c.mem = open, mem
	c.mu.Unlock()
	if len(dispatch) > 0 {
		errs = append(errs, c.send(ctx, now, dispatch, froms, whys, price)...)
	}
	return errors.Join(errs...)
}

// create journals a new action. Its id is the idempotency key
// d<decision>:<target>:<command>; when that key already names a settled
// action (the same decision asks again after a drift or a cancel) a
// generation suffix keeps keys unique and deterministic.
func (c *Controller) create(ctx context.Context, a store.Action) (store.Action, error) {
	base := a.ID
	for gen := 1; gen <= 100; gen++ {
		if gen > 1 {
			a.ID = fmt.Sprintf("%s#%d", base, gen)
		}
		got, created, err := c.cfg.Store.PutAction(ctx, a)
		if errors.Is(err, store.ErrInFlight) {
			c.reload(ctx)
			return store.Action{}, fmt.Errorf("create %s: %w", a.ID, err)
		}
		if err != nil {
			return store.Action{}, fmt.Errorf("create %s: %w", a.ID, err)
		}
		if created || got.State.Open() {
			if created && strings.HasPrefix(a.Reason, "drift:") {
				c.mu.Lock()
				c.counters.Drifted++
				c.mu.Unlock()
			}
			return got, nil
		}
	}
	return store.Action{}, fmt.Errorf("create %s: 100 generations of this key already settled", base)
}

// reload re-reads the open actions after the journal disagreed with memory
// (another writer, or a failed write).
func (c *Controller) reload(ctx context.Context) {
	open, err := c.cfg.Store.OpenActions(ctx)
	if err != nil {
		c.log.Error("reload open actions", "err", err)
		return
	}
	m := make(map[string]store.Action, len(open))
	for _, a := range open {
		m[a.Target] = a
	}
	c.mu.Lock()
	c.open = m
	c.mu.Unlock()
}

// send carries out the dispatches in parallel. For each action the journal
// moves to dispatched first, then the command goes out: a controller killed
// between the two finds it dispatched and waits for telemetry or the
// timeout, never sending twice. A send error moves the action to drifted
// (re-sent after the cooldown, up to MaxAttempts); success leaves it
// dispatched until telemetry confirms it. The journal writes of one action
// overlap the network round trips of others.
func (c *Controller) send(ctx context.Context, now time.Time, as []store.Action, froms []store.ActionState, reasons []string, price float64) []error {
	errs := make([]error, len(as))
	miner.Each(len(as), c.cfg.Concurrency, func(i int) {
		errs[i] = c.sendOne(ctx, now, as[i], froms[i], reasons[i], price)
	})
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func (c *Controller) sendOne(ctx context.Context, now time.Time, a store.Action, from store.ActionState, reason string, price float64) error {
	a, err := c.cfg.Store.Transition(ctx, a.ID, from, store.Dispatched, now, reason, "")
	if err != nil {
		c.reload(ctx)
		return fmt.Errorf("dispatch: %w", err)
	}
	c.mu.Lock()
	c.open[a.Target] = a
	c.mu.Unlock()
	fm := c.cfg.Fleet[c.byID[a.Target]]
	cctx, cancel := context.WithTimeout(ctx, 2*c.cfg.PollTimeout)
	var outcome miner.Outcome
	var serr error
	switch a.Command {
	case CmdSleep:
		outcome, serr = fm.Miner.Sleep(cctx)
	case CmdWake:
		outcome, serr = fm.Miner.Wake(cctx)
	case CmdProfile:
		outcome, serr = setProfile(cctx, fm, a.Args)
	default:
		serr = fmt.Errorf("unknown command %q", a.Command)
	}
	cancel()
	detail := "sent; awaiting telemetry"
	if a.Command == CmdProfile {
		if p, ok := fm.Unit.profile(a.Args); ok {
			detail = fmt.Sprintf("power target %.0f W (profile %s) sent; awaiting telemetry within %.0f %%", p.W, p.Name, 100*c.cfg.Params.withDefaults().ProfileTolerance)
		}
	}
	var out []error
	switch {
	case serr != nil:
		detail = "send failed: " + serr.Error()
		na, err := c.cfg.Store.Transition(ctx, a.ID, store.Dispatched, store.Drifted, c.cfg.Now(), "send failed", serr.Error())
		if err != nil {
			out = append(out, fmt.Errorf("%s: %w", a.ID, err))
		} else {
			c.mu.Lock()
			c.open[a.Target] = na
			c.counters.Drifted++
			c.mu.Unlock()
		}
	case outcome == miner.AlreadyDone:
		detail = "firmware already in state; nothing sent; awaiting telemetry"
	default:
		c.mu.Lock()
		c.counters.Sent++
		c.mu.Unlock()
	}
	if err := c.audit(ctx, now, a, "dispatch "+a.Command, reason, price, detail); err != nil {
		out = append(out, err)
	}
	return errors.Join(out...)
}

func (c *Controller) audit(ctx context.Context, now time.Time, a store.Action, action, reason string, price float64, detail ...string) error {
	e := store.AuditEntry{Time: now, Actor: "controller", Action: action, Target: a.Target, Reason: reason,
		PriceUSDMWh: price, DecisionID: a.DecisionID, ActionID: a.ID}
	if len(detail) > 0 {
		e.Detail = detail[0]
	}
	if _, err := c.cfg.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", a.ID, err)
	}
	return nil
}

// Tuner is what a profile command needs of a miner: a power target, or a
// named profile where the firmware has no targets (stock Antminer modes).
// miner.Miner satisfies it.
type Tuner interface {
	SetPowerTarget(ctx context.Context, watts int) (miner.Outcome, error)
	SetProfile(ctx context.Context, profile string) (miner.Outcome, error)
}

var _ Tuner = (miner.Miner)(nil)

// setProfile sends a profile as a power target of its watts, falling back
// to the profile's name on firmware without power targets.
func setProfile(ctx context.Context, fm FleetMiner, name string) (miner.Outcome, error) {
	t, ok := fm.Miner.(Tuner)
	if !ok {
		return miner.Sent, fmt.Errorf("miner %s: %w: power profiles", fm.Unit.ID, miner.ErrUnsupported)
	}
	p, ok := fm.Unit.profile(name)
	if !ok {
		return miner.Sent, fmt.Errorf("miner %s: no profile %q in tier", fm.Unit.ID, name)
	}
	out, err := t.SetPowerTarget(ctx, int(math.Round(p.W)))
	if errors.Is(err, miner.ErrUnsupported) {
		return t.SetProfile(ctx, p.Name)
	}
	return out, err
}
