// Package market reads and generates the inputs a site is dispatched on:
// power prices, Bitcoin hashprice, system load and ambient temperature.
package market

import (
	"fmt"
	"time"
)

// Series is a regular time series. Values[i] holds the value for the
// interval [Start+i*Step, Start+(i+1)*Step). Readers apply their documented
// fill rule to gaps, so Values never holds NaN; Filled counts the intervals
// that were filled rather than read.
type Series struct {
	Name   string
	Unit   string
	Start  time.Time
	Step   time.Duration
	Values []float64
	Filled int
	// Notes summarises, one line each, what a reader or transform did
	// beyond a plain copy (gaps filled, empty cells, duplicate rows dropped,
	// rows reordered, partly covered resample edges), so
	// a command can print it as a warning summary. Nil when nothing happened.
	Notes []string
}

// Len returns the number of intervals.
func (s Series) Len() int { return len(s.Values) }

// At returns the start time of interval i.
func (s Series) At(i int) time.Time { return s.Start.Add(time.Duration(i) * s.Step) }

// End returns the end of the last interval.
func (s Series) End() time.Time { return s.At(len(s.Values)) }

// Index returns the interval holding t, and false when t is outside the series.
func (s Series) Index(t time.Time) (int, bool) {
	if s.Step <= 0 || t.Before(s.Start) || !t.Before(s.End()) {
		return 0, false
	}
	return int(t.Sub(s.Start) / s.Step), true
}

// Value returns the value of the interval holding t, and false when t is
// outside the series.
func (s Series) Value(t time.Time) (float64, bool) {
	i, ok := s.Index(t)
	if !ok {
		return 0, false
	}
	return s.Values[i], true
}

// Slice returns the intervals that start in [from, to). A zero from or to
// leaves that side open.
func (s Series) Slice(from, to time.Time) (Series, error) {
	lo, hi := 0, len(s.Values)
	if !from.IsZero() {
		if from.After(s.Start) {
			lo = int((from.Sub(s.Start) + s.Step - 1) / s.Step)
		}
	}
	if !to.IsZero() {
		if !to.After(s.Start) {
			hi = 0
		} else if to.Before(s.End()) {
			hi = int((to.Sub(s.Start) + s.Step - 1) / s.Step)
		}
	}
	if lo > len(s.Values) {
		lo = len(s.Values)
	}
	if hi < lo {
		return Series{}, fmt.Errorf("%s: no data between %s and %s (series covers %s to %s)",
			s.Name, from.Format(time.RFC3339), to.Format(time.RFC3339),
			s.Start.Format(time.RFC3339), s.End().Format(time.RFC3339))
	}
	out := s
	out.Start = s.At(lo)
	out.Values = s.Values[lo:hi]
	return out, nil
}
