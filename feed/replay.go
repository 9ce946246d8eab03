package feed

import (
	"fmt"
	"time"

	"github.com/jouleworks/joule/market"
)

// Replay plays a recorded series (read with the market package's readers, or
// the built-in scenario) against the wall clock at Speed× real time: at wall
// time Origin it is at the series' start, and each wall second advances
// Speed seconds of market time. The controller passes now; nothing here
// reads the clock.
type Replay struct {
	label  string
	s      market.Series
	origin time.Time
	speed  float64
	loop   bool
}

// NewReplay returns a replay of s starting at wall time origin. With loop
// the series restarts at its end; without, the last value is held with its
// original time, so it ages and goes stale as a real dead feed would.
func NewReplay(label string, s market.Series, origin time.Time, speed float64, loop bool) (*Replay, error) {
	switch {
	case s.Len() == 0:
		return nil, fmt.Errorf("replay %s: series %q is empty", label, s.Name)
	case s.Step <= 0:
		return nil, fmt.Errorf("replay %s: series %q has step %s, want > 0", label, s.Name, s.Step)
	case !(speed > 0):
		return nil, fmt.Errorf("replay %s: speed %v, want > 0", label, speed)
	}
	return &Replay{label: label, s: s, origin: origin, speed: speed, loop: loop}, nil
}

// Name implements Source.
func (r *Replay) Name() string { return r.label }

// MarketTime is the series time the replay is at, at wall time now.
func (r *Replay) MarketTime(now time.Time) time.Time {
	d := time.Duration(float64(now.Sub(r.origin)) * r.speed)
	if span := r.s.End().Sub(r.s.Start); r.loop && d >= span {
		d %= span
	}
	return r.s.Start.Add(d)
}

// wall maps a market time back to wall time (within the current loop).
func (r *Replay) wall(now, mt time.Time) time.Time {
	cur := r.MarketTime(now)
	return now.Add(-time.Duration(float64(cur.Sub(mt)) / r.speed))
}

// Latest implements Source.
func (r *Replay) Latest(now time.Time) (Reading, error) {
	if now.Before(r.origin) {
		return Reading{}, fmt.Errorf("%s: replay starts at %s: %w", r.label, r.origin.Format(time.RFC3339), ErrNoData)
	}
	mt := r.MarketTime(now)
	i, ok := r.s.Index(mt)
	if !ok {
		// Past the end without loop: hold the last value at its own time.
		i = r.s.Len() - 1
		end := r.origin.Add(time.Duration(float64(r.s.At(i).Sub(r.s.Start)) / r.speed))
		return Reading{Value: r.s.Values[i], At: end, Received: now, Source: r.label}, nil
	}
	return Reading{Value: r.s.Values[i], At: r.wall(now, r.s.At(i)), Received: now, Source: r.label}, nil
}

// OpenPriceReplay reads a price CSV with market.OpenPrices (any layout it
// detects: ERCOT historical, ERCOT 15-minute, or timestamp,price) and
// replays it from origin at speed.
func OpenPriceReplay(path string, opt market.PriceOptions, origin time.Time, speed float64, loop bool) (*Replay, error) {
	s, err := market.OpenPrices(path, opt)
	if err != nil {
		return nil, fmt.Errorf("price replay: %w", err)
	}
	return NewReplay("file "+path, s, origin, speed, loop)
}

// OpenHashpriceReplay reads a daily BTC CSV (date, close_usd, difficulty
// [, fees_btc_per_block]) with market.OpenBTC, derives hashprice with
// market.HashpriceSeries (defaultFee BTC/block where the file has none) and
// replays it.
func OpenHashpriceReplay(path string, defaultFee float64, origin time.Time, speed float64, loop bool) (*Replay, error) {
	days, err := market.OpenBTC(path)
	if err != nil {
		return nil, fmt.Errorf("hashprice replay: %w", err)
	}
	return NewReplay("file "+path, market.HashpriceSeries(days, defaultFee), origin, speed, loop)
}
