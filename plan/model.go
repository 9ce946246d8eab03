package plan

import (
	"fmt"
	"math"

	"github.com/jouleworks/joule/market"
)

// Calendar and protocol constants. A month is 1/12 of a Julian year, so a
// spreadsheet reproduces the engine with the same three numbers.
const (
	HoursPerMonth   = 8766.0 / 12 // 730.5
	BlocksPerMonth  = 4383        // 144 blocks/day × 30.4375 days
	HalvingInterval = market.HalvingInterval
	thPerEH         = 1e6
)

// Strategy names one way to use the site.
type Strategy int

// The strategies, in the order ties are broken (the simpler one wins a tie).
const (
	Mine Strategy = iota
	Lease
	HPC
	Switch
	numStrategies
)

// Strategies lists every strategy in tie-break order.
var Strategies = []Strategy{Mine, Lease, HPC, Switch}

func (s Strategy) String() string {
	switch s {
	case Mine:
		return "mine"
	case Lease:
		return "lease"
	case HPC:
		return "hpc"
	case Switch:
		return "switch"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// model holds everything about a run that does not depend on the random
// path: the block reward schedule, the fleet, discount factors and the
// lease and HPC cash-flow templates. All amounts are per MW of site.
type model struct {
	cfg Config
	T   int       // months
	v   []float64 // v[k] = (1+r)^(−k/12), k = 0..T

	// Mining.
	rewardBTC []float64 // network BTC per month (subsidy + fees)
	baseLogH  []float64 // equilibrium log hashrate at the start price
	firstDue  int       // month the first refresh falls due
	newEff    []float64 // J/TH of a new ASIC bought in month k
	newCap    []float64 // capex per MW of new ASICs bought in month k
	// Forecast lookups: revenue per (J/TH)⁻¹ at forecast price/hashrate 1,
	// u·B_i·(1−pool)·fcst[i], and the expected power bill u·730.5·E[p_i].
	fcstRev, fcstPower []float64
	// fcst[i] is the operator's forecast shape of BTC price over network
	// hashrate: x_i = x_k · fcst[i]/fcst[k]. Price grows at the drift, the
	// network follows it and the block reward with the price elasticity β
	// (in equilibrium) and grows by its efficiency gain:
	// fcst[i] = exp(((1−β)·drift/12 − g)·i) · (B_i/B_0)^(−β).
	fcst      []float64
	powerMean []float64 // expected power price $/MWh in month k
	gNet      float64   // monthly log growth of network hashrate from efficiency
	blocks    []float64 // bootstrap sample of monthly log returns (nil for GBM)

	// Templates indexed by months since conversion start.
	leaseCapex float64
	leaseNOI   []float64
	hpcCapex   float64
	hpcGPUs    float64 // GPUs per site MW
	hpcDown    int
	hpcLife    int       // months per GPU cohort
	hpcRate    []float64 // base $/GPU-h of a cohort by age in months
	// Refresh rule lookups for a cohort bought at the start of month k
	// and run for min(life, T−k) months (PV at month 0).
	cohortRev, cohortCost []float64 // PV of revenue at multiplier 1, and of power + opex
	cohortWinRev          []float64 // its revenue (multiplier 1) in the exit window
	cohortWinCost         []float64 // its costs in the exit window

	// Switch rule lookups (PV at month 0 of converting at month c).
	sw switchTables
}

func newModel(cfg Config, daily []float64) (*model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BTC.Model == "bootstrap" && len(daily) < DaysPerBlock {
		return nil, &FieldError{Field: "btc.returns_file", Msg: fmt.Sprintf("has %d daily returns, need ≥ %d", len(daily), DaysPerBlock)}
	}
	T := cfg.HorizonYears * 12
	m := &model{cfg: cfg, T: T}
	m.v = make([]float64, T+1)
	lv := -math.Log1p(cfg.DiscountRate) / 12
	for k := range m.v {
		m.v[k] = math.Exp(lv * float64(k))
	}

	// Block reward per month, split exactly at halving heights.
	m.rewardBTC = make([]float64, T)
	for k := 0; k < T; k++ {
		h0 := cfg.Network.StartHeight + k*BlocksPerMonth
		m.rewardBTC[k] = blockReward(h0, h0+BlocksPerMonth) + BlocksPerMonth*cfg.Network.FeesBTCPerBlock
	}

	m.gNet = -math.Log1p(-cfg.Network.EfficiencyGainPerYear) / 12
	m.baseLogH = make([]float64, T)
	logH0 := math.Log(cfg.Network.HashrateEH)
	for k := 0; k < T; k++ {
		rel := 0.0
		if m.rewardBTC[0] > 0 && m.rewardBTC[k] > 0 {
			rel = math.Log(m.rewardBTC[k] / m.rewardBTC[0])
		} else if m.rewardBTC[k] == 0 {
			rel = -50 // no reward: miners leave
		}
		m.baseLogH[k] = logH0 + cfg.Network.PriceElasticity*rel + float64(k)*m.gNet
	}

	f := cfg.Fleet
	first := f.LifeMonths - f.AgeMonths
	if first < 0 {
		first = 0
	}
	m.firstDue = first
	gain := math.Log1p(-f.EfficiencyGainPerYear) / 12
	m.newEff, m.newCap = make([]float64, T), make([]float64, T)
	for k := 0; k < T; k++ {
		m.newEff[k] = f.RefreshEfficiencyJPerTH * math.Exp(gain*float64(k))
		m.newCap[k] = f.RefreshCapexPerTH * math.Exp(gain*float64(k)) * 1e6 / m.newEff[k]
	}
	m.powerMean = make([]float64, T)
	for k := 0; k < T; k++ {
		m.powerMean[k] = cfg.Power.PricePerMWh * math.Pow(1+cfg.Power.Escalator, float64(k/12))
	}

	m.fcst = make([]float64, T)
	beta := cfg.Network.PriceElasticity
	for i := 0; i < T; i++ {
		lf := ((1-beta)*cfg.BTC.Drift/12 - m.gNet) * float64(i)
		if m.rewardBTC[i] > 0 && m.rewardBTC[0] > 0 {
			lf -= beta * math.Log(m.rewardBTC[i]/m.rewardBTC[0])
		}
		m.fcst[i] = math.Exp(lf)
	}
	m.fcstRev, m.fcstPower = make([]float64, T), make([]float64, T)
	for i := 0; i < T; i++ {
		m.fcstRev[i] = f.Uptime * m.rewardBTC[i] * (1 - f.PoolFee) * m.fcst[i]
		m.fcstPower[i] = f.Uptime * HoursPerMonth * m.powerMean[i]
	}

	if cfg.BTC.Model == "bootstrap" {
		m.blocks = monthlyBlocks(daily, cfg.BTC.Recenter, cfg.BTC.Drift)
	}

	it := cfg.Site.ITFraction
	l := cfg.Lease
	m.leaseCapex = l.ConversionCapexPerMW * it
	m.leaseNOI = make([]float64, T)
	for j := l.DowntimeMonths; j < T; j++ {
		q := j - l.DowntimeMonths
		rent := l.RentPerMWYear * it * math.Pow(1+l.Escalator, float64(q/12))
		if q >= l.TermYears*12 {
			rent *= l.RenewalRentFactor
		}
		m.leaseNOI[j] = rent / 12 * l.NOIMargin
	}

	h := cfg.HPC
	m.hpcCapex = h.ConversionCapexPerMW * it
	m.hpcGPUs = h.GPUsPerMW * it
	m.hpcDown = h.DowntimeMonths
	life := int(math.Round(h.LifeYears * 12))
	if life < 1 {
		life = 1
	}
	m.hpcLife = life
	m.hpcRate = make([]float64, life)
	for a := range m.hpcRate {
		m.hpcRate[a] = math.Max(h.RentFloorPerGPUHour, h.RentPerGPUHour*math.Pow(1-h.RentDeclinePerYear, float64(a)/12))
	}
	m.cohortRev, m.cohortCost = make([]float64, T), make([]float64, T)
	m.cohortWinRev, m.cohortWinCost = make([]float64, T), make([]float64, T)
	for k := 0; k < T; k++ {
		for a := 0; a < life && k+a < T; a++ {
			i := k + a
			rev := m.hpcGPUs * HoursPerMonth * h.Utilisation * m.hpcRate[a]
			cost := h.PowerLoadFactor*HoursPerMonth*m.powerMean[i] + m.hpcGPUs*HoursPerMonth*h.OpexPerGPUHour
			m.cohortRev[k] += rev * m.v[i+1]
			m.cohortCost[k] += cost * m.v[i+1]
			if i >= T-12 {
				m.cohortWinRev[k] += rev
				m.cohortWinCost[k] += cost
			}
		}
	}

	m.sw = m.switchTables()
	return m, nil
}

// blockReward sums the subsidy of blocks [from, to) in BTC. It adds whole
// satoshis per halving era, so a month that spans a halving is exact.
func blockReward(from, to int) float64 {
	var sats int64
	for h := from; h < to; {
		next := min((h/HalvingInterval+1)*HalvingInterval, to)
		perBlock := int64(math.Round(market.SubsidyAtHeight(int64(h)) * 1e8))
		sats += int64(next-h) * perBlock
		h = next
	}
	return float64(sats) / 1e8
}

// hashprice0 is month 0's hashprice in USD per PH/s per day.
func (m *model) hashprice0() float64 {
	if m.T == 0 {
		return 0
	}
	return m.cfg.BTC.PriceUSD * m.rewardBTC[0] / (BlocksPerMonth / 144.0) / (m.cfg.Network.HashrateEH * 1000)
}

// nextHalvingMonth is the month holding the next halving height, −1 if it
// falls after the horizon.
func (m *model) nextHalvingMonth() int {
	h := m.cfg.Network.StartHeight
	next := (h/HalvingInterval + 1) * HalvingInterval
	k := (next - h) / BlocksPerMonth
	if k >= m.T {
		return -1
	}
	return k
}
