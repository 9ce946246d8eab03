package physics

import (
	"fmt"
	"strings"
)

// Firmware is the software a miner runs. It decides the API dialect (in the
// emulator package) and, here, how fast the miner stops and starts and how it
// moves between power levels.
type Firmware uint8

// Firmwares the emulator models.
const (
	Stock      Firmware = iota // Bitmain stock bmminer
	LuxOS                      // Luxor LuxOS (LUXminer)
	Braiins                    // Braiins OS+ (bosminer)
	Whatsminer                 // MicroBT stock btminer
)

var firmwareNames = [...]string{"stock", "luxos", "braiins", "whatsminer"}

func (f Firmware) String() string {
	if int(f) < len(firmwareNames) {
		return firmwareNames[f]
	}
	return fmt.Sprintf("firmware(%d)", f)
}

// ParseFirmware reads a firmware name as used in fleet mixes.
func ParseFirmware(s string) (Firmware, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	switch k {
	case "bmminer", "antminer":
		return Stock, nil
	case "luxminer":
		return LuxOS, nil
	case "bosminer", "braiinsos", "bos":
		return Braiins, nil
	case "btminer":
		return Whatsminer, nil
	}
	for i, n := range firmwareNames {
		if n == k {
			return Firmware(i), nil
		}
	}
	return 0, fmt.Errorf("unknown firmware %q (known: %s)", s, strings.Join(firmwareNames[:], ", "))
}

// Timing is how long (simulated seconds) a firmware spends in each phase of
// stopping and starting. Wake from sleep runs Init then Ramp (plus Boot when
// the firmware restarts its miner process to wake); a reboot adds the OS boot.
type Timing struct {
	Stop     float64 // hashing → hashboards off (sleep power reached)
	WakeBoot float64 // miner process (re)start on wake; 0 if the process stays up
	Boot     float64 // OS boot after a reboot or power loss
	Init     float64 // chain init: enumerate chips, set voltage
	Ramp     float64 // frequency ramp from RampFrom×target to target
	RampFrom float64 // fraction of target frequency the ramp starts at
	Slew     float64 // fraction of nominal frequency per second when retuning while hashing
	FanLost  float64 // seconds a fan may read 0 RPM before the firmware stops hashing
	FanPI    bool    // fan loop is PI to the target (else a proportional temperature→PWM curve)
}

// Timings per firmware. Stock Antminer and Whatsminer firmware drive their
// fans from a temperature→PWM curve (proportional only), so anything that
// costs airflow shows as warmer chips; LuxOS and Braiins OS+ run a PID loop
// to a target temperature, so the same loss shows as higher fan speed.
// Sources: LuxOS documents curtail sleep/wakeup as
// seconds (hashboards powered off, control board up); Braiins OS+ pause/resume
// restarts the tuner on saved profiles (tens of seconds); stock Antminer
// sleep→normal restarts bmminer (chain init and a stepwise frequency ramp,
// minutes); Whatsminer service start is a cold miner start (~1-2 min).
var Timings = [...]Timing{
	Stock:      {Stop: 15, WakeBoot: 40, Boot: 90, Init: 60, Ramp: 120, RampFrom: 0.5, Slew: 0.004, FanLost: 60, FanPI: false},
	LuxOS:      {Stop: 2, WakeBoot: 0, Boot: 45, Init: 2, Ramp: 3, RampFrom: 0.7, Slew: 0.02, FanLost: 60, FanPI: true},
	Braiins:    {Stop: 3, WakeBoot: 0, Boot: 60, Init: 15, Ramp: 20, RampFrom: 0.6, Slew: 0.01, FanLost: 60, FanPI: true},
	Whatsminer: {Stop: 5, WakeBoot: 20, Boot: 60, Init: 40, Ramp: 45, RampFrom: 0.5, Slew: 0.005, FanLost: 60, FanPI: false},
}

// WakeDuration is the time from a wake command to full hashrate from sleep.
func (t Timing) WakeDuration() float64 { return t.WakeBoot + t.Init + t.Ramp }
