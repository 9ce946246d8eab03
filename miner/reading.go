package miner

import (
	"strings"
	"time"
)

// Dialect is the firmware family a miner speaks.
type Dialect string

// The dialects this package speaks.
const (
	DialectUnknown    Dialect = ""
	DialectAntminer   Dialect = "antminer"   // stock Bitmain bmminer: 4028 reads, HTTP CGI control
	DialectLuxOS      Dialect = "luxos"      // LUXminer: 4028 reads and session-based control
	DialectBraiins    Dialect = "braiins"    // Braiins OS+ bosminer: 4028 + REST /api/v1
	DialectWhatsminer Dialect = "whatsminer" // MicroBT btminer: API v3 on 4433
	DialectCGMiner    Dialect = "cgminer"    // any other cgminer-API speaker: reads only
)

// Dialects lists the dialects in detection order, for flags and docs.
var Dialects = []Dialect{DialectLuxOS, DialectBraiins, DialectAntminer, DialectWhatsminer, DialectCGMiner}

// State is what the miner is doing, as far as its telemetry shows.
type State string

// Miner states.
const (
	StateUnknown  State = "unknown"
	StateHashing  State = "hashing"  // hashrate above a tenth of ideal
	StateStarting State = "starting" // process up, boards initialising or ramping
	StateSleeping State = "sleeping" // hashboards off on command, ~control-board power
	StateFault    State = "fault"    // should hash but cannot: boards lost, overheated, no chips
)

// Reading is one poll of one miner, in the same units for every dialect.
// Zero means "not reported" for temperatures, fan speeds and counts.
type Reading struct {
	Addr     string    // the host polled
	Dialect  Dialect   // firmware family
	At       time.Time // when the reading was taken (client clock)
	Make     string    // "Bitmain", "MicroBT"
	Model    string    // "Antminer S19j Pro"
	Firmware string    // firmware version string as reported
	State    State

	HashrateTHs      float64 // now (5 s or realtime average), TH/s
	HashrateAvgTHs   float64 // since start, TH/s
	HashrateIdealTHs float64 // what the firmware expects at its current settings, TH/s

	PowerW         float64 // wall power, W
	PowerEstimated bool    // PowerW is estimated from hashrate and model, not measured
	PowerLimitW    float64 // configured power target, W (0: none reported)
	Profile        string  // active power profile or mode, where the firmware names one

	Boards        []Board
	ChipsFound    int // chips answering, all boards
	ChipsExpected int // chips the model should have, all boards (0: unknown)

	InletC   float64   // air (or coolant) intake temperature, °C
	OutletC  float64   // exhaust temperature, °C
	ChipMaxC float64   // hottest chip, °C
	FansRPM  []float64 // one entry per fan that reports

	HWErrors    int64   // hardware errors since start
	HWErrorRate float64 // fraction of work with hardware errors (Device Hardware% / 100)
	Accepted    int64   // accepted shares
	Rejected    int64   // rejected shares

	Pools  []Pool
	Uptime time.Duration // since the mining process started
	Errors []ErrorCode   // firmware-reported error codes, decoded
}

// Board is one hashboard (chain).
type Board struct {
	Index         int
	HashrateTHs   float64
	IdealTHs      float64
	ChipsFound    int
	ChipsExpected int
	ChipsBad      int       // chips marked 'x' in chain_acsN
	ChipTempsC    []float64 // chip sensors
	PCBTempsC     []float64 // board sensors
	HWErrors      int64
	FreqMHz       float64
}

// Pool is one configured pool.
type Pool struct {
	URL      string
	User     string
	Alive    bool
	Active   bool // the pool currently receiving work
	Accepted int64
	Rejected int64
}

// ErrorCode is a firmware error with its meaning.
type ErrorCode struct {
	Code    string
	Message string
}

// classify sets r.State from the telemetry. Measured power decides first:
// below sleepPowerW the hashboards are off, whatever the decaying 5 s
// hashrate average still shows, and above it they are not, whatever a mode
// flag claims. Without a power measurement (stock Antminer) the firmware's
// sleep flag (Mode 1) counts once the boards have stopped (ideal hashrate 0
// or under a tenth). Then hashrate against ideal, then uptime.
func (r *Reading) classify(sleepFlag, measured bool) {
	ideal := r.HashrateIdealTHs
	switch {
	case measured && r.PowerW < sleepPowerW:
		r.State = StateSleeping
	case !measured && sleepFlag && (ideal == 0 || r.HashrateTHs < 0.1*ideal):
		r.State = StateSleeping
	case r.HashrateTHs > 0 && (ideal == 0 || r.HashrateTHs >= 0.1*ideal):
		r.State = StateHashing
	case r.HashrateTHs > 0:
		r.State = StateStarting
	case r.Uptime > 0 && r.Uptime < startGrace:
		r.State = StateStarting
	case r.Uptime >= startGrace:
		r.State = StateFault
	default:
		r.State = StateUnknown
	}
}

// sleepPowerW: a miner drawing less than this with no hashrate has its
// hashboards off. Control board and fans draw 15–40 W; one hashboard at its
// lowest frequency draws several hundred.
const sleepPowerW = 150

// startGrace is how long a freshly started miner may show no hashrate before
// that counts as a fault: stock firmware needs minutes to init chains and
// ramp frequency.
const startGrace = 15 * time.Minute

// efficiencyJTH is nameplate J/TH by model, for estimating power on firmware
// that does not measure it (stock Antminer). Keys are matched as substrings
// of the reported model, longest first. Figures: manufacturers' spec sheets.
var efficiencyJTH = []struct {
	model string
	jth   float64
}{
	{"S21 Hydro", 16}, {"S21 Hyd", 16}, {"S21 XP", 13.5}, {"S21", 17.5},
	{"S19j Pro", 29.5}, {"S19 XP", 21.5}, {"S19k Pro", 23}, {"S19 Pro", 29.5}, {"S19", 34.5},
	{"M60S", 18.5}, {"M60", 19.9}, {"M50S", 26}, {"M50", 29}, {"M30S++", 31},
}

// controlBoardW is the draw of control board and fans with hashboards off,
// used when estimating a sleeping miner's power.
const controlBoardW = 25

// estimatePower fills PowerW when the firmware did not measure it, and
// flags it as estimated: control-board power when sleeping or not hashing,
// else hashrate times the model's nameplate efficiency.
func (r *Reading) estimatePower() {
	if r.PowerW > 0 {
		return
	}
	r.PowerEstimated = true
	if r.State == StateSleeping || r.HashrateTHs <= 0 {
		r.PowerW = controlBoardW
		return
	}
	r.PowerW = r.HashrateTHs * modelJTH(r.Model)
}

// modelJTH returns the nameplate efficiency of model, or 30 J/TH (a generic
// air-cooled SHA-256 ASIC of the S19 era) when the model is unknown.
func modelJTH(model string) float64 {
	m := strings.ToLower(model)
	for _, e := range efficiencyJTH {
		if strings.Contains(m, strings.ToLower(e.model)) {
			return e.jth
		}
	}
	return 30
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }
