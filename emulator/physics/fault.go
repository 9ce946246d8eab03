package physics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// FaultKind names a hardware or network failure the emulator reproduces.
type FaultKind uint8

// Fault kinds. Each has a lead-up (its telemetry signature before the
// failure) and a failure; see docs/emulator.md for the timelines.
const (
	FanWear        FaultKind = iota + 1 // bearing wear: RPM jitter and decline, then the fan stops
	ChipDrop                            // chips go o→x one by one, then the hashboard is lost
	HWErrors                            // hardware-error rate climbs, then the chain is disabled
	PSUFailure                          // 12 V rail sags and gets noisy, efficiency falls, then off
	ThermalRunaway                      // a board's heat path degrades, then temperature runs away
	NetworkTimeout                      // replies slow and stall more often, then the miner is unreachable
)

var faultNames = [...]string{"", "fan_wear", "chip_drop", "hw_errors", "psu_failure", "thermal_runaway", "network_timeout"}

// FaultKinds lists every kind, in order.
var FaultKinds = []FaultKind{FanWear, ChipDrop, HWErrors, PSUFailure, ThermalRunaway, NetworkTimeout}

func (k FaultKind) String() string {
	if int(k) < len(faultNames) && k > 0 {
		return faultNames[k]
	}
	return fmt.Sprintf("fault(%d)", k)
}

// ParseFaultKind reads a fault name as printed by String.
func ParseFaultKind(s string) (FaultKind, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	for i := 1; i < len(faultNames); i++ {
		if faultNames[i] == k {
			return FaultKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown fault %q (known: %s)", s, strings.Join(faultNames[1:], ", "))
}

// LeadUp is the default time (seconds) from the first telemetry sign to the
// failure, per kind. Bearing wear shows for a day or more; PSU capacitor
// wear for hours; a detached heatsink runs away within hours.
var LeadUp = map[FaultKind]float64{
	FanWear:        36 * 3600,
	ChipDrop:       12 * 3600,
	HWErrors:       24 * 3600,
	PSUFailure:     6 * 3600,
	ThermalRunaway: 3 * 3600,
	NetworkTimeout: 2 * 3600,
}

// NetMode is how an unreachable miner behaves on the wire.
type NetMode uint8

// Network failure modes.
const (
	NetStall NetMode = iota // accept the connection, never answer
	NetDrop                 // accept, then close without a reply
	// NetCut reads the request, writes a random prefix of the reply and
	// closes: a half-written reply, as when the link or the miner's API
	// process dies mid-write. Scheduled only; random faults draw stall or
	// drop.
	NetCut
)

// Fault is one scheduled failure of one miner. Times are simulated seconds
// on the miner's clock (Miner.Now); Start may be negative (the lead-up began
// before the emulation started).
type Fault struct {
	Kind   FaultKind
	Start  float64 // lead-up begins
	FailAt float64 // the failure
	Target int     // board (ChipDrop, HWErrors, ThermalRunaway) or fan (FanWear) index
	Mode   NetMode // NetworkTimeout only

	order  []uint8 // ChipDrop: the order chips fail in
	bad    int     // ChipDrop: chips dropped so far
	failed bool
}

// Failed reports whether the failure point has been reached.
func (f *Fault) Failed() bool { return f.failed }

// Progress is the lead-up fraction at time t: 0 at Start, 1 at FailAt.
func (f *Fault) Progress(t float64) float64 {
	if t <= f.Start {
		return 0
	}
	if t >= f.FailAt || f.FailAt <= f.Start {
		return 1
	}
	return (t - f.Start) / (f.FailAt - f.Start)
}

// NetCondition is what the network path to the miner does now; the
// emulator's servers apply it to each connection.
type NetCondition struct {
	StallProb float64 // chance a connection stalls without a reply (NetCut: is cut mid-reply)
	LatencyS  float64 // added reply latency, wall seconds
	Down      bool    // every connection fails per Mode
	Mode      NetMode
}

// Network returns the miner's current network condition.
func (m *Miner) Network() NetCondition { return m.net }

// AddFault schedules a fault. Targets out of range are clamped to the last
// board or fan.
func (m *Miner) AddFault(f Fault) error {
	if f.Kind < FanWear || f.Kind > NetworkTimeout {
		return fmt.Errorf("add fault: unknown kind %d", f.Kind)
	}
	if f.FailAt < f.Start {
		return fmt.Errorf("add fault %s: fails at %.0f s before its lead-up starts at %.0f s", f.Kind, f.FailAt, f.Start)
	}
	switch f.Kind {
	case FanWear:
		if m.spec.Fans == 0 {
			return fmt.Errorf("add fault %s: %s has no fans", f.Kind, m.spec.Model)
		}
		f.Target = clampInt(f.Target, 0, m.spec.Fans-1)
	case ChipDrop, HWErrors, ThermalRunaway:
		f.Target = clampInt(f.Target, 0, m.spec.Boards-1)
	}
	if f.Kind == ChipDrop {
		// Chips fail in a random order fixed by the miner's seed.
		f.order = make([]uint8, m.spec.Chips)
		for i := range f.order {
			f.order[i] = uint8(i)
		}
		for i := len(f.order) - 1; i > 0; i-- {
			j := int(m.rng.Uint64() % uint64(i+1))
			f.order[i], f.order[j] = f.order[j], f.order[i]
		}
	}
	f.failed, f.bad = false, 0
	m.faults = append(m.faults, f)
	return nil
}

// Faults returns a copy of the miner's scheduled faults.
func (m *Miner) Faults() []Fault {
	out := make([]Fault, len(m.faults))
	copy(out, m.faults)
	for i := range out {
		out[i].order = nil
	}
	return out
}

func clampInt(v, lo, hi int) int {
	return max(lo, min(hi, v))
}

// applyFaults recomputes each fault's effect for the current time. Effects
// that hardware cannot undo (dropped chips, a seized fan, a lost board, a
// dead PSU) stay.
func (m *Miner) applyFaults(h float64) {
	for i := range m.faults {
		f := &m.faults[i]
		if m.t < f.Start {
			continue
		}
		p := f.Progress(m.t)
		reached := m.t >= f.FailAt
		switch f.Kind {
		case FanWear:
			fn := &m.fans[f.Target]
			fn.health = 1 - 0.35*p*p
			fn.jitter = 20 + 400*p*p
			if reached {
				fn.dead, fn.jitter = true, 0
			}
		case ChipDrop:
			bd := &m.boards[f.Target]
			want := int(0.25 * float64(m.spec.Chips) * p * p * p)
			for f.bad < want && f.bad < len(f.order) {
				c := f.order[f.bad]
				if bd.ok[c/64]&(1<<(c%64)) != 0 {
					bd.ok[c/64] &^= 1 << (c % 64)
					bd.nOK--
				}
				f.bad++
			}
			bd.hwExtra = 0.002 * p * p
			if reached {
				bd.lost = true
			}
		case HWErrors:
			bd := &m.boards[f.Target]
			bd.hwExtra = hwBase * (math.Exp(math.Log(2500)*p) - 1)
			if reached {
				bd.lost = true
			}
		case PSUFailure:
			m.psuEffLoss = 0.04 * p
			if reached {
				if !f.failed {
					m.PowerFail()
				}
				m.psuVout = 0
				break
			}
			m.psuVout = 12 - 0.5*p*p + 0.05*p*m.norm()
		case ThermalRunaway:
			bd := &m.boards[f.Target]
			bd.rthMul = 1 + 0.5*p*p
			if reached {
				bd.rthMul = 4
			}
		case NetworkTimeout:
			m.net = NetCondition{StallProb: 0.3 * p * p, LatencyS: 0.02 + 1.5*p*p, Down: reached, Mode: f.Mode}
		}
		if reached {
			f.failed = true
		}
	}
}

// DrawFault draws a random fault for a miner from r: time to failure
// exponential with ratePerDay failures per simulated day, kind uniform,
// target board/fan uniform, lead-up the kind's default. ok is false when
// the rate is not positive.
func DrawFault(r *rand.Rand, spec *Spec, ratePerDay float64) (f Fault, ok bool) {
	if ratePerDay <= 0 {
		return Fault{}, false
	}
	kinds := FaultKinds
	if spec.Fans == 0 {
		kinds = kinds[1:]
	}
	f.Kind = kinds[r.IntN(len(kinds))]
	f.FailAt = r.ExpFloat64() / ratePerDay * 86400
	f.Start = f.FailAt - LeadUp[f.Kind]
	switch f.Kind {
	case FanWear:
		f.Target = r.IntN(spec.Fans)
	case NetworkTimeout:
		f.Mode = NetMode(r.IntN(2))
	default:
		f.Target = r.IntN(spec.Boards)
	}
	return f, true
}

// Repair is the technician's visit: every fault is removed and the parts it
// damaged are replaced (fans, chips, boards, PSU, heat path, cabling). A
// miner that protection stopped stays stopped until it is rebooted or woken;
// one without power stays off until PowerOn.
func (m *Miner) Repair() {
	m.faults = nil
	for f := 0; f < m.spec.Fans; f++ {
		m.fans[f].health, m.fans[f].jitter, m.fans[f].dead = 1, 0, false
	}
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		bd.ok = [MaxChips / 64]uint64{}
		for i := 0; i < m.spec.Chips; i++ {
			bd.ok[i/64] |= 1 << (i % 64)
		}
		bd.nOK, bd.lost, bd.rthMul, bd.hwExtra = m.spec.Chips, false, 1, 0
	}
	m.psuEffLoss, m.psuVout = 0, 12
	m.net = NetCondition{}
}
