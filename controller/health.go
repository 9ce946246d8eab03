package controller

import (
	"context"
	"math"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/health"
	"github.com/jouleworks/joule/miner"
)

// Failure prediction. Each poll's reading feeds the miner's health
// history (package health), at most one sample per healthSampleEvery of
// clock time so the 6-hour window stays small on fast ticks; every
// healthEvery the whole fleet is assessed. Assess is pure, so this is the
// only place the predictor meets the clock.
const (
	healthSampleEvery = 30 * time.Second
	healthEvery       = time.Minute
)

// healthBook is the controller's per-miner history and latest assessment.
type healthBook struct {
	hist     map[string]*health.History
	last     map[string]time.Time // last sample added
	risk     map[string]health.Assessment
	assessed time.Time
}

// record adds a poll result to a miner's history (c.mu held). Samples are
// dated by the controller's clock, as observations are.
func (b *healthBook) record(u Unit, profile string, r miner.Reading, err error, now time.Time) {
	id := u.ID
	if b.hist == nil {
		b.hist, b.last, b.risk = map[string]*health.History{}, map[string]time.Time{}, map[string]health.Assessment{}
	}
	if t, ok := b.last[id]; ok && now.Sub(t) < healthSampleEvery && now.After(t) {
		return
	}
	b.last[id] = now
	h := b.hist[id]
	if h == nil {
		h = &health.History{}
		b.hist[id] = h
	}
	s := health.Sample{At: now, Timeout: true}
	if err == nil {
		s = health.FromReading(r)
		s.At = now
		atProfile(&s, u, profile)
	}
	h.Add(s)
}

// atProfile rescales the firmware's ideal hashrate to the pinned profile.
// Some firmware (Whatsminer) keeps reporting the nominal ideal under a
// power limit, so a miner the controller slowed down on purpose would look
// like one losing chips (hashrate 87 % of ideal). Firmware whose ideal
// already follows the target (Braiins OS+) is left alone.
func atProfile(s *health.Sample, u Unit, profile string) {
	k := u.profileIndex(profile)
	if profile == "" || k == 0 || len(u.Profiles) == 0 || u.Profiles[0].THs <= 0 {
		return
	}
	want := u.Profiles[k].THs / u.Profiles[0].THs * u.NominalTHs
	if u.NominalTHs <= 0 {
		want = u.Profiles[k].THs
	}
	if !(s.IdealTHs > 1.03*want) {
		return
	}
	f := want / s.IdealTHs
	s.IdealTHs = want
	for i := range s.Boards {
		s.Boards[i].IdealTHs *= f
	}
}

// assess rates every miner with history when due. The histories are read
// under c.mu; assessments run in parallel outside it.
func (c *Controller) assessHealth(ctx context.Context, now time.Time) {
	c.mu.Lock()
	if !c.health.assessed.IsZero() && now.Sub(c.health.assessed) < healthEvery && now.After(c.health.assessed) {
		c.mu.Unlock()
		return
	}
	c.health.assessed = now
	ids := make([]string, 0, len(c.health.hist))
	samples := make([][]health.Sample, 0, len(c.health.hist))
	for id, h := range c.health.hist {
		ids = append(ids, id)
		samples = append(samples, append([]health.Sample(nil), h.Samples()...))
	}
	c.mu.Unlock()
	out := make([]health.Assessment, len(ids))
	ok := make([]bool, len(ids))
	miner.Each(len(ids), 2, func(i int) {
		if ctx.Err() != nil {
			return
		}
		a, err := health.Assess(samples[i])
		out[i], ok[i] = a, err == nil
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, id := range ids {
		if ok[i] {
			c.health.risk[id] = out[i]
		}
	}
}

// apiRisk is the API's view of an assessment.
func apiRisk(a health.Assessment) *api.Risk {
	r := &api.Risk{Score: math.Round(a.Risk*1000) / 1000, Alarm: a.Alarm, Kind: a.Kind.String(),
		TTFHours: math.Round(a.TTFHours*10) / 10}
	if len(a.Reasons) > 0 {
		r.Reason = a.Reasons[0]
	}
	return r
}
