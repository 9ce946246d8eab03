package plan

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// Options control a Monte Carlo run (not the economics: those are Config).
type Options struct {
	Paths int    // Monte Carlo paths; default 5000
	Seed  uint64 // results are a pure function of (Config, returns, Seed, Paths)
	// Workers run paths in parallel; default GOMAXPROCS. It never changes
	// results: each path has its own random stream.
	Workers int
	// SensitivityPaths is the path count of each tornado and breakeven
	// evaluation (common random numbers: the first paths of the main run);
	// default min(Paths, 500). Negative skips sensitivity and breakevens.
	SensitivityPaths int
	// Progress, when set, is called (serialised) as paths complete.
	Progress func(done, total int)
}

const chunk = 64

// progress serialises progress callbacks from the workers.
type progress struct {
	mu    sync.Mutex
	fn    func(done, total int)
	done  int
	total int
}

func (p *progress) add(n int) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	p.done += n
	if p.done > p.total {
		p.done = p.total
	}
	p.fn(p.done, p.total)
	p.mu.Unlock()
}

// runPaths simulates paths 0..n−1 of m in parallel. Results are indexed by
// path, so the output is identical for any number of workers.
func (m *model) runPaths(ctx context.Context, n int, seed uint64, mask uint8, workers int, pr *progress) ([]pathResult, error) {
	out := make([]pathResult, n)
	lease := 0.0
	if mask&(1<<Lease) != 0 {
		lease = m.valueLease(nil)
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var stopped atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.newScratch()
			for {
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				hi := min(lo+chunk, n)
				for p := lo; p < hi; p++ {
					out[p] = m.simulate(s, seed, p, mask, lease, nil)
				}
				pr.add(hi - lo)
			}
		}()
	}
	wg.Wait()
	if stopped.Load() {
		return nil, ctx.Err()
	}
	return out, nil
}

const allStrategies = 1<<Mine | 1<<Lease | 1<<HPC | 1<<Switch

// Run values the site: Paths Monte Carlo paths of every strategy, the
// chance each wins, breakeven tables and a sensitivity tornado. daily holds
// the daily log returns for btc.model bootstrap (see ParseReturns).
func Run(ctx context.Context, cfg Config, daily []float64, opt Options) (*Result, error) {
	if opt.Paths == 0 {
		opt.Paths = 5000
	}
	if opt.Paths < 1 {
		return nil, fmt.Errorf("%w: paths must be ≥ 1, got %d", ErrInvalid, opt.Paths)
	}
	sens := opt.SensitivityPaths
	if sens == 0 {
		sens = min(opt.Paths, 500)
	}
	m, err := newModel(cfg, daily)
	if err != nil {
		return nil, err
	}
	pr := &progress{fn: opt.Progress, total: opt.Paths}
	if sens > 0 {
		pr.total += sens * (2*len(levers) + 1 + len(breakevenRows(cfg))*maxCalls)
	}
	paths, err := m.runPaths(ctx, opt.Paths, opt.Seed, allStrategies, opt.Workers, pr)
	if err != nil {
		return nil, err
	}
	res := summarise(cfg, paths)
	res.Seed, res.Paths = opt.Seed, opt.Paths
	res.HashpricePerPHDay = m.hashprice0()
	res.NextHalvingMonth = m.nextHalvingMonth()
	if sens > 0 {
		res.SensitivityPaths = sens
		if res.Tornado, err = tornado(ctx, cfg, daily, opt.Seed, sens, opt.Workers, pr); err != nil {
			return nil, err
		}
		if res.Breakeven, err = breakevens(ctx, cfg, daily, opt.Seed, sens, opt.Workers, pr); err != nil {
			return nil, err
		}
	}
	pr.add(pr.total)
	return res, nil
}

// meanNPV is the mean NPV per MW of each strategy over n paths of cfg.
func meanNPV(ctx context.Context, cfg Config, daily []float64, seed uint64, n int, mask uint8, workers int, pr *progress) ([numStrategies]float64, error) {
	var mean [numStrategies]float64
	m, err := newModel(cfg, daily)
	if err != nil {
		return mean, err
	}
	paths, err := m.runPaths(ctx, n, seed, mask, workers, pr)
	if err != nil {
		return mean, err
	}
	for _, p := range paths {
		for s := range mean {
			mean[s] += p.npv[s]
		}
	}
	for s := range mean {
		mean[s] /= float64(n)
	}
	return mean, nil
}

// Stats summarises a distribution. Percentiles interpolate linearly
// between order statistics (the "type 7" rule spreadsheets use).
type Stats struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	P10  float64 `json:"p10"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func newStats(x []float64) Stats {
	if len(x) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	var mean float64
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	var m2 float64
	for _, v := range s {
		m2 += (v - mean) * (v - mean)
	}
	std := 0.0
	if len(s) > 1 {
		std = sqrtPos(m2 / float64(len(s)-1))
	}
	return Stats{Mean: mean, Std: std, P10: quantile(s, 0.1), P50: quantile(s, 0.5), P90: quantile(s, 0.9), Min: s[0], Max: s[len(s)-1]}
}

// quantile of sorted s at q in [0,1].
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	i := int(h)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

func (s Stats) scale(f float64) Stats {
	return Stats{Mean: s.Mean * f, Std: s.Std * math.Abs(f), P10: s.P10 * f, P50: s.P50 * f, P90: s.P90 * f, Min: s.Min * f, Max: s.Max * f}
}

func summarise(cfg Config, paths []pathResult) *Result {
	n := len(paths)
	res := &Result{Config: cfg, Months: cfg.HorizonYears * 12, SiteMW: cfg.Site.MW}
	wins := make([]int, numStrategies)
	months := []float64{}
	var toLease, toHPC int
	for s := Strategy(0); s < numStrategies; s++ {
		res.npv[s] = make([]float64, n)
	}
	for i, p := range paths {
		best := Mine
		for s := Strategy(0); s < numStrategies; s++ {
			res.npv[s][i] = p.npv[s]
			if p.npv[s] > p.npv[best] {
				best = s
			}
		}
		wins[best]++
		if p.switchMonth >= 0 {
			months = append(months, float64(p.switchMonth))
			if p.switchTo == Lease {
				toLease++
			} else {
				toHPC++
			}
		}
	}
	for _, s := range Strategies {
		st := newStats(res.npv[s])
		res.Strategies = append(res.Strategies, StrategyResult{
			Name: s.String(), NPVPerMW: st, NPVPerW: st.scale(1e-6), NPVSite: st.scale(cfg.Site.MW),
			WinProbability: float64(wins[s]) / float64(n),
		})
	}
	res.Switch = SwitchStats{
		ConversionProbability: float64(len(months)) / float64(n),
		ToLease:               float64(toLease) / float64(n),
		ToHPC:                 float64(toHPC) / float64(n),
	}
	if len(months) > 0 {
		ms := newStats(months)
		res.Switch.DecisionMonth = &ms
	}
	return res
}

// sqrtPos is a square root that maps the tiny negative variances rounding
// can produce to 0.
func sqrtPos(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Sqrt(x)
}
