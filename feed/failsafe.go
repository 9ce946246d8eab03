package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Mode is what the controller does while an input is stale.
type Mode string

// Fail-safe modes.
const (
	// Hold keeps the last decision in force (the default: neither starts
	// nor stops machines on missing information).
	Hold Mode = "hold"
	// Mine runs every miner (for fixed-price contracts, where power costs
	// the same whatever the spot price).
	Mine Mode = "mine"
	// Curtail stops every miner (for spot-exposed sites, where an unseen
	// price spike costs most).
	Curtail Mode = "curtail"
)

// ParseMode validates a mode name from config.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Hold, Mine, Curtail:
		return m, nil
	}
	return "", fmt.Errorf("fail-safe mode %q: want hold, mine or curtail", s)
}

// State is what Evaluate needs to know about one source, captured by
// Snapshot at one instant.
type State struct {
	Name    string
	Role    string // "price" or "hashprice"
	MaxAge  time.Duration
	Reading Reading
	Have    bool   // Reading is valid
	Err     string // last fetch error, if any
}

// Snapshot captures src's state at now.
func Snapshot(role string, src Source, maxAge time.Duration, now time.Time) State {
	st := State{Name: src.Name(), Role: role, MaxAge: maxAge}
	r, err := src.Latest(now)
	if err == nil {
		st.Reading, st.Have = r, true
	} else {
		st.Err = err.Error()
	}
	if e, ok := src.(Errorer); ok {
		if le := e.LastError(); le != nil {
			st.Err = le.Error()
		}
	}
	return st
}

// Status is one source as the dashboard shows it.
type Status struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Value    float64   `json:"value"`
	At       time.Time `json:"at,omitzero"`
	AgeS     float64   `json:"age_s"`
	MaxAgeS  float64   `json:"max_age_s"`
	Stale    bool      `json:"stale"`
	HasValue bool      `json:"has_value"`
	Err      string    `json:"error,omitempty"`
}

// Verdict says whether the fail-safe is active and why.
type Verdict struct {
	Active  bool     `json:"active"`
	Mode    Mode     `json:"mode"`
	Reason  string   `json:"reason,omitempty"`
	Sources []Status `json:"sources"`
}

// Evaluate is the fail-safe rule, pure in (states, now): a source is stale
// when it has no value or its value is older than its MaxAge (MaxAge 0:
// never stale by age); if any source is stale the fail-safe mode applies.
// A reading dated in the future (clock skew) counts as age 0.
func Evaluate(mode Mode, now time.Time, states ...State) Verdict {
	v := Verdict{Mode: mode}
	var why []string
	for _, s := range states {
		st := Status{Name: s.Name, Role: s.Role, MaxAgeS: s.MaxAge.Seconds(), HasValue: s.Have, Err: s.Err}
		if s.Have {
			st.Value, st.At = s.Reading.Value, s.Reading.At
			st.AgeS = max(0, now.Sub(s.Reading.At).Seconds())
		}
		switch {
		case !s.Have:
			st.Stale = true
			why = append(why, fmt.Sprintf("%s %s has no value", s.Role, s.Name))
		case s.MaxAge > 0 && now.Sub(s.Reading.At) > s.MaxAge:
			st.Stale = true
			why = append(why, fmt.Sprintf("%s %s is %s old (max %s)", s.Role, s.Name,
				now.Sub(s.Reading.At).Round(time.Second), s.MaxAge))
		}
		v.Sources = append(v.Sources, st)
	}
	if len(why) > 0 {
		v.Active = true
		v.Reason = strings.Join(why, "; ") + "; fail-safe: " + string(mode)
	}
	return v
}

// Set is a site's inputs with their freshness limits and fail-safe mode.
type Set struct {
	Price        Source
	Hashprice    Source
	PriceMaxAge  time.Duration
	HashMaxAge   time.Duration
	FailSafeMode Mode
}

// Poll polls the sources that need it, returning the joined errors.
func (s Set) Poll(ctx context.Context, now time.Time) error {
	var errs []error
	for _, src := range []Source{s.Price, s.Hashprice} {
		if p, ok := src.(Poller); ok {
			if err := p.Poll(ctx, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Evaluate snapshots both sources at now and applies the fail-safe rule.
func (s Set) Evaluate(now time.Time) Verdict {
	return Evaluate(s.FailSafeMode, now,
		Snapshot("price", s.Price, s.PriceMaxAge, now),
		Snapshot("hashprice", s.Hashprice, s.HashMaxAge, now))
}
