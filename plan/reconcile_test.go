package plan

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
)

// tiny is a two-year deterministic case that exercises every formula of
// docs/plan.md: price drift, hashrate lag and elasticity, a halving inside
// a month, two ASIC refreshes, a power escalator step, the shut-down rule,
// lease downtime, term and renewal, two GPU cohorts with rent decay and
// floor, exit multiples, and a switch that converts part-way through.
func tiny() Config {
	c := Defaults()
	c.HorizonYears = 2
	c.DiscountRate = 0.15
	c.BTC.Volatility, c.BTC.Drift = 0, -2 // a collapsing price makes the switch convert part-way
	c.Power.PricePerMWh = 20
	c.Fleet.RefreshCapexPerTH = 0.2 // cheap enough that the month-6 refresh is made, the month-18 one declined
	c.HPC.RentVolatility, c.Power.Volatility = 0, 0
	c.Power.Escalator = 0.05
	c.Network.StartHeight = 1_050_000 - 5*BlocksPerMonth - 700
	c.Network.PriceElasticity, c.Network.AdjustmentPerMonth = 0.4, 0.3 // lags price: the fleet shuts down some months
	c.Fleet.AgeMonths, c.Fleet.LifeMonths = 6, 12
	c.Lease.DowntimeMonths, c.Lease.TermYears, c.Lease.RenewalRentFactor = 3, 1, 0.9
	// A thin lease that the switch only takes once mining has deteriorated.
	c.Lease.ConversionCapexPerMW, c.Lease.RentPerMWYear, c.Lease.ExitMultiple = 3e6, 0.32e6, 12
	c.HPC.ConversionCapexPerMW, c.HPC.ExitMultiple = 5e6, 2
	c.HPC.DowntimeMonths, c.HPC.LifeYears = 2, 1
	c.HPC.RentDeclinePerYear, c.HPC.RentFloorPerGPUHour = 0.3, 1.5
	c.Switch.DecisionLagMonths = 4 // spans the month-6 refresh, which the switch skips
	return c
}

// sheet is the spreadsheet: docs/plan.md's formulas written out again,
// independently of the engine (its own subsidy, price and hashrate
// recursions, and plain powers instead of the engine's precomputed logs).
type sheet struct {
	c                     Config
	T                     int
	price, hash, pw, rewd []float64
}

func newSheet(c Config) *sheet {
	s := &sheet{c: c, T: c.HorizonYears * 12}
	for k := 0; k < s.T; k++ {
		var btc float64
		for b := c.Network.StartHeight + k*4383; b < c.Network.StartHeight+(k+1)*4383; b++ {
			btc += 50/math.Pow(2, math.Floor(float64(b)/210_000)) + c.Network.FeesBTCPerBlock
		}
		s.rewd = append(s.rewd, btc)
		s.price = append(s.price, c.BTC.PriceUSD*math.Exp(float64(k)*c.BTC.Drift/12))
		s.pw = append(s.pw, c.Power.PricePerMWh*math.Pow(1+c.Power.Escalator, math.Floor(float64(k)/12)))
		h := c.Network.HashrateEH
		if k > 0 {
			n := c.Network
			eq := n.HashrateEH * math.Pow(s.price[k]/c.BTC.PriceUSD*s.rewd[k]/s.rewd[0], n.PriceElasticity) *
				math.Pow(1/(1-n.EfficiencyGainPerYear), float64(k)/12)
			h = s.hash[k-1] * math.Pow(eq/s.hash[k-1], n.AdjustmentPerMonth)
		}
		s.hash = append(s.hash, h)
	}
	return s
}

func (s *sheet) v(k int) float64 { return math.Pow(1+s.c.DiscountRate, -float64(k)/12) }

// mine fills months [0, until) with mining flows, letting the fleet
// refresh only before month stop. A refresh due at month k is made when
// the margin the new ASICs add over their life — BTC price over hashrate
// from its mean of months k−2…k along the forecast shape, expected power,
// shut-down rule, plus the exit value's share — covers their cost; else it
// is asked again next month.
func (s *sheet) mine(until, stop int, op, capex []float64) {
	f := s.c.Fleet
	n := s.c.Network
	g := -math.Log(1-n.EfficiencyGainPerYear) / 12
	// The operator's forecast of price/hashrate: price at its drift, the
	// network following price and reward with elasticity β, plus growth g.
	shape := func(i int) float64 {
		return math.Exp(((1-n.PriceElasticity)*s.c.BTC.Drift/12-g)*float64(i)) * math.Pow(s.rewd[i]/s.rewd[0], -n.PriceElasticity)
	}
	eff := f.EfficiencyJPerTH
	due := max(0, f.LifeMonths-f.AgeMonths)
	for k := 0; k < until; k++ {
		capex[k] = 0
		grown := math.Pow(1-f.EfficiencyGainPerYear, float64(k)/12)
		newEff := f.RefreshEfficiencyJPerTH * grown
		cost := f.RefreshCapexPerTH * grown * 1e6 / newEff
		if k < stop && k >= due && newEff < eff {
			var x float64
			lo := max(0, k-2)
			for i := lo; i <= k; i++ {
				x += s.price[i] / s.hash[i]
			}
			x /= float64(k - lo + 1)
			// Forecast month-i margin of a fleet of efficiency e, shut-down rule included.
			margin := func(i int, e float64) float64 {
				rev := x / shape(k) * shape(i) * f.Uptime * s.rewd[i] * (1 - f.PoolFee) / e
				power := f.Uptime * 730.5 * s.pw[i]
				if f.ShutDownWhenUnprofitable && rev < power {
					return 0
				}
				return rev - power + f.CurtailmentCreditPerMWYear/12
			}
			var gain float64
			for i := k; i < s.T && i < k+f.LifeMonths; i++ {
				d := margin(i, newEff) - margin(i, eff)
				gain += d * s.v(i+1)
				if i >= s.T-12 {
					gain += f.ExitMultiple * d * s.v(s.T)
				}
			}
			if gain >= cost*s.v(k) {
				eff, due, capex[k] = newEff, k+f.LifeMonths, cost
			}
		}
		op[k] = s.mining(k, eff)
	}
}

func (s *sheet) mining(k int, eff float64) float64 {
	f := s.c.Fleet
	th := 1e6 / eff
	rev := f.Uptime * th / (s.hash[k] * 1e6) * s.rewd[k] * s.price[k] * (1 - f.PoolFee)
	power := f.Uptime * 730.5 * s.pw[k]
	credit := f.CurtailmentCreditPerMWYear / 12
	if f.ShutDownWhenUnprofitable && rev < power {
		rev, power, credit = 0, 0, 0
	}
	return rev - power - f.OpexPerMWYear/12 + credit
}

// lease returns NOI and capex j months after the conversion started.
func (s *sheet) lease(j int) (op, capex float64) {
	l := s.c.Lease
	it := s.c.Site.ITFraction
	if j == 0 {
		capex = l.ConversionCapexPerMW * it
	}
	if j < l.DowntimeMonths {
		return 0, capex
	}
	q := j - l.DowntimeMonths
	rent := l.RentPerMWYear * it * math.Pow(1+l.Escalator, math.Floor(float64(q)/12))
	if q >= 12*l.TermYears {
		rent *= l.RenewalRentFactor
	}
	return rent / 12 * l.NOIMargin, capex
}

// hpc fills op and capex from month c on for an HPC conversion started at
// c: the first GPU cohort at go-live, later ones only when the refresh
// rule (cohort PV ≥ its capex, rent level 1 on this zero-volatility path)
// holds, re-checked every month while idle.
func (s *sheet) hpc(c int, op, capex []float64) {
	h := s.c.HPC
	it := s.c.Site.ITFraction
	gpus := h.GPUsPerMW * it
	life := int(math.Round(h.LifeYears * 12))
	rate := func(age int) float64 {
		return math.Max(h.RentFloorPerGPUHour, h.RentPerGPUHour*math.Pow(1-h.RentDeclinePerYear, float64(age)/12))
	}
	monthOp := func(k, age int) float64 {
		return gpus*730.5*h.Utilisation*rate(age) - h.PowerLoadFactor*730.5*s.pw[k] - gpus*730.5*h.OpexPerGPUHour
	}
	pays := func(k int) bool {
		var pv, window float64
		for a := 0; a < life && k+a < s.T; a++ {
			pv += monthOp(k+a, a) * s.v(k+a+1)
			if k+a >= s.T-12 {
				window += monthOp(k+a, a)
			}
		}
		pv += h.ExitMultiple * math.Max(0, window) * s.v(s.T)
		return pv >= gpus*h.GPUCapex*s.v(k)
	}
	cohort := -1
	for k := c; k < s.T; k++ {
		op[k], capex[k] = 0, 0
		if k == c {
			capex[k] = h.ConversionCapexPerMW * it
		}
		j := k - c
		if j < h.DowntimeMonths {
			continue
		}
		if j == h.DowntimeMonths {
			cohort = k
			capex[k] += gpus * h.GPUCapex
		} else if cohort >= 0 && k-cohort >= life {
			cohort = -1
		}
		if cohort < 0 && pays(k) {
			cohort = k
			capex[k] += gpus * h.GPUCapex
		}
		if cohort >= 0 {
			op[k] = monthOp(k, k-cohort)
		}
	}
}

// npv discounts operating flows at month ends and capex at month starts,
// and adds the exit multiple of the last 12 months' operating flow.
func (s *sheet) npv(op, capex []float64, mult float64) float64 {
	var npv, last float64
	for k := range op {
		npv += op[k]*s.v(k+1) - capex[k]*s.v(k)
		if k >= s.T-12 {
			last += op[k]
		}
	}
	return npv + mult*math.Max(0, last)*s.v(s.T)
}

func (s *sheet) strategies(decision int, to Strategy) [numStrategies]float64 {
	var out [numStrategies]float64
	T := s.T
	op, capex := make([]float64, T), make([]float64, T)
	s.mine(T, T, op, capex)
	out[Mine] = s.npv(op, capex, s.c.Fleet.ExitMultiple)
	for k := 0; k < T; k++ {
		op[k], capex[k] = s.lease(k)
	}
	out[Lease] = s.npv(op, capex, s.c.Lease.ExitMultiple)
	s.hpc(0, op, capex)
	out[HPC] = s.npv(op, capex, s.c.HPC.ExitMultiple)

	start := decision + s.c.Switch.DecisionLagMonths
	s.mine(start, decision, op, capex)
	for k := start; k < T && to == Lease; k++ {
		op[k], capex[k] = s.lease(k - start)
	}
	if to == HPC {
		s.hpc(start, op, capex)
	}
	mult := s.c.Lease.ExitMultiple
	if to == HPC {
		mult = s.c.HPC.ExitMultiple
	}
	out[Switch] = s.npv(op, capex, mult)
	return out
}

// TestSpreadsheetReconciles values the tiny case with the engine and with
// the independent sheet; every strategy must agree to a millionth of a
// dollar per MW.
func TestSpreadsheetReconciles(t *testing.T) {
	for _, target := range []string{"lease", "hpc"} {
		c := tiny()
		c.Switch.Target = target
		if target == "hpc" {
			c.HPC.RentPerGPUHour = 4
		}
		d, err := Detail(c, nil, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.SwitchMonth <= 0 || d.SwitchMonth+c.Switch.DecisionLagMonths >= 24 {
			t.Fatalf("%s: switch decided in month %d; the case should convert part-way", target, d.SwitchMonth)
		}
		want := newSheet(c).strategies(d.SwitchMonth, d.SwitchTo)
		for _, s := range Strategies {
			if math.Abs(d.NPV[s]-want[s]) > 1e-6 {
				t.Errorf("%s: %s NPV engine %.6f, sheet %.6f", target, s, d.NPV[s], want[s])
			}
		}
		checkCSV(t, d)
	}
}

// checkCSV re-adds the exported present values and compares each
// strategy's total with its NPV row.
func checkCSV(t *testing.T, d *PathDetail) {
	t.Helper()
	var buf bytes.Buffer
	if err := d.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for _, r := range rows[1:] {
		name, _, _ := strings.Cut(r[0], ":")
		pv, err := strconv.ParseFloat(r[10], 64)
		if err != nil {
			t.Fatalf("row %v: pv %q: %v", r, r[10], err)
		}
		if strings.HasSuffix(r[0], ":npv") {
			if math.Abs(sums[name]-pv) > 1e-6 {
				t.Errorf("CSV %s: sum of pv %.6f, npv row %.6f", name, sums[name], pv)
			}
			continue
		}
		sums[name] += pv
	}
	if len(sums) != int(numStrategies) {
		t.Fatalf("CSV has %d strategies, want %d", len(sums), numStrategies)
	}
}
