package physics

import "math"

// The commands a firmware accepts. Each returns whether it changed anything,
// so the emulator can tell a repeated command from a new one; repeating a
// command is harmless (idempotent), as on the real firmware.

// Sleep stops hashing: hashboards power down within Timing.Stop seconds,
// leaving the control board and idle fans (~25 W at the wall).
func (m *Miner) Sleep() bool {
	if m.mode != ModeSleep {
		m.runMode = m.mode
	}
	m.mode = ModeSleep
	if m.wantSleep && (m.state == Sleeping || m.state == Stopping || m.state == Booting || m.state == Off) {
		return false
	}
	m.wantSleep = true
	switch m.state {
	case Off:
		return true
	case Sleeping, Stopping:
		return true
	case Booting:
		// The process comes up and goes straight to sleep.
		return true
	case Failed:
		m.state, m.reason = Sleeping, ""
		return true
	}
	m.state, m.phaseLeft = Stopping, m.tm.Stop
	return true
}

// Wake starts hashing again from sleep (or retries after a protection
// stop): process restart where the firmware does one, chain init, then the
// frequency ramp. Waking a miner that is already hashing or starting is a
// no-op.
func (m *Miner) Wake() bool {
	if m.mode == ModeSleep {
		m.mode = ModeNormal
	}
	wasAsleep := m.wantSleep
	m.wantSleep = false
	switch m.state {
	case Booting, Off:
		// The process comes up hashing instead of asleep.
		return wasAsleep
	case Hashing, Initializing, Ramping:
		return false
	}
	m.reason = ""
	m.startProcess(m.tm.WakeBoot)
	return true
}

// Reboot restarts the whole machine: OS boot, miner start, chain init, ramp.
// Stock firmware keeps its sleep mode across a reboot (it is in the config
// file); the others come back hashing.
func (m *Miner) Reboot() bool {
	if m.state == Off {
		return false
	}
	if m.fw != Stock {
		m.wantSleep = false
		if m.mode == ModeSleep {
			m.mode = ModeNormal
		}
	}
	m.reason = ""
	m.osStart = m.t
	m.startProcess(m.tm.Boot + m.tm.WakeBoot)
	return true
}

func (m *Miner) startProcess(boot float64) {
	m.scale = 0
	if boot > 0 {
		m.state, m.phaseLeft = Booting, boot
		return
	}
	m.procStart = m.t
	m.hashSum = 0
	m.state, m.phaseLeft = Initializing, m.tm.Init
}

// SetMode applies a stock Antminer work mode. Stock bmminer restarts its
// miner process on any mode change, so normal↔low-power costs a restart.
func (m *Miner) SetMode(mode Mode) bool {
	switch mode {
	case ModeSleep:
		return m.Sleep()
	case ModeNormal, ModeLowPower:
	default:
		return false
	}
	prevSleep := m.wantSleep
	if m.mode == mode && !prevSleep {
		return false
	}
	m.mode = mode
	m.targetScale = 1
	if mode == ModeLowPower {
		m.targetScale = 0.7
	}
	m.wantSleep = false
	if m.state == Off {
		return true
	}
	m.reason = ""
	m.startProcess(m.tm.WakeBoot)
	return true
}

// Mode returns the stock work mode as commanded.
func (m *Miner) Mode() Mode { return m.mode }

// reportedMode is the work mode stock bmminer reports: the commanded sleep
// only once the hashboards are actually down; while they power down the
// process still runs in its previous mode.
func (m *Miner) reportedMode() Mode {
	if m.mode == ModeSleep && m.state != Sleeping && m.state != Off && m.state != Booting {
		return m.runMode
	}
	return m.mode
}

// ProfileRange is the span of LuxOS profile steps: -8 … +3.
const (
	ProfileMin = -8
	ProfileMax = 3
)

// SetProfile selects a LuxOS frequency profile: step 0 is the nominal
// ("default"), each step ±5 % frequency with voltage following. The miner
// slews to it while hashing.
func (m *Miner) SetProfile(step int) bool {
	if step < ProfileMin {
		step = ProfileMin
	}
	if step > ProfileMax {
		step = ProfileMax
	}
	if m.profile == step && m.powerTarget == 0 {
		return false
	}
	m.profile = step
	m.powerTarget = 0
	m.targetScale = 1 + profileStep*float64(step)
	return true
}

// Profile returns the LuxOS profile step.
func (m *Miner) Profile() int { return m.profile }

// ProfileScale is the frequency fraction of a LuxOS profile step.
func ProfileScale(step int) float64 { return 1 + profileStep*float64(step) }

// SetPowerTarget makes the tuner run at the frequency whose steady-state
// wall power is watts (Braiins power target, Whatsminer power limit). The
// miner slews there while hashing. Targets outside what the chips can do are
// clamped to the tuner's range.
func (m *Miner) SetPowerTarget(watts float64) bool {
	if watts <= 0 || math.IsNaN(watts) || math.IsInf(watts, 0) {
		return false
	}
	if m.powerTarget == watts {
		return false
	}
	m.powerTarget = watts
	m.targetScale = m.scaleForPower(watts)
	return true
}

// PowerTarget returns the power target in W (0 when none is set).
func (m *Miner) PowerTarget() float64 { return m.powerTarget }

// scaleForPower inverts SteadyPower by bisection.
func (m *Miner) scaleForPower(w float64) float64 {
	lo, hi := minScale, maxScale
	if m.SteadyPower(lo) >= w {
		return lo
	}
	if m.SteadyPower(hi) <= w {
		return hi
	}
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if m.SteadyPower(mid) < w {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// SteadyPower is the wall power at frequency fraction s with the chips at
// the fan loop's target temperature and fans at their nominal speed: what a
// tuner predicts when it picks a frequency for a power target.
func (m *Miner) SteadyPower(s float64) float64 {
	v := voltFrac(s)
	asic := 0.0
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		if bd.lost {
			continue
		}
		asic += m.c.leakChip*v*float64(m.spec.Chips) + m.c.dynChip*s*v*v*float64(bd.nOK)
	}
	fanW := float64(m.spec.Fans) * (fanElecW + fanMaxW*nomFanFrac*nomFanFrac*nomFanFrac)
	return (asic+ctrlW+fanW)/psuEff + psuNoLoadW
}

// SetLED turns the locate LED blinking on or off.
func (m *Miner) SetLED(on bool) bool {
	if m.led == on {
		return false
	}
	m.led = on
	return true
}

// PowerFail cuts the supply: everything stops, nothing answers. PowerOn
// restores it and cold-boots the machine.
func (m *Miner) PowerFail() {
	m.state = Off
	m.reason = "no power"
	m.scale = 0
}

// PowerOn restores power after PowerFail and cold-boots.
func (m *Miner) PowerOn() bool {
	if m.state != Off {
		return false
	}
	m.reason = ""
	m.osStart = m.t
	m.startProcess(m.tm.Boot + m.tm.WakeBoot)
	return true
}

// Restart restarts the miner process without rebooting the OS (Whatsminer
// set.miner.service restart): process start, chain init, ramp.
func (m *Miner) Restart() bool {
	if m.state == Off {
		return false
	}
	m.wantSleep = false
	if m.mode == ModeSleep {
		m.mode = ModeNormal
	}
	m.reason = ""
	m.startProcess(m.tm.WakeBoot)
	return true
}
