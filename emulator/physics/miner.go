package physics

import (
	"math"
	"math/rand/v2"
	"sync"
)

// State is where a miner is in its start/stop cycle.
type State uint8

// Miner states. Hashboards draw power in Initializing, Ramping, Hashing and
// (briefly) Stopping; in the other states only the control board, the fans
// and the PSU's own losses draw power.
const (
	Hashing      State = iota // full operation at the target frequency
	Stopping                  // sleep requested: hashing stopped, boards powering down
	Sleeping                  // hashboards off; control board and fans idle (~25 W)
	Booting                   // OS boot or miner-process restart; fans at full speed
	Initializing              // chain init: chips enumerated, voltage set, not hashing yet
	Ramping                   // frequency ramp to the target
	Failed                    // firmware protection stopped hashing (overheat, fan lost, no boards)
	Off                       // no power at all (PSU failed): nothing answers
)

var stateNames = [...]string{"hashing", "stopping", "sleeping", "booting", "initializing", "ramping", "failed", "off"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Physical constants and calibration choices (documented in docs/emulator.md).
const (
	psuEff      = 0.945 // PSU efficiency at load (APW12 / P221 class, 230 V)
	psuNoLoadW  = 8.0   // PSU's own losses, drawn even when idle
	ctrlW       = 14.0  // control board incl. network
	fanElecW    = 0.6   // fan electronics at any speed
	fanMaxW     = 28.0  // one fan's motor power at 100 % (12 V, ~2.3 A class)
	dynFrac     = 0.88  // share of ASIC power that is dynamic (∝ f·V²) at the target temperature
	leakDoubleC = 20.0  // leakage doubles every 20 °C
	nomFanFrac  = 0.6   // fan speed the nominal point is calibrated at
	airCapJK    = 1800  // heat capacity of one air-cooled board + heatsink, J/K
	hydroCapJK  = 1200  // heat capacity of one liquid-cooled board + cold plate, J/K
	fanLagS     = 3.0   // fan spin-up/down time constant
	airMaxWK    = 168.0 // ρ·cp·Q of the airflow at 100 % fans (0.14 m³/s), W/K
	waterWK     = 558.0 // ρ·cp·Q of 8 L/min coolant, W/K
	fanKp       = 0.04  // fan loop proportional gain, PWM fraction per °C
	fanKi       = 0.001 // fan loop integral gain, PWM fraction per °C·s
	fanKpCurve  = 0.04  // temperature→PWM curve slope of stock firmware, per °C
	poolDiff    = 65536 // pool share difficulty for accepted-share counts
	hwBase      = 2e-5  // baseline fraction of nonces that are hardware errors
	minScale    = 0.3   // lowest frequency fraction any tuner goes to
	maxScale    = 1.2   // highest overclock fraction
	maxStep     = 1.0   // largest internal integration step, seconds
	profileStep = 0.05  // LuxOS profile step: ±5 % of nominal frequency
	hash5sTau   = 1.5   // time constant of the firmware's "5 s" hashrate average
)

var leakK = math.Ln2 / leakDoubleC

// calib holds per-miner constants derived from the Spec so that the nominal
// point (nominal frequency, target chip temperature, fans at 60 %) draws the
// nameplate wall power and the fan loop holds the target at 25 °C ambient.
type calib struct {
	dynChip  float64 // W per chip at f=f0, V=V0
	leakChip float64 // W per chip at V=V0, T=target
	g0, g1   float64 // board thermal conductance G(r) = g0 + g1·r^0.8, W/K
	capJK    float64
	hashChip float64 // GH/s per chip at f=f0
}

func newCalib(s *Spec) calib {
	fanW := float64(s.Fans) * (fanElecW + fanMaxW*nomFanFrac*nomFanFrac*nomFanFrac)
	asic := (s.PowerW-psuNoLoadW)*psuEff - ctrlW - fanW
	chips := float64(s.Boards * s.Chips)
	board := asic / float64(s.Boards)
	gNom := board / (s.TargetC - 25)
	c := calib{
		dynChip:  dynFrac * asic / chips,
		leakChip: (1 - dynFrac) * asic / chips,
		capJK:    airCapJK,
		hashChip: s.HashTH * 1000 / chips,
	}
	if s.Hydro {
		c.g0, c.g1, c.capJK = gNom, 0, hydroCapJK
	} else {
		c.g0 = 0.08 * gNom
		c.g1 = 0.92 * gNom / math.Pow(nomFanFrac, 0.8)
	}
	return c
}

// Mode is the stock Antminer work mode (miner-mode in its config).
type Mode uint8

// Stock work modes; the numbers are the miner-mode values on the wire.
const (
	ModeNormal   Mode = 0
	ModeSleep    Mode = 1
	ModeLowPower Mode = 3
)

type board struct {
	ok       [MaxChips / 64]uint64 // chips that hash
	nOK      int
	lost     bool    // chain gone (not detected)
	tChip    float64 // mean chip temperature, °C
	rthMul   float64 // thermal resistance multiplier (faults), 1 = healthy
	hwExtra  float64 // extra hardware-error fraction (faults)
	hwErrors float64 // cumulative hardware errors
	diff1    float64 // cumulative diff-1 nonces found
	powerW   float64 // DC power of the board
	hashGH   float64 // true hashrate now
	hash5s   float64 // 5 s average as firmware reports it

	factT, leakF, hwF float64 // tempFactors cache
}

type fan struct {
	rpm    float64 // true speed
	meas   float64 // tachometer reading (with bearing jitter)
	health float64 // max speed fraction (1 healthy; bearing wear lowers it)
	jitter float64 // tach jitter σ, RPM
	dead   bool
}

// Miner is one machine's physical and firmware state. It is not safe for
// concurrent use; the emulator guards each Miner with its own lock.
type Miner struct {
	spec *Spec
	fw   Firmware
	tm   Timing
	c    calib
	rng  rand.PCG

	t         float64 // simulated seconds since New
	state     State
	phaseLeft float64
	reason    string // why Failed
	ambient   float64

	wantSleep   bool
	mode        Mode
	runMode     Mode // the work mode the miner process last ran in (what stock stats report until the boards are down)
	profile     int
	powerTarget float64 // W; 0 = none
	targetScale float64 // frequency fraction of nominal the tuner wants
	scale       float64 // frequency fraction now
	rampStart   float64
	led         bool

	boards [MaxBoards]board
	fans   [MaxFans]fan
	pwm    float64
	integ  float64

	lastR, lastRp float64 // airflow and airflow^0.8, cached

	fanZero   float64 // seconds a fan has read 0 while boards were powered
	powerIn   float64
	powerDC   float64
	outletC   float64
	procStart float64 // when the miner process started (for Elapsed)
	osStart   float64 // when the OS booted
	accepted  float64
	rejected  float64
	hashSum   float64 // GH·s since process start, for the average

	psuEffLoss float64 // faults: efficiency lost
	psuVout    float64 // 12 V rail
	faults     []Fault
	net        NetCondition
}

// New returns a miner hashing in thermal steady state at the given ambient
// (coolant inlet for hydro models), as a fleet that was already running.
// seed makes its noise, uptime and chip-failure order reproducible.
func New(spec *Spec, fw Firmware, ambient float64, seed uint64) *Miner {
	m := new(Miner)
	*m = *settled(spec, fw, ambient)
	m.rng.Seed(seed, seed^0x9e3779b97f4a7c15)
	// Silicon and assembly lottery: each unit's dynamic power and heat path
	// differ a little from the nameplate (σ 1.5 % and 4 %).
	m.c.dynChip *= 1 + 0.015*m.norm()
	m.c.g1 *= 1 + 0.04*m.norm()
	m.backfill()
	return m
}

type settleKey struct {
	spec    *Spec
	fw      Firmware
	ambient float64
}

var (
	settleMu    sync.Mutex
	settleCache = map[settleKey]*Miner{}
)

// settled returns the steady-state template for a model, firmware and
// ambient, computed once: settling takes 600 steps, which for 10,000 miners
// would dominate fleet start-up.
func settled(spec *Spec, fw Firmware, ambient float64) *Miner {
	k := settleKey{spec, fw, ambient}
	settleMu.Lock()
	defer settleMu.Unlock()
	if m, ok := settleCache[k]; ok {
		return m
	}
	m := &Miner{spec: spec, fw: fw, tm: Timings[fw], c: newCalib(spec), ambient: ambient}
	m.rng.Seed(1, 2)
	m.targetScale, m.scale = 1, 1
	m.psuVout = 12.0
	for b := 0; b < spec.Boards; b++ {
		bd := &m.boards[b]
		for i := 0; i < spec.Chips; i++ {
			bd.ok[i/64] |= 1 << (i % 64)
		}
		bd.nOK = spec.Chips
		bd.rthMul = 1
	}
	for f := 0; f < spec.Fans; f++ {
		m.fans[f].health = 1
	}
	m.settle()
	settleCache[k] = m
	return m
}

// settle puts temperatures and fans at the steady state of the current
// operating point by iterating the static balance (used at start so a fresh
// fleet does not spend its first minutes warming up).
func (m *Miner) settle() {
	m.pwm = nomFanFrac
	m.integ = nomFanFrac
	for f := 0; f < m.spec.Fans; f++ {
		m.fans[f].rpm = nomFanFrac * m.spec.MaxRPM
		m.fans[f].meas = m.fans[f].rpm
	}
	for b := 0; b < m.spec.Boards; b++ {
		m.boards[b].tChip = m.spec.TargetC
	}
	for i := 0; i < 600; i++ {
		m.step(maxStep)
	}
	m.t = 0
}

// backfill gives a new miner an uptime (2 h to 30 days, from its seed) and
// the counters that uptime at this operating point would have produced.
func (m *Miner) backfill() {
	up := 7200 + float64(m.rng.Uint64()%(30*86400-7200))
	m.procStart, m.osStart = -up, -up-120
	hash := 0.0
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		nonces := bd.hashGH * 1e9 / 4294967296 * up
		bd.diff1, bd.hwErrors = nonces*(1-hwBase), nonces*hwBase
		hash += bd.hashGH * (1 - hwBase)
	}
	m.hashSum = hash * up
	m.accepted = hash * 1e9 / 4294967296 * up / poolDiff * 0.998
	m.rejected = hash * 1e9 / 4294967296 * up / poolDiff * 0.002
}

// Spec returns the miner's model.
func (m *Miner) Spec() *Spec { return m.spec }

// Firmware returns the firmware the miner runs.
func (m *Miner) Firmware() Firmware { return m.fw }

// Now returns the simulated seconds since the miner was created.
func (m *Miner) Now() float64 { return m.t }

// State returns the current state and, when Failed, the reason.
func (m *Miner) State() (State, string) { return m.state, m.reason }

// SetAmbient changes the inlet air (or coolant) temperature.
func (m *Miner) SetAmbient(c float64) { m.ambient = c }

// Step advances the miner by dt simulated seconds, in internal steps of at
// most one second.
func (m *Miner) Step(dt float64) {
	for dt > 1e-9 {
		h := math.Min(dt, maxStep)
		m.step(h)
		dt -= h
	}
}
