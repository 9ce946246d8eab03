package miner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Action is one command for a miner.
type Action struct {
	Kind    string // "sleep", "wake", "profile", "power", "reboot", "blink"
	Profile string // for "profile"
	Watts   int    // for "power"
	On      bool   // for "blink"
}

func (a Action) String() string {
	switch a.Kind {
	case "profile":
		return "profile " + a.Profile
	case "power":
		return fmt.Sprintf("power %d W", a.Watts)
	case "blink":
		if a.On {
			return "blink on"
		}
		return "blink off"
	}
	return a.Kind
}

// Do sends a to c.
func (a Action) Do(ctx context.Context, c Controller) (Outcome, error) {
	switch a.Kind {
	case "sleep":
		return c.Sleep(ctx)
	case "wake":
		return c.Wake(ctx)
	case "profile":
		return c.SetProfile(ctx, a.Profile)
	case "power":
		return c.SetPowerTarget(ctx, a.Watts)
	case "reboot":
		return c.Reboot(ctx)
	case "blink":
		return c.Blink(ctx, a.On)
	}
	return Sent, fmt.Errorf("unknown action %q", a.Kind)
}

// Want is the state that confirms the action, or "" when telemetry cannot
// confirm it (profiles, reboot, blink).
func (a Action) Want() State {
	switch a.Kind {
	case "sleep":
		return StateSleeping
	case "wake":
		return StateHashing
	}
	return ""
}

// CommandResult is the outcome of one command to one miner.
type CommandResult struct {
	Addr     string
	Dialect  Dialect
	Action   Action
	Outcome  Outcome
	Err      error
	Took     time.Duration
	Reading  *Reading // the confirming reading, when Confirm waited for one
	Confirms bool     // telemetry confirmed the wanted state
}

// Commander sends commands through a rate limiter and logs an audit line
// for each. Safe for concurrent use.
type Commander struct {
	Limiter *Limiter     // nil: no limit
	Log     *slog.Logger // nil: slog.Default()
	// Confirm, when positive, waits up to this long for telemetry to show
	// the wanted state, polling every ConfirmEvery.
	Confirm      time.Duration
	ConfirmEvery time.Duration
}

// Run sends a to m and returns what happened.
func (c *Commander) Run(ctx context.Context, m Miner, a Action) CommandResult {
	res := CommandResult{Addr: m.Target().Host, Dialect: m.Dialect(), Action: a}
	start := time.Now()
	if c.Limiter != nil {
		if err := c.Limiter.Wait(ctx); err != nil {
			res.Err = &Error{Addr: res.Addr, Op: a.String(), Err: fmt.Errorf("rate limiter: %w", err)}
			c.audit(ctx, res)
			return res
		}
	}
	res.Outcome, res.Err = a.Do(ctx, m)
	if res.Err == nil && c.Confirm > 0 && a.Want() != "" {
		cctx, cancel := context.WithTimeout(ctx, c.Confirm)
		r, err := WaitState(cctx, m, c.ConfirmEvery, a.Want())
		cancel()
		if err != nil {
			res.Err = err
		} else {
			res.Reading, res.Confirms = &r, true
		}
	}
	res.Took = time.Since(start)
	c.audit(ctx, res)
	return res
}

func (c *Commander) audit(ctx context.Context, r CommandResult) {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{"miner", r.Addr, "dialect", string(r.Dialect), "action", r.Action.String(),
		"outcome", r.Outcome.String(), "confirmed", r.Confirms, "took", r.Took.Round(time.Millisecond)}
	if r.Err != nil {
		log.WarnContext(ctx, "miner command failed", append(attrs, "err", r.Err.Error())...)
		return
	}
	log.InfoContext(ctx, "miner command", attrs...)
}

// WaitState polls r every `every` (default 1 s) until its State is one of
// want, returning that reading. Read errors are retried: a miner restarting
// its API is expected on the way. On timeout it returns the last reading
// and an error naming the state seen.
func WaitState(ctx context.Context, r Reader, every time.Duration, want ...State) (Reading, error) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last Reading
	var lastErr error
	for {
		rd, err := r.Read(ctx)
		if err == nil {
			last, lastErr = rd, nil
			for _, w := range want {
				if rd.State == w {
					return rd, nil
				}
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("waiting for %v: %w (last error: %v)", want, ctx.Err(), lastErr)
			}
			return last, &Error{Addr: last.Addr, Op: "confirm", Err: fmt.Errorf("still %s after waiting for %v: %w", last.State, want, ctx.Err())}
		case <-t.C:
		}
	}
}

// Limiter is a token bucket: Rate commands per second, bursts of Burst.
// Hardware commands are rate-limited so that a bad decision cannot switch a
// whole site's load at once.
type Limiter struct {
	rate  float64
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter allowing rate commands per second with
// bursts of burst (at least 1).
func NewLimiter(rate float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// Wait blocks until a command may go, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		if l.rate <= 0 {
			l.mu.Unlock()
			<-ctx.Done()
			return ctx.Err()
		}
		wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
