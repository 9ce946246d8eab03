package plan

import (
	"context"
	"math"
	"sort"
	"strings"
)

// lever is one tornado input: where it lives in Config and its low and high
// values given the base value.
type lever struct {
	key    string
	field  func(*Config) *float64
	lo, hi func(x float64) float64
}

// affects is the set of strategies whose cash flows read the lever's
// input; the others keep their base means exactly (same paths, same
// inputs), so they are not recomputed.
func (l lever) affects() uint8 {
	const mining = 1<<Mine | 1<<Switch
	switch strings.SplitN(l.key, ".", 2)[0] {
	case "btc", "network", "fleet":
		return mining
	case "lease":
		return 1<<Lease | 1<<Switch
	case "hpc":
		return 1<<HPC | 1<<Switch
	case "power":
		return mining | 1<<HPC
	}
	return allStrategies
}

func rel(f float64) func(float64) float64 { return func(x float64) float64 { return x * f } }

func add(d, lo, hi float64) func(float64) float64 {
	return func(x float64) float64 { return math.Min(hi, math.Max(lo, x+d)) }
}

// levers are the tornado's inputs and ranges: ±30 % for the BTC price,
// ±20–25 % for money inputs, a few points for rates.
var levers = []lever{
	{"btc.price_usd", func(c *Config) *float64 { return &c.BTC.PriceUSD }, rel(0.7), rel(1.3)},
	{"btc.drift", func(c *Config) *float64 { return &c.BTC.Drift }, add(-0.10, -5, 5), add(0.10, -5, 5)},
	{"btc.volatility", func(c *Config) *float64 { return &c.BTC.Volatility }, add(-0.15, 0, 5), add(0.15, 0, 5)},
	{"network.efficiency_gain_per_year", func(c *Config) *float64 { return &c.Network.EfficiencyGainPerYear }, add(-0.06, 0, 0.9), add(0.06, 0, 0.9)},
	{"network.price_elasticity", func(c *Config) *float64 { return &c.Network.PriceElasticity }, add(-0.2, 0, 3), add(0.2, 0, 3)},
	{"power.price_per_mwh", func(c *Config) *float64 { return &c.Power.PricePerMWh }, rel(0.75), rel(1.25)},
	{"fleet.exit_multiple", func(c *Config) *float64 { return &c.Fleet.ExitMultiple }, add(-1, 0, 100), add(1, 0, 100)},
	{"lease.rent_per_mw_year", func(c *Config) *float64 { return &c.Lease.RentPerMWYear }, rel(0.8), rel(1.2)},
	{"lease.conversion_capex_per_mw", func(c *Config) *float64 { return &c.Lease.ConversionCapexPerMW }, rel(0.8), rel(1.2)},
	{"lease.exit_multiple", func(c *Config) *float64 { return &c.Lease.ExitMultiple }, rel(0.75), rel(1.25)},
	{"hpc.rent_per_gpu_hour", func(c *Config) *float64 { return &c.HPC.RentPerGPUHour }, rel(0.8), rel(1.2)},
	{"hpc.rent_decline_per_year", func(c *Config) *float64 { return &c.HPC.RentDeclinePerYear }, add(-0.1, 0, 0.99), add(0.1, 0, 0.99)},
	{"hpc.gpu_capex", func(c *Config) *float64 { return &c.HPC.GPUCapex }, rel(0.8), rel(1.2)},
	{"hpc.utilisation", func(c *Config) *float64 { return &c.HPC.Utilisation }, add(-0.1, 0, 1), add(0.1, 0, 1)},
	{"hpc.exit_multiple", func(c *Config) *float64 { return &c.HPC.ExitMultiple }, add(-1, 0, 100), add(1, 0, 100)},
	{"discount_rate", func(c *Config) *float64 { return &c.DiscountRate }, add(-0.02, -0.99, 10), add(0.02, -0.99, 10)},
}

// tornado moves each lever to its low and high value and records every
// strategy's mean NPV per W over the same n paths.
func tornado(ctx context.Context, cfg Config, daily []float64, seed uint64, n, workers int, pr *progress) ([]TornadoRow, error) {
	base, err := meanNPV(ctx, cfg, daily, seed, n, allStrategies, workers, pr)
	if err != nil {
		return nil, err
	}
	rows := make([]TornadoRow, 0, len(levers))
	for _, l := range levers {
		x := *l.field(&cfg)
		row := TornadoRow{Input: l.key, Base: x, Low: l.lo(x), High: l.hi(x),
			NPVPerWLo: map[string]float64{}, NPVPerWHi: map[string]float64{}, BaseNPV: map[string]float64{}}
		ends := [2][numStrategies]float64{base, base}
		mask := l.affects()
		for i, v := range []float64{row.Low, row.High} {
			c := cfg
			*l.field(&c) = v
			mean, err := meanNPV(ctx, c, daily, seed, n, mask, workers, pr)
			if err != nil {
				return nil, err
			}
			for s := range mean {
				if mask&(1<<s) != 0 {
					ends[i][s] = mean[s]
				}
			}
		}
		for _, s := range Strategies {
			row.NPVPerWLo[s.String()] = ends[0][s] / 1e6
			row.NPVPerWHi[s.String()] = ends[1][s] / 1e6
			row.BaseNPV[s.String()] = base[s] / 1e6
			row.Swing = math.Max(row.Swing, math.Abs(ends[1][s]-ends[0][s])/1e6)
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Swing > rows[j].Swing })
	return rows, nil
}

// maxRootIter bounds the regula-falsi steps of a breakeven search, and
// maxCalls its evaluations including bracketing (for progress reports).
const (
	maxRootIter = 30
	maxCalls    = maxRootIter + 2 + 2*8
)

type breakevenRow struct {
	power, util float64 // one of them is set
	input       bool
	btc         bool
}

// breakevenRows are the power prices and utilisations tabulated, plus the
// configured ones.
func breakevenRows(cfg Config) []breakevenRow {
	var rows []breakevenRow
	seen := map[float64]bool{}
	for _, p := range []float64{cfg.Power.PricePerMWh, 30, 40, 50, 60, 70} {
		if !seen[p] {
			seen[p] = true
			rows = append(rows, breakevenRow{power: p, btc: true, input: p == cfg.Power.PricePerMWh})
		}
	}
	seen = map[float64]bool{}
	for _, u := range []float64{cfg.HPC.Utilisation, 0.6, 0.7, 0.8, 0.9} {
		if !seen[u] {
			seen[u] = true
			rows = append(rows, breakevenRow{util: u, input: u == cfg.HPC.Utilisation})
		}
	}
	return rows
}

// breakevens solves, per row, for the start BTC price at which mining's
// mean NPV equals the lease's NPV, and for the GPU rent at which HPC's does.
// The lease does not depend on either input, so its NPV is fixed per row.
func breakevens(ctx context.Context, cfg Config, daily []float64, seed uint64, n, workers int, pr *progress) (Breakevens, error) {
	var out Breakevens
	for _, r := range breakevenRows(cfg) {
		c := cfg
		var mask uint8
		var x0, lo, hi float64
		var set func(*Config, float64)
		var s Strategy
		if r.btc {
			c.Power.PricePerMWh = r.power
			mask, s, x0, lo, hi = 1<<Mine, Mine, c.BTC.PriceUSD, 1_000, 10_000_000
			set = func(c *Config, x float64) { c.BTC.PriceUSD = x }
		} else {
			c.HPC.Utilisation = r.util
			mask, s, x0, lo, hi = 1<<HPC, HPC, c.HPC.RentPerGPUHour, 0.01, 1_000
			set = func(c *Config, x float64) { c.HPC.RentPerGPUHour = x }
		}
		m, err := newModel(c, daily)
		if err != nil {
			return out, err
		}
		lease := m.valueLease(nil)
		calls := 0
		gap := func(x float64) (float64, error) {
			cc := c
			set(&cc, x)
			calls++
			mean, err := meanNPV(ctx, cc, daily, seed, n, mask, workers, pr)
			return mean[s] - lease, err
		}
		x, found, err := solve(gap, x0, lo, hi)
		if err != nil {
			return out, err
		}
		pr.add(n * max(0, maxCalls-calls))
		if r.btc {
			row := BTCBreakeven{PowerPricePerMWh: r.power, Input: r.input, Found: found}
			if found {
				row.BTCPriceUSD = x
				row.HashpricePerPHDay = x * m.hashprice0() / c.BTC.PriceUSD
			}
			out.BTCPrice = append(out.BTCPrice, row)
		} else {
			row := GPUBreakeven{Utilisation: r.util, Input: r.input, Found: found}
			if found {
				row.RentPerGPUHour = x
			}
			out.GPURent = append(out.GPURent, row)
		}
	}
	return out, nil
}

// solve finds a root of f in [lo, hi]. NPV is close to linear in both
// inputs solved for (BTC price scales revenue; GPU rent scales HPC revenue),
// so it brackets around x0 — [x0/2, 2·x0], widened ×4 while the sign does
// not change — and then runs the Illinois variant of regula falsi, which
// lands in a few steps on a near-linear function. found = false means no
// sign change inside [lo, hi].
func solve(f func(float64) (float64, error), x0, lo, hi float64) (float64, bool, error) {
	a, b := math.Max(lo, x0/2), math.Min(hi, x0*2)
	fa, err := f(a)
	if err != nil {
		return 0, false, err
	}
	fb, err := f(b)
	if err != nil {
		return 0, false, err
	}
	for (fa > 0) == (fb > 0) && fa != 0 && fb != 0 {
		// Widen towards the side where the root must lie.
		if (fb > fa) == (fb > 0) { // the root lies below a
			if a <= lo {
				return 0, false, nil
			}
			a, b, fb = math.Max(lo, a/4), a, fa
			if fa, err = f(a); err != nil {
				return 0, false, err
			}
		} else {
			if b >= hi {
				return 0, false, nil
			}
			a, fa, b = b, fb, math.Min(hi, b*4)
			if fb, err = f(b); err != nil {
				return 0, false, err
			}
		}
	}
	if fa == 0 {
		return a, true, nil
	}
	if fb == 0 {
		return b, true, nil
	}
	side := 0
	prev := math.NaN()
	for i := 0; i < maxRootIter; i++ {
		c := (a*fb - b*fa) / (fb - fa)
		if math.Abs(c-prev) <= 1e-7*math.Abs(c) {
			return c, true, nil
		}
		prev = c
		fc, err := f(c)
		if err != nil {
			return 0, false, err
		}
		if fc == 0 {
			return c, true, nil
		}
		if (fc > 0) == (fb > 0) {
			b, fb = c, fc
			if side == -1 {
				fa /= 2
			}
			side = -1
		} else {
			a, fa = c, fc
			if side == 1 {
				fb /= 2
			}
			side = 1
		}
	}
	return (a*fb - b*fa) / (fb - fa), true, nil
}
