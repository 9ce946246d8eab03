package physics

import (
	"math"
	"strconv"
)

// voltFrac is the chain voltage fraction the firmware sets for a frequency
// fraction s: tuners lower voltage with frequency, which is why underclocking
// improves J/TH (dynamic power ∝ f·V²).
func voltFrac(s float64) float64 {
	if s <= 0 {
		return 0
	}
	return 0.55 + 0.45*s
}

// expDecay is 1 − e^(−h/τ), the exact first-order step. Steps are short
// next to the time constants, so a third-order series (error < 1e-7)
// replaces the exponential where it can.
func expDecay(h, tau float64) float64 {
	x := h / tau
	if x < 0.05 {
		return x * (1 - x*(0.5-x/6))
	}
	return -math.Expm1(-x)
}

// tempFactors returns the leakage multiplier 2^((T−T_target)/20) and the
// hardware-error fraction at chip temperature T, recomputed only when T has
// moved by more than 0.02 °C (the factors then change by < 0.07 %).
func (m *Miner) tempFactors(bd *board) (leak, hw float64) {
	if d := bd.tChip - bd.factT; d > 0.02 || d < -0.02 || bd.leakF == 0 {
		dT := bd.tChip - m.spec.TargetC
		bd.factT = bd.tChip
		bd.leakF = math.Exp(leakK * dT)
		bd.hwF = hwBase * math.Exp(dT/8)
	}
	return bd.leakF, bd.hwF
}

// step advances one internal step of h ≤ maxStep seconds.
func (m *Miner) step(h float64) {
	m.t += h
	m.applyFaults(h)
	m.advanceState(h)
	if m.state == Off {
		m.coolDown(h)
		return
	}

	// Operating point of the hashboards.
	powered, hashing := false, false
	switch m.state {
	case Initializing, Stopping:
		powered = true
	case Ramping:
		powered, hashing = true, true
		total := m.tm.Ramp
		done := 1.0
		if total > 0 {
			done = 1 - m.phaseLeft/total
		}
		m.scale = m.targetScale * (m.tm.RampFrom + (1-m.tm.RampFrom)*done)
	case Hashing:
		powered, hashing = true, true
		d := m.targetScale - m.scale
		lim := m.tm.Slew * h
		if math.Abs(d) <= lim {
			m.scale = m.targetScale
		} else {
			m.scale += math.Copysign(lim, d)
		}
	}
	s := 0.0
	if hashing {
		s = m.scale
	}
	// Initializing and Stopping: chips powered at init voltage, no clock.
	v := voltFrac(s)
	if powered && !hashing {
		v = voltFrac(m.tm.RampFrom * m.targetScale)
	}

	// Fans: the loop's output, then each fan's lag and wear.
	m.fanControl(h, powered)
	r := m.airflow()

	tIn := m.ambient
	var dc float64
	if r != m.lastR {
		m.lastR, m.lastRp = r, math.Pow(r, 0.8)
	}
	gAir := m.c.g0 + m.c.g1*m.lastRp
	k5s := expDecay(h, hash5sTau)
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		p := 0.0
		bd.hashGH = 0
		if powered && !bd.lost {
			leakF, _ := m.tempFactors(bd)
			leak := m.c.leakChip * v * leakF * float64(m.spec.Chips)
			dyn := m.c.dynChip * s * v * v * float64(bd.nOK)
			p = leak + dyn
			if hashing {
				bd.hashGH = m.c.hashChip * s * float64(bd.nOK)
			}
		}
		bd.powerW = p
		dc += p
		g := gAir / bd.rthMul
		tss := tIn + p/g
		bd.tChip += (tss - bd.tChip) * expDecay(h, m.c.capJK/g)

		// Nonces, hardware errors and the firmware's 5 s average.
		_, hwT := m.tempFactors(bd)
		hw := hwT + bd.hwExtra
		if hw > 1 {
			hw = 1
		}
		nonces := bd.hashGH * 1e9 / 4294967296 * h
		bd.diff1 += nonces * (1 - hw)
		bd.hwErrors += nonces * hw
		measured := bd.hashGH * (1 - hw)
		if measured > 0 {
			measured *= 1 + 0.003*m.norm()
		}
		bd.hash5s += (measured - bd.hash5s) * k5s
		if measured == 0 && bd.hash5s < 0.5 {
			bd.hash5s = 0 // the window has emptied
		}
		m.hashSum += bd.hashGH * (1 - hw) * h
		m.accepted += nonces * (1 - hw) / poolDiff * 0.998
		m.rejected += nonces * (1 - hw) / poolDiff * 0.002
	}

	fanW := 0.0
	for f := 0; f < m.spec.Fans; f++ {
		x := m.fans[f].rpm / m.spec.MaxRPM
		fanW += fanElecW + fanMaxW*x*x*x
	}
	m.powerDC = dc + ctrlW + fanW
	eff := psuEff - m.psuEffLoss
	m.powerIn = m.powerDC/eff + psuNoLoadW

	// Exhaust: inlet plus total heat over the air (or coolant) flow.
	flow := airMaxWK * math.Max(r, 0.05)
	if m.spec.Hydro {
		flow = waterWK
	}
	m.outletC = tIn + m.powerDC/flow

	m.protect(h, powered)
}

// coolDown lets a powerless miner drift to ambient.
func (m *Miner) coolDown(h float64) {
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		bd.powerW, bd.hashGH = 0, 0
		bd.hash5s = 0
		bd.tChip += (m.ambient - bd.tChip) * expDecay(h, m.c.capJK/m.c.g0)
	}
	for f := 0; f < m.spec.Fans; f++ {
		m.fans[f].rpm += -m.fans[f].rpm * expDecay(h, fanLagS)
		m.fans[f].meas = m.fans[f].rpm
	}
	m.powerIn, m.powerDC = 0, 0
	m.outletC = m.ambient
}

// fanControl runs the firmware's fan loop: full speed while booting, idle
// while nothing is powered, otherwise a PI loop on the hottest board's chip
// temperature with anti-windup, clamped to [MinRPM, MaxRPM].
func (m *Miner) fanControl(h float64, powered bool) {
	if m.spec.Fans == 0 {
		return
	}
	minPWM := m.spec.MinRPM / m.spec.MaxRPM
	switch {
	case m.state == Booting:
		m.pwm = 1
	case !powered || m.state == Stopping:
		// Hashing has stopped: fans drop to idle while the boards power down.
		m.pwm = minPWM
		m.integ = nomFanFrac
	default:
		hot := -math.MaxFloat64
		for b := 0; b < m.spec.Boards; b++ {
			if !m.boards[b].lost && m.boards[b].tChip > hot {
				hot = m.boards[b].tChip
			}
		}
		e := hot - m.spec.TargetC
		if !m.tm.FanPI {
			m.pwm = math.Max(minPWM, math.Min(1, nomFanFrac+fanKpCurve*e))
			break
		}
		out := m.integ + fanKp*e
		// Integrate only while the output is not pinned in the direction
		// the error pushes (anti-windup).
		if !(out >= 1 && e > 0) && !(out <= minPWM && e < 0) {
			m.integ += fanKi * e * h
			m.integ = math.Max(minPWM, math.Min(1, m.integ))
		}
		m.pwm = math.Max(minPWM, math.Min(1, m.integ+fanKp*e))
	}
	kLag := expDecay(h, fanLagS)
	for f := 0; f < m.spec.Fans; f++ {
		fn := &m.fans[f]
		want := m.pwm * m.spec.MaxRPM * fn.health
		if fn.dead {
			want = 0
		}
		fn.rpm += (want - fn.rpm) * kLag
		fn.meas = fn.rpm
		if fn.jitter > 0 && !fn.dead {
			fn.meas = math.Max(0, fn.rpm+fn.jitter*m.norm())
		}
	}
}

// airflow is the effective airflow fraction through the boards: mean fan
// speed over the maximum, less the blockage of stopped fans' blades.
func (m *Miner) airflow() float64 {
	if m.spec.Hydro || m.spec.Fans == 0 {
		return 1
	}
	sum, dead := 0.0, 0
	for f := 0; f < m.spec.Fans; f++ {
		// A worn fan's wobbling blades move less air than its speed says.
		sum += m.fans[f].rpm * m.fans[f].health
		if m.fans[f].rpm < 100 {
			dead++
		}
	}
	r := sum / float64(m.spec.Fans) / m.spec.MaxRPM
	return r * (1 - 0.5*float64(dead)/float64(m.spec.Fans))
}

// protect is the firmware's protection: overheat and fan-lost shutdowns, and
// stopping when every chain is gone.
func (m *Miner) protect(h float64, powered bool) {
	if !powered || m.state == Stopping {
		m.fanZero = 0
		return
	}
	allLost := true
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		if bd.lost {
			continue
		}
		allLost = false
		if bd.tChip >= m.spec.CritC {
			m.fail("overheat: chain " + itoa(b) + " chip temperature over limit")
			return
		}
	}
	if allLost {
		m.fail("no hashboards detected")
		return
	}
	zero := -1
	for f := 0; f < m.spec.Fans; f++ {
		if m.fans[f].meas < 100 {
			zero = f
		}
	}
	if zero < 0 {
		m.fanZero = 0
		return
	}
	m.fanZero += h
	if m.fanZero >= m.tm.FanLost {
		m.fail("fan lost: fan " + itoa(zero) + " reads 0 RPM")
	}
}

func (m *Miner) fail(reason string) {
	m.state = Failed
	m.reason = reason
	m.phaseLeft = 0
	m.fanZero = 0
	m.scale = 0
}

// advanceState counts down the current phase and moves to the next.
func (m *Miner) advanceState(h float64) {
	switch m.state {
	case Hashing, Sleeping, Failed, Off:
		return
	}
	m.phaseLeft -= h
	for m.phaseLeft <= 0 {
		carry := -m.phaseLeft
		switch m.state {
		case Stopping:
			m.state = Sleeping
			m.scale = 0
			return
		case Booting:
			m.procStart = m.t - carry
			m.hashSum = 0
			if m.wantSleep {
				m.state = Sleeping
				return
			}
			m.state, m.phaseLeft = Initializing, m.tm.Init-carry
		case Initializing:
			m.state, m.phaseLeft = Ramping, m.tm.Ramp-carry
		case Ramping:
			m.state = Hashing
			m.scale = m.targetScale
			return
		default:
			return
		}
	}
}

// norm returns an approximately standard normal deviate from the miner's
// own generator: the sum of four uniforms (Irwin-Hall), scaled. Cheap, and
// the tails do not matter for measurement noise.
func (m *Miner) norm() float64 {
	const inv = 1.0 / (1 << 32)
	x := m.rng.Uint64()
	y := m.rng.Uint64()
	u := float64(uint32(x))*inv + float64(x>>32)*inv + float64(uint32(y))*inv + float64(y>>32)*inv
	return (u - 2) * math.Sqrt(3)
}

func itoa(i int) string { return strconv.Itoa(i) }
