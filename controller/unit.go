package controller

import (
	"math"
	"time"

	"github.com/jouleworks/joule/site"
)

// Desired states a miner can be asked to be in.
const (
	WantHashing  = "hashing"
	WantSleeping = "sleeping"
)

// Observed states beyond the miner package's: a miner that did not answer
// the last poll is offline.
const (
	StateOffline = "offline"
)

// Unit is one controllable miner as the controller knows it: how to name
// it, which site tier it belongs to, and its nameplate figures (used when
// telemetry cannot tell its efficiency).
type Unit struct {
	ID       string
	Address  string
	Tier     int // index into site.Tiers
	Model    string
	Firmware string
	// NominalW and NominalTHs are the tier's first (nominal) profile.
	NominalW   float64
	NominalTHs float64
	// SleepW is what the miner draws asleep.
	SleepW float64
	// Profiles are the tier's power profiles, nominal first (New fills
	// them from the site model when empty). A desired profile names one.
	Profiles []site.Profile
}

// profile returns the unit's profile called name.
func (u Unit) profile(name string) (site.Profile, bool) {
	for _, p := range u.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return site.Profile{}, false
}

// profileIndex is the index of the named profile; "" (never pinned) and
// unknown names are the nominal profile 0.
func (u Unit) profileIndex(name string) int {
	for k, p := range u.Profiles {
		if p.Name == name {
			return k
		}
	}
	return 0
}

// profileConfirmed is the telemetry test for a profile (power target)
// command: the miner hashes and its wall power has settled within tol
// (a fraction) of the profile's watts. The firmware accepting the target
// proves nothing: the tuner may still be slewing, or clamp it.
func profileConfirmed(p site.Profile, o Observation, tol float64) bool {
	return wakeConfirmed(o) && o.PowerW > 0 && math.Abs(o.PowerW-p.W) <= tol*p.W
}

// Observation is what the last poll saw of one miner.
type Observation struct {
	At          time.Time
	State       string // hashing, starting, sleeping, fault, unknown, offline
	PowerW      float64
	HashrateTHs float64
	ChipC       float64
	Errors      []string
}

// Reachable reports whether the miner answered its last poll.
func (o Observation) Reachable() bool { return o.State != "" && o.State != StateOffline }

// sleepConfirmed is the telemetry test for a sleep command: the miner's
// hashrate stopped (or it says it sleeps) and its power fell to
// control-board level, below a tenth of nameplate. A command ACK alone
// never counts.
func sleepConfirmed(u Unit, o Observation) bool {
	if !o.Reachable() {
		return false
	}
	powerFell := o.PowerW < 0.1*u.NominalW // 0 when the firmware does not report power
	if o.State == WantSleeping {
		// The firmware's sleep flag shows before the boards have powered
		// down: wait for the power to fall too.
		return powerFell
	}
	return o.HashrateTHs <= 0 && o.PowerW > 0 && powerFell
}

// wakeConfirmed is the telemetry test for a wake command: hashrate is back.
func wakeConfirmed(o Observation) bool {
	return o.Reachable() && o.State == WantHashing && o.HashrateTHs > 0
}

// satisfied reports whether o already shows the desired state.
func satisfied(u Unit, want string, o Observation) bool {
	switch want {
	case WantSleeping:
		return sleepConfirmed(u, o)
	case WantHashing:
		return wakeConfirmed(o)
	}
	return true
}

// jPerTH is the efficiency used to rank miners: measured when the miner is
// hashing, else nameplate. Lower is better.
func (u Unit) jPerTH(o Observation) float64 {
	if o.State == WantHashing && o.HashrateTHs > 0 && o.PowerW > 0 {
		return o.PowerW / o.HashrateTHs
	}
	if u.NominalTHs > 0 {
		return u.NominalW / u.NominalTHs
	}
	return math.Inf(1)
}

// wantW is the power a miner will draw in state want at the named profile
// ("" keeps whatever it runs at).
func (u Unit) wantW(want, profile string, o Observation) float64 {
	if want == WantHashing && profile != "" {
		if p, ok := u.profile(profile); ok {
			return p.W
		}
	}
	return u.expectedW(want, o)
}

// expectedW is the power a miner will draw in state want.
func (u Unit) expectedW(want string, o Observation) float64 {
	if want == WantSleeping {
		if o.State == WantSleeping && o.PowerW > 0 {
			return o.PowerW
		}
		return u.SleepW
	}
	if o.State == WantHashing && o.PowerW > 0 {
		return o.PowerW
	}
	return u.NominalW
}
