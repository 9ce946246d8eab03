// Package backtest runs dispatch policies over a market period and accounts
// every dollar: revenue by source, energy cost, 4CP charge, profit, and each
// policy's capture of the hindsight optimum.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

// Inputs are the market series a backtest runs on. Prices set the interval
// grid; the others are read at each interval's start (holding their own
// step's value). SystemLoad and Temperature may be empty.
type Inputs struct {
	Prices      market.Series
	Hashprice   market.Series
	SystemLoad  market.Series
	Temperature market.Series
}

// Options selects what to run.
type Options struct {
	// Policies are the online policies to run, in table order.
	Policies []dispatch.Policy
	// Hindsight adds the hindsight optimum and the capture ratios.
	Hindsight bool
	// Progress, when set, is called now and then with intervals done and
	// the total over all policies.
	Progress func(done, total int)
	// Trace keeps per-interval load and profit for the report.
	Trace bool
}

// HindsightName is the policy name of the hindsight optimum.
const HindsightName = "hindsight"

// Result is a whole backtest.
type Result struct {
	Site      string    `json:"site"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	StepMin   float64   `json:"step_minutes"`
	Intervals int       `json:"intervals"`
	// Peaks are the 4CP intervals (or hours) found in the system load.
	Peaks    []time.Time `json:"four_cp_peaks"`
	Policies []*Account  `json:"policies"`
	// Prices is the price per interval, kept for the report.
	Prices []float64 `json:"-"`
}

// market is the period's inputs aligned to the price grid.
type aligned struct {
	start time.Time
	step  time.Duration
	price []float64
	hp    []float64 // hashprice earned in each interval
	hpNow []float64 // hashprice an online policy knows at each interval's start
	temp  []float64 // nil when unknown
	load  []float64 // nil when unknown
	// loadPast is the system load of up to loadHistory before the period,
	// oldest first, on the price grid: what a policy knows of the month so
	// far when the period starts mid-month.
	loadPast []float64
	peak     []float64 // share of a 4CP per interval; nil when unknown
	peaks    []time.Time
}

// loadHistory is how much system load before the period an online policy
// is given: enough for the month's high so far on any day of the month.
const loadHistory = 32 * 24 * time.Hour

// ErrNoData is returned when the inputs leave no interval to run.
var ErrNoData = errors.New("backtest: no intervals")

func align(in Inputs) (*aligned, error) {
	p := in.Prices
	if p.Len() == 0 || p.Step <= 0 {
		return nil, ErrNoData
	}
	a := &aligned{start: p.Start, step: p.Step, price: p.Values}
	var err error
	if a.hp, err = sample(in.Hashprice, p, "hashprice"); err != nil {
		return nil, err
	}
	a.hpNow = known(in.Hashprice, p)
	if in.Temperature.Len() > 0 {
		if a.temp, err = sample(in.Temperature, p, "temperature"); err != nil {
			return nil, err
		}
	}
	if in.SystemLoad.Len() > 0 {
		if a.load, err = sample(in.SystemLoad, p, "system load"); err != nil {
			return nil, err
		}
		for t := p.Start.Add(-p.Step); !t.Before(p.Start.Add(-loadHistory)); t = t.Add(-p.Step) {
			v, ok := in.SystemLoad.Value(t)
			if !ok {
				break
			}
			a.loadPast = append(a.loadPast, v)
		}
		slices.Reverse(a.loadPast)
		a.peak = make([]float64, p.Len())
		for _, pk := range market.FourCP(in.SystemLoad) {
			// A month the load series only partly covers has no known
			// peak: its maximum so far need not be ERCOT's.
			lt := pk.At.In(market.Central)
			first := time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, market.Central)
			if first.Before(in.SystemLoad.Start) || first.AddDate(0, 1, 0).After(in.SystemLoad.End()) {
				continue
			}
			end := pk.At.Add(in.SystemLoad.Step)
			var idx []int
			for t := pk.At; t.Before(end); t = t.Add(p.Step) {
				if i, ok := p.Index(t); ok {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				continue
			}
			a.peaks = append(a.peaks, pk.At)
			// An hourly peak counts the site's mean over the hour.
			for _, i := range idx {
				a.peak[i] += 1 / float64(len(idx))
			}
		}
	}
	return a, nil
}

// sample reads s at the start of every interval of grid.
func sample(s market.Series, grid market.Series, what string) ([]float64, error) {
	out := make([]float64, grid.Len())
	for i := range out {
		v, ok := s.Value(grid.At(i))
		if !ok {
			return nil, fmt.Errorf("backtest: %s covers %s to %s, prices need %s to %s",
				what, s.Start.Format(time.RFC3339), s.End().Format(time.RFC3339),
				grid.Start.Format(time.RFC3339), grid.End().Format(time.RFC3339))
		}
		out[i] = v
	}
	return out, nil
}

// known returns, per interval of grid, the value of s a policy can know at
// the interval's start: that of s's previous step. A daily hashprice is
// computed from the day's closing BTC price, which is only known when the
// day ends, so during a day a policy sees the previous day's. Where s has
// no previous step (its first), the current value stands in.
func known(s market.Series, grid market.Series) []float64 {
	out := make([]float64, grid.Len())
	for i := range out {
		t := grid.At(i)
		v, ok := s.Value(t.Add(-s.Step))
		if !ok {
			v, _ = s.Value(t)
		}
		out[i] = v
	}
	return out
}

// Run backtests the policies (and hindsight) on s over the inputs. It
// returns ctx's error soon after ctx is cancelled.
func Run(ctx context.Context, s *site.Site, in Inputs, opt Options) (*Result, error) {
	if ps := s.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("backtest: site %s: %s", s.Name, ps[0])
	}
	a, err := align(in)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := len(a.price)
	res := &Result{Site: s.Name, From: a.start, To: a.start.Add(time.Duration(n) * a.step),
		StepMin: a.step.Minutes(), Intervals: n, Peaks: a.peaks, Prices: a.price}
	total := n * len(opt.Policies)
	if opt.Hindsight {
		total += n
	}
	var mu sync.Mutex
	done := 0
	progress := func(k int) {
		mu.Lock()
		defer mu.Unlock()
		done += k
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	// The hindsight solve and the online policies are independent and pure:
	// solve while the policies run, so a second core shortens the wait.
	type solved struct {
		plan *dispatch.Plan
		err  error
	}
	var plan chan solved
	if opt.Hindsight {
		plan = make(chan solved, 1)
		go func() {
			hz := &dispatch.Horizon{Start: a.start, Step: a.step, Prices: a.price, Hashprice: a.hp, TempC: a.temp, Peak: a.peak}
			p, err := dispatch.Hindsight(s, hz)
			plan <- solved{p, err}
		}()
	}
	for _, p := range opt.Policies {
		// On error the solve goroutine finishes on its own into its
		// buffered channel.
		acc, err := runOnline(ctx, s, a, p, opt.Trace, progress)
		if err != nil {
			return nil, err
		}
		res.Policies = append(res.Policies, acc)
	}
	if plan != nil {
		var sv solved
		select {
		case sv = <-plan:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if sv.err != nil {
			return nil, sv.err
		}
		acc := newAccount(HindsightName, s, a, sv.plan.Jobs, opt.Trace)
		for t := range sv.plan.Decisions {
			acc.add(t, &sv.plan.Decisions[t], nil)
		}
		acc.finish()
		acc.Bound = sv.plan.Profit
		progress(n)
		res.Policies = append(res.Policies, acc)
		for _, p := range res.Policies {
			if acc.Profit > 0 {
				c := p.Profit / acc.Profit
				p.Capture = &c
			}
		}
	}
	return res, nil
}

// runOnline steps an online policy through the period, feeding it only what
// it may know: past prices, the last known hashprice, the temperature now, past
// system load and the rest of the day's load forecast.
func runOnline(ctx context.Context, s *site.Site, a *aligned, p dispatch.Policy, trace bool, progress func(int)) (*Account, error) {
	n := len(a.price)
	jobs := dispatch.Jobs(s, a.start, a.start.Add(time.Duration(n)*a.step))
	acc := newAccount(p.Name(), s, a, jobs, trace)
	st := dispatch.State{Tiers: make([]dispatch.TierState, len(s.Tiers))}
	for i, t := range s.Tiers {
		st.Tiers[i].Running = make([]float64, len(t.Profiles))
		st.Tiers[i].Running[0] = float64(t.Count) // every miner runs before the period
	}
	loc := s.Location()
	nan := math.NaN()
	open := make([]int, 0, 4)
	in := &dispatch.Input{Site: s, Step: a.step}
	dayEnd := 0
	// load is the known history followed by the period, so that a policy
	// starting mid-month still sees the month's load so far.
	var load []float64
	off := len(a.loadPast)
	if a.load != nil {
		load = append(append(make([]float64, 0, off+n), a.loadPast...), a.load...)
	}
	for t := 0; t < n; t++ {
		at := a.start.Add(time.Duration(t) * a.step)
		open = open[:0]
		st.Jobs = st.Jobs[:0]
		for j := range jobs {
			js := &jobs[j]
			if js.Remaining > 0 && !at.Before(js.Release) && at.Before(js.Deadline) {
				open = append(open, j)
				st.Jobs = append(st.Jobs, *js)
			}
		}
		// Full slice expressions cap what a policy can reach: reslicing
		// in.Prices[:cap] cannot uncover the interval being decided.
		in.Start, in.Prices, in.Hashprice, in.TempC, in.State = at, a.price[:t:t], a.hpNow[t], nan, st
		if a.temp != nil {
			in.TempC = a.temp[t]
		}
		if a.load != nil {
			if t >= dayEnd {
				lt := at.In(loc)
				next := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
				dayEnd = t + int((next.Sub(at)+a.step-1)/a.step)
			}
			end := min(dayEnd, n)
			in.SystemLoad, in.LoadForecast = load[:off+t:off+t], load[off+t:off+end:off+end]
		}
		d := p.Decide(in)
		if err := check(s, &d, len(st.Jobs)); err != nil {
			return nil, fmt.Errorf("backtest: policy %s at %s: %w", p.Name(), at.Format(time.RFC3339), err)
		}
		acc.add(t, &d, open)
		// The policy sees batch progress as a controller would report it.
		for k, g := range d.Jobs {
			js := &jobs[open[k]]
			js.Remaining = math.Max(0, js.Remaining-g*a.step.Hours())
		}
		for i := range s.Tiers {
			ts := &st.Tiers[i]
			before, after := ts.On(), d.Tiers[i].On()
			copy(ts.Running, d.Tiers[i].Running)
			if after > before {
				ts.LastUp = at
			} else if after < before {
				ts.LastDown = at
			}
		}
		if t%4096 == 4095 {
			progress(4096)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	progress(n % 4096)
	acc.finish()
	return acc, nil
}

// check rejects a decision that does not fit the site: wrong shape,
// negative or too many machines, or more load than the interconnect.
func check(s *site.Site, d *dispatch.Decision, jobs int) error {
	if len(d.Tiers) != len(s.Tiers) || len(d.Pools) != len(s.GPUPools) || len(d.Jobs) != jobs {
		return errors.New("decision does not match the site")
	}
	for i, t := range s.Tiers {
		td := d.Tiers[i]
		if len(td.Running) != len(t.Profiles) {
			return fmt.Errorf("tier %s: %d profile counts for %d profiles", t.Name, len(td.Running), len(t.Profiles))
		}
		sum := td.Sleeping
		for _, r := range td.Running {
			if r < 0 {
				return fmt.Errorf("tier %s: negative count", t.Name)
			}
			sum += r
		}
		if td.Sleeping < -1e-6 || math.Abs(sum-float64(t.Count)) > 1e-6*math.Max(1, float64(t.Count)) {
			return fmt.Errorf("tier %s: %g miners accounted for, tier has %d", t.Name, sum, t.Count)
		}
	}
	for p, g := range s.GPUPools {
		pd := d.Pools[p]
		if pd.Inference < 0 || pd.Batch < 0 || pd.Idle < -1e-6 || math.Abs(pd.Firm+pd.Inference+pd.Batch+pd.Idle-float64(g.Count)) > 1e-6*math.Max(1, float64(g.Count)) {
			return fmt.Errorf("pool %s: GPUs do not add up to %d", g.Name, g.Count)
		}
	}
	if l := dispatch.LoadMW(s, d); l > s.InterconnectMW*(1+1e-9) {
		return fmt.Errorf("load %.3f MW above the %.3f MW interconnect", l, s.InterconnectMW)
	}
	return nil
}
