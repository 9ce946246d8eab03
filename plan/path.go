package plan

import (
	"math"
	"math/rand/v2"
)

// scratch is one worker's reusable per-path state, so the hot loop does not
// allocate.
type scratch struct {
	pcg *rand.PCG
	rng *rand.Rand
	lp  []float64 // log BTC price in month k
	lh  []float64 // log network hashrate (EH/s) in month k
	ph  []float64 // price / hashrate, USD per EH/s
	gm  []float64 // GPU rent market multiplier in month k
	pw  []float64 // power price $/MWh in month k
	op  []float64 // operating cash flow of the strategy being valued
}

func (m *model) newScratch() *scratch {
	pcg := rand.NewPCG(0, 0)
	T := m.T
	return &scratch{pcg: pcg, rng: rand.New(pcg),
		lp: make([]float64, T), lh: make([]float64, T), ph: make([]float64, T),
		gm: make([]float64, T), pw: make([]float64, T), op: make([]float64, T)}
}

// pathResult is what one Monte Carlo path yields.
type pathResult struct {
	npv         [numStrategies]float64
	switchMonth int      // month the switch rule decided to convert, −1 if never
	switchTo    Strategy // Lease or HPC when switchMonth ≥ 0
}

// draw fills the random state of path p. Each path has its own PCG stream
// seeded (seed, p), so results never depend on which worker runs it, and
// every input variant sees the same draws (common random numbers). All
// three innovations are drawn every month even when a volatility is zero,
// so changing one input never shifts another's stream.
//
// mask names the strategies about to be valued: the price/hashrate ratio
// (mining, switch) and the GPU rent level (HPC, switch) are only
// exponentiated when needed, which halves the cost of one-strategy
// breakeven searches without touching the random streams.
func (m *model) draw(s *scratch, seed uint64, p int, mask uint8) {
	s.pcg.Seed(seed, uint64(p))
	c := m.cfg
	T := m.T
	sig := c.BTC.Volatility
	mu := (c.BTC.Drift - sig*sig/2) / 12
	sd := sig / math.Sqrt(12)
	gs := c.HPC.RentVolatility
	gmu, gsd := -gs*gs/24, gs/math.Sqrt(12)
	ps := c.Power.Volatility
	spot := c.Power.Model == "spot"
	beta, lam := c.Network.PriceElasticity, c.Network.AdjustmentPerMonth

	needPH := mask&(1<<Mine|1<<Switch) != 0
	needGM := mask&(1<<HPC|1<<Switch) != 0
	s.lp[0] = math.Log(c.BTC.PriceUSD)
	s.lh[0] = math.Log(c.Network.HashrateEH)
	lg := 0.0
	for k := 0; k < T; k++ {
		if k > 0 {
			var step float64
			if m.blocks != nil {
				step = m.blocks[s.rng.IntN(len(m.blocks))]
			} else {
				step = mu + sd*s.rng.NormFloat64()
			}
			s.lp[k] = s.lp[k-1] + step
			lg += gmu + gsd*s.rng.NormFloat64()
			target := m.baseLogH[k] + beta*(s.lp[k]-s.lp[0])
			s.lh[k] = s.lh[k-1] + lam*(target-s.lh[k-1])
		}
		z := s.rng.NormFloat64()
		if needGM {
			s.gm[k] = math.Exp(lg)
		}
		s.pw[k] = m.powerMean[k]
		if spot {
			s.pw[k] *= math.Exp(ps*z - ps*ps/2)
		}
		if needPH {
			s.ph[k] = math.Exp(s.lp[k] - s.lh[k])
		}
	}
}

// miningMonth returns month k's mining flows per MW for a fleet of
// efficiency eff: revenue, power cost and curtailment credit (all zero when
// the fleet is shut down because revenue would not cover power).
func (m *model) miningMonth(s *scratch, k int, eff float64) (rev, power, credit float64) {
	f := &m.cfg.Fleet
	rev = f.Uptime / eff * s.ph[k] * m.rewardBTC[k] * (1 - f.PoolFee)
	power = f.Uptime * HoursPerMonth * s.pw[k]
	credit = f.CurtailmentCreditPerMWYear / 12
	if f.ShutDownWhenUnprofitable && rev < power {
		return 0, 0, 0
	}
	return rev, power, credit
}

// hpcState is where an HPC conversion is in its GPU cohorts.
type hpcState struct {
	cohort int // month the current GPU cohort was bought; −1 when no GPUs run
}

// hpcMonth returns the HPC flows of month k, j months after the conversion
// started: GPU revenue, power, opex, and capex paid at the start of month
// k. The first cohort is bought at go-live (that is what converting to HPC
// means); when a cohort reaches its life, the next is bought only if the
// refresh rule says it pays, and an idle hall re-checks every month.
func (m *model) hpcMonth(s *scratch, k, j int, st *hpcState) (rev, power, opex, capex float64) {
	h := &m.cfg.HPC
	if j == 0 {
		capex = m.hpcCapex
		st.cohort = -1
	}
	if j < m.hpcDown {
		return 0, 0, 0, capex
	}
	if j == m.hpcDown {
		st.cohort = k
		capex += m.hpcGPUs * h.GPUCapex
	} else if st.cohort >= 0 && k-st.cohort >= m.hpcLife {
		st.cohort = -1
	}
	if st.cohort < 0 && m.refreshPays(s, k) {
		st.cohort = k
		capex += m.hpcGPUs * h.GPUCapex
	}
	if st.cohort < 0 {
		return 0, 0, 0, capex
	}
	rev = m.hpcGPUs * HoursPerMonth * h.Utilisation * m.hpcRate[k-st.cohort] * s.gm[k]
	power = h.PowerLoadFactor * HoursPerMonth * s.pw[k]
	opex = m.hpcGPUs * HoursPerMonth * h.OpexPerGPUHour
	return rev, power, opex, capex
}

// refreshPays is the GPU refresh rule at the start of month k: buy a new
// cohort when, at today's rent level g = M_k held flat (its expectation)
// and expected power prices, the cohort's discounted operating cash flow
// over its life (cut at the horizon, plus its share of the exit value)
// covers its capex. It uses nothing after month k.
func (m *model) refreshPays(s *scratch, k int) bool { return m.refreshPaysAt(s.gm[k], k) }

// refreshPaysAt is the GPU refresh rule at month k for rent level g.
func (m *model) refreshPaysAt(g float64, k int) bool {
	val := g*m.cohortRev[k] - m.cohortCost[k] +
		m.cfg.HPC.ExitMultiple*math.Max(0, g*m.cohortWinRev[k]-m.cohortWinCost[k])*m.v[m.T]
	return val >= m.hpcGPUs*m.cfg.HPC.GPUCapex*m.v[k]
}

// leaseMonth returns the lease flows j months after conversion started:
// gross rent, landlord opex (rent × (1 − NOI margin)) and capex.
func (m *model) leaseMonth(j int) (rent, opex, capex float64) {
	if j == 0 {
		capex = m.leaseCapex
	}
	if m.cfg.Lease.NOIMargin > 0 {
		rent = m.leaseNOI[j] / m.cfg.Lease.NOIMargin
	} else if j >= m.cfg.Lease.DowntimeMonths {
		q := j - m.cfg.Lease.DowntimeMonths
		rent = m.cfg.Lease.RentPerMWYear * m.cfg.Site.ITFraction * math.Pow(1+m.cfg.Lease.Escalator, float64(q/12)) / 12
		if q >= m.cfg.Lease.TermYears*12 {
			rent *= m.cfg.Lease.RenewalRentFactor
		}
	}
	return rent, rent - m.leaseNOI[j], capex
}

// recorder collects one path's monthly flows for the cash-flow export.
type recorder struct{ flows [numStrategies][]MonthFlow }

func (r *recorder) add(st Strategy, mf MonthFlow) {
	if r != nil {
		r.flows[st] = append(r.flows[st], mf)
	}
}

// fleetState is the mining fleet on one path: its efficiency and when its
// next refresh falls due.
type fleetState struct {
	eff float64
	due int
}

func (m *model) newFleet() fleetState {
	return fleetState{eff: m.cfg.Fleet.EfficiencyJPerTH, due: m.firstDue}
}

// refresh applies the ASIC refresh rule at the start of month k and
// returns the capex paid. From the month a refresh falls due, new ASICs are
// bought when, on the forecast path (BTC price over hashrate starting from
// its trailing 3-month mean and following fcst, expected power prices),
// the operating cash flow they add over their life — shut-down rule
// included, plus their share of the exit value — covers their cost;
// otherwise the old fleet keeps running and the rule is asked again the
// next month. The site draws the same MW either way.
func (m *model) refresh(s *scratch, k int, fs *fleetState) float64 {
	if k < fs.due || m.newEff[k] >= fs.eff {
		return 0
	}
	if m.refreshGain(m.trailingX(s, k)/m.fcst[k], k, fs.eff) < m.newCap[k]*m.v[k] {
		return 0
	}
	fs.eff, fs.due = m.newEff[k], k+m.cfg.Fleet.LifeMonths
	return m.newCap[k]
}

// refreshGain is the PV at month 0 of the operating cash flow new ASICs
// bought at month k add over a fleet of efficiency eff, for the new
// machines' life (cut at the horizon), on the forecast path with
// price/hashrate z·fcst[i]. Months in the exit window count again at the
// exit multiple.
func (m *model) refreshGain(z float64, k int, eff float64) float64 {
	f := &m.cfg.Fleet
	credit := f.CurtailmentCreditPerMWYear / 12
	end := min(k+f.LifeMonths, m.T)
	var gain, win float64
	for i := k; i < end; i++ {
		d := m.forecastMargin(z, i, m.newEff[k], credit) - m.forecastMargin(z, i, eff, credit)
		gain += d * m.v[i+1]
		if i >= m.T-12 {
			win += d
		}
	}
	return gain + f.ExitMultiple*win*m.v[m.T]
}

// forecastMargin is month i's revenue − power + credit on the forecast
// path for a fleet of efficiency eff, after the shut-down rule.
func (m *model) forecastMargin(z float64, i int, eff, credit float64) float64 {
	rev := z * m.fcstRev[i] / eff
	if m.cfg.Fleet.ShutDownWhenUnprofitable && rev < m.fcstPower[i] {
		return 0
	}
	return rev - m.fcstPower[i] + credit
}

// trailingX is the mean BTC price over network hashrate (USD per EH/s) of
// months k−2 … k: what an operator knows at the start of month k.
func (m *model) trailingX(s *scratch, k int) float64 {
	lo := max(k-2, 0)
	var x float64
	for i := lo; i <= k; i++ {
		x += s.ph[i]
	}
	return x / float64(k-lo+1)
}

// valueMine is the keep-mining strategy: the fleet runs to the horizon,
// refreshed when the refresh rule says it pays.
func (m *model) valueMine(s *scratch, rec *recorder) float64 {
	f := &m.cfg.Fleet
	opex := f.OpexPerMWYear / 12
	var npv float64
	fs := m.newFleet()
	for k := 0; k < m.T; k++ {
		capex := m.refresh(s, k, &fs)
		rev, power, credit := m.miningMonth(s, k, fs.eff)
		op := rev - power - opex + credit
		s.op[k] = op
		npv += op*m.v[k+1] - capex*m.v[k]
		if rec != nil {
			rec.add(Mine, MonthFlow{Month: k, Strategy: "mine", Revenue: rev, Power: power, Opex: opex, Credit: credit,
				Capex: capex, Operating: op, BTCPrice: math.Exp(s.lp[k]), HashrateEH: math.Exp(s.lh[k]), PowerPrice: s.pw[k]})
		}
	}
	return npv + f.ExitMultiple*exitBase(s.op)*m.v[m.T]
}

// valueLease is the lease strategy with conversion starting at month 0. It
// does not depend on the path: rent is contracted.
func (m *model) valueLease(rec *recorder) float64 {
	var npv float64
	ops := make([]float64, m.T)
	for k := range ops {
		rent, opex, capex := m.leaseMonth(k)
		op := rent - opex
		ops[k] = op
		npv += op*m.v[k+1] - capex*m.v[k]
		if rec != nil {
			rec.add(Lease, MonthFlow{Month: k, Strategy: "lease", Revenue: rent, Opex: opex, Capex: capex, Operating: op})
		}
	}
	return npv + m.cfg.Lease.ExitMultiple*exitBase(ops)*m.v[m.T]
}

// valueHPC is the HPC strategy with conversion starting at month 0.
func (m *model) valueHPC(s *scratch, rec *recorder) float64 {
	var npv float64
	var st hpcState
	for k := 0; k < m.T; k++ {
		rev, power, opex, capex := m.hpcMonth(s, k, k, &st)
		op := rev - power - opex
		s.op[k] = op
		npv += op*m.v[k+1] - capex*m.v[k]
		if rec != nil {
			rec.add(HPC, MonthFlow{Month: k, Strategy: "hpc", Revenue: rev, Power: power, Opex: opex, Capex: capex, Operating: op,
				GPURent: gpuRent(rev, m.hpcGPUs*HoursPerMonth*m.cfg.HPC.Utilisation), PowerPrice: s.pw[k]})
		}
	}
	return npv + m.cfg.HPC.ExitMultiple*exitBase(s.op)*m.v[m.T]
}

// gpuRent is the realised $/GPU-h behind a month's revenue (0 when idle).
func gpuRent(rev, gpuHours float64) float64 {
	if gpuHours == 0 {
		return 0
	}
	return rev / gpuHours
}

// exitBase is the last 12 months of operating cash flow, floored at zero.
func exitBase(op []float64) float64 {
	var s float64
	for _, x := range op[max(len(op)-12, 0):] {
		s += x
	}
	return math.Max(0, s)
}

// valueSwitch mines and applies the switch rule at the start of every
// month; after a decision the fleet mines (without further refreshes) for
// the decision lag, then the chosen conversion starts.
func (m *model) valueSwitch(s *scratch, rec *recorder) (npv float64, month int, to Strategy) {
	f := &m.cfg.Fleet
	opex := f.OpexPerMWYear / 12
	month, c := -1, m.T
	fs := m.newFleet()
	var hst hpcState
	for k := 0; k < m.T; k++ {
		if month < 0 {
			if d, target := m.decide(s, k, fs); d {
				month, to, c = k, target, k+m.cfg.Switch.DecisionLagMonths
			}
		}
		var mf MonthFlow
		switch {
		case k < c:
			capex := 0.0
			if month < 0 {
				capex = m.refresh(s, k, &fs)
			}
			rev, power, credit := m.miningMonth(s, k, fs.eff)
			mf = MonthFlow{Revenue: rev, Power: power, Opex: opex, Credit: credit, Capex: capex, Operating: rev - power - opex + credit}
		case to == Lease:
			rent, lopex, capex := m.leaseMonth(k - c)
			mf = MonthFlow{Revenue: rent, Opex: lopex, Capex: capex, Operating: rent - lopex}
		default:
			rev, power, hopex, capex := m.hpcMonth(s, k, k-c, &hst)
			mf = MonthFlow{Revenue: rev, Power: power, Opex: hopex, Capex: capex, Operating: rev - power - hopex}
		}
		s.op[k] = mf.Operating
		npv += mf.Operating*m.v[k+1] - mf.Capex*m.v[k]
		if rec != nil {
			mf.Month, mf.Strategy = k, "switch"
			if k >= c {
				mf.Strategy = "switch:" + to.String()
			}
			rec.add(Switch, mf)
		}
	}
	mult := f.ExitMultiple
	if month >= 0 {
		mult = m.cfg.Lease.ExitMultiple
		if to == HPC {
			mult = m.cfg.HPC.ExitMultiple
		}
	}
	return npv + mult*exitBase(s.op)*m.v[m.T], month, to
}

// MonthFlow is one month of one strategy's cash flows per MW of site, as
// exported for reconciliation. Capex is paid at the start of the month,
// the other flows at its end.
type MonthFlow struct {
	Month      int     `json:"month"`
	Strategy   string  `json:"strategy"`
	Revenue    float64 `json:"revenue"`
	Power      float64 `json:"power"`
	Opex       float64 `json:"opex"`
	Credit     float64 `json:"credit"`
	Capex      float64 `json:"capex"`
	Operating  float64 `json:"operating"`
	BTCPrice   float64 `json:"btc_price,omitempty"`
	HashrateEH float64 `json:"hashrate_eh,omitempty"`
	PowerPrice float64 `json:"power_price,omitempty"`
	GPURent    float64 `json:"gpu_rent,omitempty"`
}

// simulate values every strategy in mask on path p.
func (m *model) simulate(s *scratch, seed uint64, p int, mask uint8, leaseNPV float64, rec *recorder) pathResult {
	m.draw(s, seed, p, mask)
	r := pathResult{switchMonth: -1}
	if mask&(1<<Mine) != 0 {
		r.npv[Mine] = m.valueMine(s, rec)
	}
	r.npv[Lease] = leaseNPV
	if mask&(1<<HPC) != 0 {
		r.npv[HPC] = m.valueHPC(s, rec)
	}
	if mask&(1<<Switch) != 0 {
		r.npv[Switch], r.switchMonth, r.switchTo = m.valueSwitch(s, rec)
	}
	return r
}
