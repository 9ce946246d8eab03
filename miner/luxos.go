package miner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// luxOS controls LUXminer through its 4028 API: commands that change the
// miner need a session from `logon`, and only one session may be open, so
// every command logs on, acts and always logs off.
type luxOS struct{ *base }

var _ Miner = (*luxOS)(nil)

func (l *luxOS) Read(ctx context.Context) (Reading, error) {
	rs, err := l.cg.Multi(ctx, l.pollCommands("summary", "stats", "power", "config")...)
	if err != nil {
		return Reading{}, err
	}
	r := l.newReading()
	sleep := fromCGMiner(&r, rs)
	if c := first(rs, "config", "CONFIG"); c != nil {
		// LuxOS names its profile and curtail mode in config.
		if p := strOf(c, "Profile"); p != "" {
			r.Profile = p
		}
		if strings.EqualFold(strOf(c, "CurtailMode"), "sleep") {
			sleep = true
		}
	}
	l.finish(&r, sleep)
	return r, nil
}

// session runs fn inside a logon/logoff pair. Logoff runs even when ctx is
// cancelled or fn fails, because a leaked session locks out every other
// controller until it times out.
func (l *luxOS) session(ctx context.Context, fn func(sid string) error) error {
	resp, err := l.cg.Do(ctx, "logon")
	if err != nil {
		return err
	}
	sid := strOf(resp.First("SESSION"), "SessionID")
	if sid == "" {
		return &Error{Addr: l.cg.Addr, Op: "logon", Err: fmt.Errorf("%w: no SessionID in reply", ErrBadReply)}
	}
	ferr := fn(sid)
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(l.cg.Timeout))
	defer cancel()
	if _, err := l.cg.Do(lctx, "logoff", sid); err != nil && ferr == nil {
		return err
	}
	return ferr
}

func (l *luxOS) Sleep(ctx context.Context) (Outcome, error) {
	return ensure(ctx, l, asleep, func() error {
		return l.session(ctx, func(sid string) error {
			_, err := l.cg.Do(ctx, "curtail", sid, "sleep")
			return err
		})
	})
}

func (l *luxOS) Wake(ctx context.Context) (Outcome, error) {
	return ensure(ctx, l, awake, func() error {
		return l.session(ctx, func(sid string) error {
			_, err := l.cg.Do(ctx, "curtail", sid, "wakeup")
			return err
		})
	})
}

// luxProfile is one entry of `profiles`.
type luxProfile struct {
	Name  string
	Watts float64
}

func (l *luxOS) profiles(ctx context.Context) ([]luxProfile, error) {
	resp, err := l.cg.Do(ctx, "profiles")
	if err != nil {
		return nil, err
	}
	var out []luxProfile
	for _, p := range resp.Section("PROFILES") {
		out = append(out, luxProfile{Name: strOf(p, "Profile Name", "Name"), Watts: floatOf(p, "Watts")})
	}
	return out, nil
}

// currentProfile reads the profile of board 0; profileset applies to all
// boards, so one board tells.
func (l *luxOS) currentProfile(ctx context.Context) (string, error) {
	resp, err := l.cg.Do(ctx, "profileget", "0")
	if err != nil {
		return "", err
	}
	for k, v := range resp.Body {
		if strings.EqualFold(k, "STATUS") {
			continue
		}
		if list, ok := v.([]any); ok && len(list) > 0 {
			if m, ok := list[0].(map[string]any); ok {
				if name := strOf(m, "Profile Name", "Profile", "Name"); name != "" {
					return name, nil
				}
			}
		}
	}
	return "", &Error{Addr: l.cg.Addr, Op: "profileget", Err: fmt.Errorf("%w: no profile name in reply", ErrBadReply)}
}

// SetProfile turns ATM off (LuxOS refuses manual profiles while the
// auto-tuner runs) and applies the profile to all boards.
func (l *luxOS) SetProfile(ctx context.Context, profile string) (Outcome, error) {
	cur, err := l.currentProfile(ctx)
	if err != nil {
		return Sent, err
	}
	if cur == profile {
		return AlreadyDone, nil
	}
	atmOn, err := l.atmEnabled(ctx)
	if err != nil {
		return Sent, err
	}
	return Sent, l.session(ctx, func(sid string) error {
		if atmOn {
			if _, err := l.cg.Do(ctx, "atmset", sid, "enabled=false"); err != nil {
				return err
			}
		}
		_, err := l.cg.Do(ctx, "profileset", sid, profile)
		return err
	})
}

func (l *luxOS) atmEnabled(ctx context.Context) (bool, error) {
	resp, err := l.cg.Do(ctx, "atm")
	if err != nil {
		return false, err
	}
	v, ok := Lookup(resp.First("ATM"), "Enabled")
	if !ok {
		return false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, _ := strconv.ParseBool(x)
		return b, nil
	}
	return false, nil
}

// SetPowerTarget uses LuxOS's `powertargetset|<sid>,power=<W>`. Builds
// without it (STATUS E code 14) get the highest-power profile at or below
// watts instead; below every profile, the lowest. Repeating a target is
// harmless, so no telemetry check precedes it.
func (l *luxOS) SetPowerTarget(ctx context.Context, watts int) (Outcome, error) {
	err := l.session(ctx, func(sid string) error {
		_, err := l.cg.Do(ctx, "powertargetset", sid, fmt.Sprintf("power=%d", watts))
		return err
	})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != codeInvalidCommand {
		return Sent, err
	}
	ps, err := l.profiles(ctx)
	if err != nil {
		return Sent, err
	}
	best, bestW := "", -1.0
	low, lowW := "", math.Inf(1)
	for _, p := range ps {
		if p.Watts <= float64(watts) && p.Watts > bestW {
			best, bestW = p.Name, p.Watts
		}
		if p.Watts < lowW {
			low, lowW = p.Name, p.Watts
		}
	}
	if best == "" {
		best = low
	}
	if best == "" {
		return Sent, &Error{Addr: l.cg.Addr, Op: "profiles", Err: fmt.Errorf("%w: no profiles listed", ErrBadReply)}
	}
	return l.SetProfile(ctx, best)
}

// Reboot needs no logoff: the reboot ends the session.
func (l *luxOS) Reboot(ctx context.Context) (Outcome, error) {
	resp, err := l.cg.Do(ctx, "logon")
	if err != nil {
		return Sent, err
	}
	sid := strOf(resp.First("SESSION"), "SessionID")
	if _, err := l.cg.Do(ctx, "rebootdevice", sid); err != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(l.cg.Timeout))
		defer cancel()
		l.cg.Do(lctx, "logoff", sid)
		return Sent, err
	}
	return Sent, nil
}

// Blink drives the red LED: LuxOS `ledset|<sid>,red,blink` and
// `ledset|<sid>,red,off`.
func (l *luxOS) Blink(ctx context.Context, on bool) (Outcome, error) {
	state := "off"
	if on {
		state = "blink"
	}
	return Sent, l.session(ctx, func(sid string) error {
		_, err := l.cg.Do(ctx, "ledset", sid, "red", state)
		return err
	})
}
