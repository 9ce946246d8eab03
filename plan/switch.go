package plan

import "math"

// The switch rule. At the start of each month k the operator compares, in
// present value at month 0, two futures built only from what is known at
// k (no look-ahead):
//
//   - mine on: BTC price and network hashrate frozen at their trailing
//     3-month ratio x = mean(P/H) over months k−2..k, the network growing
//     only by its efficiency gain, the subsidy following the block schedule,
//     the fleet refreshed on schedule (the refresh option is ignored), power
//     at its expected price;
//   - convert: mine (no refresh) for the decision lag, then lease or HPC
//     from month c = k + lag, the GPU rent market multiplier frozen at its
//     current value (it is a martingale, so that is its expectation) and
//     GPU cohorts re-bought on schedule (the refresh option is ignored).
//
// It converts when the better conversion beats mining on by more than the
// hurdle. The estimates are linear in x (and in the rent multiplier) apart
// from the floored exit values, so each month costs O(1) using the prefix
// sums below. They ignore the shut-down option and any refresh that falls
// inside the lag window: the rule is an operator's rule of thumb, and the
// realised cash flows, not the estimates, are what the NPV counts.
type switchTables struct {
	growth     []float64 // e^{gNet·k}: frozen hashrate grown to month k
	sw, sc, sk []float64 // prefix sums (length T+1) of mining revenue weight, op cost, capex
	mineWW     float64   // exit window revenue weight
	mineWC     float64   // exit window op cost
	lease      []float64 // PV0 of lease flows when conversion starts at c
	hr, hc     []float64 // PV0 of HPC revenue at multiplier 1, and of its costs
	hwr, hwc   []float64 // HPC exit-window revenue (multiplier 1) and cost
}

func (m *model) switchTables() switchTables {
	T := m.T
	f := &m.cfg.Fleet
	t := switchTables{growth: make([]float64, T), sw: make([]float64, T+1), sc: make([]float64, T+1), sk: make([]float64, T+1)}
	lo := T - 12
	if lo < 0 {
		lo = 0
	}
	for i := 0; i < T; i++ {
		t.growth[i] = math.Exp(m.gNet * float64(i))
		w := f.Uptime * m.rewardBTC[i] * (1 - f.PoolFee) / m.fleetEff[i] / t.growth[i]
		cost := f.Uptime*HoursPerMonth*m.powerMean[i] + f.OpexPerMWYear/12 - f.CurtailmentCreditPerMWYear/12
		t.sw[i+1] = t.sw[i] + m.v[i+1]*w
		t.sc[i+1] = t.sc[i] + m.v[i+1]*cost
		t.sk[i+1] = t.sk[i] + m.v[i]*m.refreshCap[i]
		if i >= lo {
			t.mineWW += w
			t.mineWC += cost
		}
	}

	h := &m.cfg.HPC
	t.lease = make([]float64, T)
	t.hr, t.hc = make([]float64, T), make([]float64, T)
	t.hwr, t.hwc = make([]float64, T), make([]float64, T)
	for c := 0; c < T; c++ {
		var lpv, lwin float64
		hc := m.v[c] * m.hpcCapex
		var hr, hwr, hwc float64
		for k := c; k < T; k++ {
			j := k - c
			lpv += m.leaseNOI[j] * m.v[k+1]
			if k >= lo {
				lwin += m.leaseNOI[j]
			}
			if j < m.hpcDown {
				continue
			}
			rev := m.hpcGPUs * HoursPerMonth * h.Utilisation * m.hpcRent[j]
			cost := h.PowerLoadFactor*HoursPerMonth*m.powerMean[k] + m.hpcGPUs*HoursPerMonth*h.OpexPerGPUHour
			hr += rev * m.v[k+1]
			hc += cost*m.v[k+1] + m.hpcGPUCap[j]*m.v[k]
			if k >= lo {
				hwr += rev
				hwc += cost
			}
		}
		t.lease[c] = lpv - m.leaseCapex*m.v[c] + m.cfg.Lease.ExitMultiple*math.Max(0, lwin)*m.v[T]
		t.hr[c], t.hc[c], t.hwr[c], t.hwc[c] = hr, hc, hwr, hwc
	}
	return t
}

// decide applies the switch rule at the start of month k of the path in s.
func (m *model) decide(s *scratch, k int) (bool, Strategy) {
	t := &m.sw
	T := m.T
	c := k + m.cfg.Switch.DecisionLagMonths
	if c >= T {
		return false, 0
	}
	xg := m.trailingX(s, k) * t.growth[k]
	mineOn := xg*(t.sw[T]-t.sw[k]) - (t.sc[T] - t.sc[k]) - (t.sk[T] - t.sk[k]) +
		m.cfg.Fleet.ExitMultiple*math.Max(0, xg*t.mineWW-t.mineWC)*m.v[T]
	lag := xg*(t.sw[c]-t.sw[k]) - (t.sc[c] - t.sc[k])

	best, to := math.Inf(-1), Lease
	target := m.cfg.Switch.Target
	if target != "hpc" {
		best = lag + t.lease[c]
	}
	if target != "lease" {
		g := s.gm[k]
		val := lag + g*t.hr[c] - t.hc[c] + m.cfg.HPC.ExitMultiple*math.Max(0, g*t.hwr[c]-t.hwc[c])*m.v[T]
		if val > best {
			best, to = val, HPC
		}
	}
	return best-mineOn > m.cfg.Switch.HurdlePerMW*m.v[k], to
}
