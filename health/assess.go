package health

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNoData is returned by Assess when the history holds no usable sample.
var ErrNoData = errors.New("health: no telemetry samples")

// Options tune Assess. The zero value means the defaults.
type Options struct {
	// Window is how much history, back from the newest sample, is used
	// (default 6 h). The first third of it is the baseline trends are
	// measured against.
	Window time.Duration
	// AlarmRisk is the risk at which Assessment.Alarm is set (default 0.5).
	AlarmRisk float64
}

// DefaultWindow is the history Assess looks at by default.
const DefaultWindow = 6 * time.Hour

// recentH is the span, back from the newest sample, whose median is "now"
// for every feature: long enough that single noisy polls do not decide.
const recentH = 0.5

// minRecentN is the fewest values "now" is the median of: with sparse
// polls the recent span stretches back to cover them.
const minRecentN = 6

// Assess rates one miner's failure risk from its recent telemetry with the
// default Options.
func Assess(history []Sample) (Assessment, error) { return Options{}.Assess(history) }

// Assess rates one miner's failure risk from its telemetry history: samples
// at any spacing, in any order, with gaps. It uses samples up to Window
// before the newest one. It is pure and safe for concurrent use.
func (o Options) Assess(history []Sample) (Assessment, error) {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.AlarmRisk <= 0 {
		o.AlarmRisk = 0.5
	}
	h := history
	if !sorted(h) {
		h = slices.Clone(h)
		sort.SliceStable(h, func(i, j int) bool { return h[i].At.Before(h[j].At) })
	}
	// Samples without a time cannot be placed; they sort first.
	for len(h) > 0 && h[0].At.IsZero() {
		h = h[1:]
	}
	if len(h) == 0 {
		return Assessment{}, ErrNoData
	}
	end := h[len(h)-1].At
	from := end.Add(-o.Window)
	i := sort.Search(len(h), func(i int) bool { return !h[i].At.Before(from) })
	w := newWin(h[i:], end)
	defer w.release()
	a := Assessment{At: end, Samples: len(w.s), SpanHours: -w.t[0]}

	var ev [NumKinds]evidence
	ev[FanWear] = w.fans()
	ev[ChipDrop], ev[HWErrors] = w.boards()
	ev[ThermalRunaway] = w.thermal()
	ev[PSUFailure] = w.psu(math.Max(ev[ChipDrop].score, math.Max(ev[HWErrors].score, ev[ThermalRunaway].score)))
	ev[NetworkTimeout] = w.network()

	best := KindNone
	for _, k := range Kinds {
		a.Scores[k] = ev[k].score
		if ev[k].score > a.Risk {
			a.Risk, best = ev[k].score, k
		}
	}
	if a.Risk >= 0.1 {
		a.Kind = best
		a.TTFHours = ev[best].ttfH
	}
	if failed, why, kind := w.failedNow(); failed {
		a.Failed, a.Risk, a.TTFHours = true, 1, 0
		if a.Kind == KindNone {
			a.Kind = kind
		}
		a.Reasons = append(a.Reasons, "failed now: "+why)
	}
	order := slices.Clone(Kinds)
	sort.SliceStable(order, func(i, j int) bool { return ev[order[i]].score > ev[order[j]].score })
	for _, k := range order {
		if ev[k].score >= 0.1 && ev[k].reason != "" {
			a.Reasons = append(a.Reasons, fmt.Sprintf("%s %.2f: %s", k, ev[k].score, ev[k].reason))
		}
	}
	if len(a.Reasons) == 0 {
		a.Reasons = append(a.Reasons, w.healthySummary(ev[:]))
	}
	a.Alarm = a.Risk >= o.AlarmRisk
	return a, nil
}

func sorted(h []Sample) bool {
	for i := 1; i < len(h); i++ {
		if h[i].At.Before(h[i-1].At) {
			return false
		}
	}
	return true
}

// evidence is one kind's finding.
type evidence struct {
	score  float64
	ttfH   float64
	reason string
	note   string // healthy-state figure for the summary
}

// win is the window of history being assessed, with each sample's time in
// hours relative to the newest (≤ 0).
type win struct {
	s       []Sample
	t       []float64
	baseEnd float64 // samples at t < baseEnd form the baseline; NaN: none
	buf     []float64
	slab    []float64 // backing store for the window's series
}

// slabs recycles series storage between calls: assessing a fleet would
// otherwise allocate ~100 KB per miner.
var slabs = sync.Pool{New: func() any { return new([]float64) }}

// newSeries returns an empty series with room for one value per sample.
func (w *win) newSeries() series {
	n := len(w.s)
	if cap(w.slab)-len(w.slab) < 2*n {
		// Series already handed out keep the old chunk; start a new one.
		w.slab = make([]float64, 0, max(48*n, 1024))
	}
	l := len(w.slab)
	w.slab = w.slab[:l+2*n]
	return series{t: w.slab[l : l : l+n], v: w.slab[l+n : l+n : l+2*n]}
}

// release returns the newest slab chunk to the pool.
func (w *win) release() {
	p := slabs.Get().(*[]float64)
	if cap(w.slab) > cap(*p) {
		*p = w.slab[:0]
	}
	slabs.Put(p)
}

// minBaselineH is the least span of history for which a baseline (its
// first third) is compared with now.
const minBaselineH = 1.5

func newWin(s []Sample, end time.Time) *win {
	w := &win{s: s}
	if p := slabs.Get().(*[]float64); cap(*p) >= 48*len(s) {
		w.slab = (*p)[:0]
		*p = nil
		slabs.Put(p)
	}
	st := w.newSeries()
	w.t, w.buf = st.t[:len(s)], st.v[:0]
	for i := range s {
		w.t[i] = -end.Sub(s[i].At).Hours()
	}
	w.baseEnd = math.NaN()
	if span := -w.t[0]; span >= minBaselineH {
		w.baseEnd = w.t[0] + span/3
	}
	return w
}

// recent is the median of s's values over the last recentH hours, or of
// its last three values when polls were sparser than that.
func (w *win) recent(s *series) float64 { return w.recentOver(s, recentH) }

// recentOver is recent over the last h hours.
func (w *win) recentOver(s *series, h float64) float64 {
	m, n := s.medianSince(-h, w.buf)
	if n >= minRecentN || len(s.v) <= n {
		return m
	}
	k := min(minRecentN, len(s.v))
	w.buf = append(w.buf[:0], s.v[len(s.v)-k:]...)
	return median(w.buf)
}

// base is the median of s's values in the baseline, NaN when there is none.
func (w *win) base(s *series) float64 {
	if math.IsNaN(w.baseEnd) {
		return math.NaN()
	}
	m, n := s.medianBefore(w.baseEnd, w.buf)
	if n < 3 {
		return math.NaN()
	}
	return m
}

// failedNow reports a failure the newest samples already show.
func (w *win) failedNow() (bool, string, Kind) {
	n := len(w.s)
	// Unreachable: the last three polls, spanning ≥ 10 min, all timed out.
	if n >= 3 && w.s[n-1].Timeout && w.s[n-2].Timeout && w.s[n-3].Timeout && w.t[n-3] <= -10.0/60 {
		return true, fmt.Sprintf("no reply to the last %d polls over %.0f min", 3, -w.t[n-3]*60), NetworkTimeout
	}
	var last *Sample
	for i := n - 1; i >= 0; i-- {
		if !w.s[i].Timeout {
			last = &w.s[i]
			break
		}
	}
	if last == nil {
		return false, "", KindNone
	}
	for b, bd := range last.Boards {
		if bd.Lost {
			return true, fmt.Sprintf("board %d lost", b), ChipDrop
		}
	}
	if last.State == StateHashing {
		for f, r := range last.FansRPM {
			if r <= 0 && len(last.FansRPM) > 1 {
				return true, fmt.Sprintf("fan %d reads 0 RPM", f), FanWear
			}
		}
	}
	if last.State == StateFault {
		return true, "firmware reports a fault (hashing stopped)", KindNone
	}
	return false, "", KindNone
}

func (w *win) healthySummary(ev []evidence) string {
	var parts []string
	for _, k := range Kinds {
		if ev[k].note != "" {
			parts = append(parts, ev[k].note)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no precursor found in %d samples over %.1f h", len(w.s), -w.t[0])
	}
	return fmt.Sprintf("no precursor found in %.1f h: %s", -w.t[0], strings.Join(parts, "; "))
}

// ago formats hours before now for reasons.
func ago(h float64) string {
	if h < 1 {
		return fmt.Sprintf("%.0f min", h*60)
	}
	return fmt.Sprintf("%.1f h", h)
}
