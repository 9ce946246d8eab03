// Package feed supplies the live inputs a site is dispatched on — power
// price and hashprice — from file replay, ERCOT's public API, an operator or
// a webhook, and decides, as a pure function of the sources' state and the
// time, whether they are fresh enough to act on or a fail-safe applies.
package feed

import (
	"context"
	"errors"
	"time"
)

// ErrNoData means a source has produced no value yet.
var ErrNoData = errors.New("no value yet")

// Reading is one value from a source. At is when the value applies (the
// start of its price interval, or when it was set), in wall-clock time: the
// age used for staleness is now − At.
type Reading struct {
	Value    float64   `json:"value"`
	At       time.Time `json:"at"`
	Received time.Time `json:"received"`
	Source   string    `json:"source"`
}

// Source is a live value. Latest returns the newest value known at now
// without blocking (pollers fetch in Poll; replays compute it). It returns
// ErrNoData before the first value, and otherwise the last good value even
// when the latest fetch failed — staleness is judged from its age.
type Source interface {
	Name() string
	Latest(now time.Time) (Reading, error)
}

// Poller is a Source that must be polled to refresh (ERCOT). The caller
// (the controller's input loop) calls Poll on its own schedule with the
// current time; the error is also kept for Status.
type Poller interface {
	Source
	Poll(ctx context.Context, now time.Time) error
}

// Errorer is implemented by sources that remember their last fetch error.
type Errorer interface {
	LastError() error
}

// Constant is a fixed value, never stale: a configured hashprice.
type Constant struct {
	Label string
	Value float64
}

// Name implements Source.
func (c Constant) Name() string { return c.Label }

// Latest implements Source.
func (c Constant) Latest(now time.Time) (Reading, error) {
	return Reading{Value: c.Value, At: now, Received: now, Source: c.Label}, nil
}
