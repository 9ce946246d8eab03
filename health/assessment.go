package health

import (
	"fmt"
	"strings"
	"time"
)

// Kind is a failure the predictor recognises. The names match the
// emulator's fault kinds (docs/emulator.md), which are its training ground.
type Kind uint8

// Failure kinds.
const (
	KindNone       Kind = iota
	FanWear             // bearing wear: the fan slows against its peers and its tach wobbles
	ChipDrop            // chips drop out of one board, then the board is lost
	HWErrors            // one board's hardware-error rate climbs, then the chain is disabled
	PSUFailure          // the PSU loses efficiency and its rail sags, then it shuts off
	ThermalRunaway      // one board's heat path degrades, then it overheats
	NetworkTimeout      // polls stall more and more, then the miner is unreachable
	NumKinds            // number of kinds including KindNone, for arrays indexed by Kind
)

var kindNames = [...]string{"none", "fan_wear", "chip_drop", "hw_errors", "psu_failure", "thermal_runaway", "network_timeout"}

// Kinds lists the failure kinds, in order.
var Kinds = []Kind{FanWear, ChipDrop, HWErrors, PSUFailure, ThermalRunaway, NetworkTimeout}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalText writes the kind's name, so JSON carries "fan_wear".
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for i, n := range kindNames {
		if n == s {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown failure kind %q (known: %s)", string(b), strings.Join(kindNames[:], ", "))
}

// Assessment is the predictor's verdict on one miner.
type Assessment struct {
	// At is the newest sample's time: the assessment is as of then.
	At time.Time `json:"at"`
	// Risk is 0…1: the strongest kind's score. Alarm marks Risk ≥ the
	// alarm threshold (0.5 by default).
	Risk  float64 `json:"risk"`
	Alarm bool    `json:"alarm"`
	// Kind is the most likely failure; KindNone when no score reaches 0.1.
	Kind Kind `json:"kind"`
	// TTFHours estimates the hours to failure by extrapolating the
	// precursor's trend; 0 when the evidence does not support an estimate.
	TTFHours float64 `json:"ttf_h,omitempty"`
	// Failed: the newest sample already shows a failure (a lost board, a
	// stopped fan, a protection stop). Risk is then 1.
	Failed bool `json:"failed,omitempty"`
	// Scores holds every kind's score (index = Kind), for dashboards.
	Scores [NumKinds]float64 `json:"-"`
	// Reasons explain the verdict with the numbers behind it, strongest
	// first.
	Reasons []string `json:"reasons"`
	// Samples and SpanHours describe the history used.
	Samples   int     `json:"samples"`
	SpanHours float64 `json:"span_h"`
}

// Score returns the score of kind k.
func (a *Assessment) Score(k Kind) float64 {
	if k >= NumKinds {
		return 0
	}
	return a.Scores[k]
}
