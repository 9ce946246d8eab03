// Package health predicts miner failures hours ahead from the telemetry a
// poller already collects: fan speeds, board and inlet temperatures, wall
// power, per-board hashrate and chip counts, hardware-error counters and
// poll timeouts. Assess is pure: it takes a miner's recent history as values
// (no clock, no I/O) and returns an explainable Assessment.
package health

import "time"

// State is what a sample says the miner was doing.
type State uint8

// Sample states. Only Hashing samples feed the efficiency, temperature and
// error-rate features; the others still count for fans and timeouts.
const (
	StateUnknown  State = iota
	StateHashing        // boards hashing (including a ramp)
	StateStarting       // booting or initialising
	StateSleeping       // hashboards off on command
	StateFault          // firmware protection stopped hashing, or boards lost
)

var stateNames = [...]string{"unknown", "hashing", "starting", "sleeping", "fault"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Sample is one poll of one miner. Zero means "not reported" for every
// number; a Timeout sample carries only At.
type Sample struct {
	At      time.Time
	Timeout bool // the poll got no reply (stall, reset, refused)
	State   State

	InletC         float64 // intake air (coolant) temperature, °C
	PowerW         float64 // wall power, W
	PowerEstimated bool    // PowerW was derived from hashrate: not used for PSU evidence
	PSUVoltsV      float64 // 12 V rail, where the firmware reports it (Whatsminer)
	HashTHs        float64 // whole miner, now
	IdealTHs       float64 // what the current settings should give

	FansRPM []float64 // tachometer readings, one per fan
	Boards  []Board
}

// Board is one hashboard in a Sample.
type Board struct {
	Lost     bool    // chain not detected (the failure, not a precursor)
	HashTHs  float64 // board hashrate now
	IdealTHs float64 // board hashrate at this frequency with all chips
	Chips    int     // chips the board should have (0: unknown)
	ChipsOK  int     // chips hashing (chain_acs 'o'); 0 with Chips 0: unknown
	ChipC    float64 // chip temperature (mean or hottest sensor), °C
	// HWErrors is the cumulative hardware-error count since the miner
	// process started; a decrease marks a restart. Negative: not reported.
	HWErrors float64
}

// noncesPerTHs is diff-1 nonces per second per TH/s: 10¹²/2³².
const noncesPerTHs = 1e12 / 4294967296
