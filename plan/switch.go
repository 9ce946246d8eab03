package plan

import "math"

// The switch rule. At the start of each month k the operator compares, in
// present value at month 0, two futures built only from what is known at
// k (no look-ahead), each valued on a forecast path: BTC price over network
// hashrate starting from its trailing 3-month mean x (months k−2 … k) and
// following the forecast shape fcst (price at its drift, the network
// following price and block reward with elasticity β and growing by its
// efficiency gain), the GPU rent level held at today's M_k (a martingale,
// so that is its expectation), power at its expected price:
//
//   - mine on: the fleet as it is (no refresh: a refresh only adds value
//     where the refresh rule expects it to, so leaving it out keeps the
//     estimate a floor and O(T − k)), the shut-down rule, plus the mining
//     exit value;
//   - convert: mine for the decision lag (no refresh), then the lease or
//     HPC (with its GPU refresh rule) from month c = k + lag, plus the
//     target's exit value.
//
// It converts when the better conversion beats mining on by more than the
// hurdle. The realised cash flows, not these estimates, are what the NPV
// counts. Each estimate costs O(T − k) without a transcendental call, so a
// path that never converts costs O(T²) cheap steps.
type switchTables struct {
	lease []float64 // PV0 of lease flows (with exit) when conversion starts at c
}

func (m *model) switchTables() switchTables {
	T := m.T
	t := switchTables{lease: make([]float64, T)}
	lo := max(T-12, 0)
	for c := 0; c < T; c++ {
		var lpv, lwin float64
		for k := c; k < T; k++ {
			lpv += m.leaseNOI[k-c] * m.v[k+1]
			if k >= lo {
				lwin += m.leaseNOI[k-c]
			}
		}
		t.lease[c] = lpv - m.leaseCapex*m.v[c] + m.cfg.Lease.ExitMultiple*math.Max(0, lwin)*m.v[T]
	}
	return t
}

// estMine values mining months k … end−1 with a fleet of efficiency eff
// and no refresh on the forecast path where price/hashrate is z·fcst[i]
// (z = x/fcst[k]): PV at month 0 of the flows, and the operating cash flow
// falling in the exit window.
func (m *model) estMine(z float64, k, end int, eff float64) (pv, win float64) {
	f := &m.cfg.Fleet
	opex, credit := f.OpexPerMWYear/12, f.CurtailmentCreditPerMWYear/12
	for i := k; i < end; i++ {
		op := m.forecastMargin(z, i, eff, credit) - opex
		pv += op * m.v[i+1]
		if i >= m.T-12 {
			win += op
		}
	}
	return pv, win
}

// estHPC is the PV at month 0, exit included, of an HPC conversion started
// at month c with the GPU rent level frozen at g and expected power prices,
// under the same GPU refresh rule as the HPC strategy.
func (m *model) estHPC(g float64, c int) float64 {
	h := &m.cfg.HPC
	pv := -m.hpcCapex * m.v[c]
	var win float64
	cohort := -1
	for k := c + m.hpcDown; k < m.T; k++ {
		if k == c+m.hpcDown {
			cohort = k
			pv -= m.hpcGPUs * h.GPUCapex * m.v[k]
		} else if cohort >= 0 && k-cohort >= m.hpcLife {
			cohort = -1
		}
		if cohort < 0 && m.refreshPaysAt(g, k) {
			cohort = k
			pv -= m.hpcGPUs * h.GPUCapex * m.v[k]
		}
		if cohort < 0 {
			continue
		}
		op := m.hpcGPUs*HoursPerMonth*h.Utilisation*m.hpcRate[k-cohort]*g -
			h.PowerLoadFactor*HoursPerMonth*m.powerMean[k] - m.hpcGPUs*HoursPerMonth*h.OpexPerGPUHour
		pv += op * m.v[k+1]
		if k >= m.T-12 {
			win += op
		}
	}
	return pv + h.ExitMultiple*math.Max(0, win)*m.v[m.T]
}

// decide applies the switch rule at the start of month k of the path in s,
// whose fleet is fs.
func (m *model) decide(s *scratch, k int, fs fleetState) (bool, Strategy) {
	T := m.T
	c := k + m.cfg.Switch.DecisionLagMonths
	if c >= T {
		return false, 0
	}
	z := m.trailingX(s, k) / m.fcst[k]
	pv, win := m.estMine(z, k, T, fs.eff)
	mineOn := pv + m.cfg.Fleet.ExitMultiple*math.Max(0, win)*m.v[T]
	lag, _ := m.estMine(z, k, c, fs.eff)

	best, to := math.Inf(-1), Lease
	target := m.cfg.Switch.Target
	if target != "hpc" {
		best = lag + m.sw.lease[c]
	}
	if target != "lease" {
		if val := lag + m.estHPC(s.gm[k], c); val > best {
			best, to = val, HPC
		}
	}
	return best-mineOn > m.cfg.Switch.HurdlePerMW*m.v[k], to
}
