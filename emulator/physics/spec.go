// Package physics is the pure model of one ASIC miner: hashrate from chip
// frequency, power from frequency, voltage and temperature, board
// temperatures with thermal lag, a fan control loop, firmware start/stop
// timings and faults with their lead-up signatures. It has no I/O and no
// clock: a Miner moves only when Step is called with a time step.
package physics

import (
	"fmt"
	"sort"
	"strings"
)

// Spec is one miner model: its public nameplate figures and the modelled
// internals (chip counts, nominal frequency and voltage) the physics needs.
type Spec struct {
	Key      string  // short name used in fleet mixes, e.g. "s19jpro"
	Make     string  // "Bitmain" or "MicroBT"
	Model    string  // as the firmware reports it, e.g. "Antminer S19j Pro"
	HashTH   float64 // nameplate hashrate, TH/s
	PowerW   float64 // nameplate wall power, W
	Boards   int     // hashboards
	Chips    int     // chips per board
	FreqMHz  float64 // nominal chip frequency
	VoltV    float64 // nominal board (chain) voltage
	Fans     int     // fans; 0 for liquid cooled
	MaxRPM   float64 // fan speed at 100 % PWM
	MinRPM   float64 // lowest speed the firmware runs the fans at
	Hydro    bool    // liquid cooled: "ambient" is the coolant inlet
	TargetC  float64 // chip temperature the fan loop holds
	CritC    float64 // chip temperature at which firmware shuts down
	Source   string  // where HashTH/PowerW come from
	ChipName string  // ASIC part, for stats output
}

// EfficiencyJTH is the nameplate efficiency in J/TH.
func (s *Spec) EfficiencyJTH() float64 { return s.PowerW / s.HashTH }

// MaxBoards and MaxFans bound the fixed-size arrays in Miner and Telemetry,
// which keep 10,000 miners allocation-free when stepped.
const (
	MaxBoards = 4
	MaxFans   = 4
	MaxChips  = 256
)

// Models are the miner models the emulator knows. Hashrate and power are the
// manufacturers' published figures (see Source); chip counts, frequencies and
// voltages are typical public values for the ASIC generation.
var Models = []Spec{
	{Key: "s19jpro", Make: "Bitmain", Model: "Antminer S19j Pro", HashTH: 104, PowerW: 3068,
		Boards: 3, Chips: 126, FreqMHz: 525, VoltV: 13.8, Fans: 4, MaxRPM: 6000, MinRPM: 1200,
		TargetC: 70, CritC: 95, ChipName: "BM1362",
		Source: "Bitmain product page Antminer S19j Pro 104Th: 104 TH/s, 3068 W, 29.5 J/TH"},
	{Key: "s19xp", Make: "Bitmain", Model: "Antminer S19 XP", HashTH: 140, PowerW: 3010,
		Boards: 3, Chips: 110, FreqMHz: 550, VoltV: 13.6, Fans: 4, MaxRPM: 6000, MinRPM: 1200,
		TargetC: 70, CritC: 95, ChipName: "BM1366",
		Source: "Bitmain product page Antminer S19 XP 140Th: 140 TH/s, 3010 W, 21.5 J/TH"},
	{Key: "s21", Make: "Bitmain", Model: "Antminer S21", HashTH: 200, PowerW: 3500,
		Boards: 3, Chips: 108, FreqMHz: 490, VoltV: 13.2, Fans: 4, MaxRPM: 6600, MinRPM: 1200,
		TargetC: 70, CritC: 95, ChipName: "BM1368",
		Source: "Bitmain product page Antminer S21 200Th: 200 TH/s, 3500 W, 17.5 J/TH"},
	{Key: "s21hydro", Make: "Bitmain", Model: "Antminer S21 Hydro", HashTH: 335, PowerW: 5360,
		Boards: 3, Chips: 216, FreqMHz: 450, VoltV: 14.4, Fans: 0, Hydro: true,
		TargetC: 65, CritC: 95, ChipName: "BM1368",
		Source: "Bitmain product page Antminer S21 Hyd. 335Th: 335 TH/s, 5360 W, 16 J/TH"},
	{Key: "m50", Make: "MicroBT", Model: "WhatsMiner M50", HashTH: 114, PowerW: 3306,
		Boards: 3, Chips: 105, FreqMHz: 520, VoltV: 13.9, Fans: 2, MaxRPM: 7000, MinRPM: 1500,
		TargetC: 72, CritC: 100, ChipName: "K7",
		Source: "MicroBT WhatsMiner M50 spec sheet: 114 TH/s, 29 J/TH (3306 W)"},
	{Key: "m50s", Make: "MicroBT", Model: "WhatsMiner M50S", HashTH: 126, PowerW: 3276,
		Boards: 3, Chips: 111, FreqMHz: 540, VoltV: 13.7, Fans: 2, MaxRPM: 7000, MinRPM: 1500,
		TargetC: 72, CritC: 100, ChipName: "K7",
		Source: "MicroBT WhatsMiner M50S spec sheet: 126 TH/s, 26 J/TH (3276 W)"},
	{Key: "m60", Make: "MicroBT", Model: "WhatsMiner M60", HashTH: 172, PowerW: 3422,
		Boards: 3, Chips: 120, FreqMHz: 560, VoltV: 13.4, Fans: 2, MaxRPM: 7000, MinRPM: 1500,
		TargetC: 72, CritC: 100, ChipName: "K8",
		Source: "MicroBT WhatsMiner M60 spec sheet: 172 TH/s, 19.9 J/TH (3422 W)"},
	{Key: "m60s", Make: "MicroBT", Model: "WhatsMiner M60S", HashTH: 186, PowerW: 3441,
		Boards: 3, Chips: 120, FreqMHz: 600, VoltV: 13.4, Fans: 2, MaxRPM: 7000, MinRPM: 1500,
		TargetC: 72, CritC: 100, ChipName: "K8",
		Source: "MicroBT WhatsMiner M60S spec sheet: 186 TH/s, 18.5 J/TH (3441 W)"},
}

// LookupModel finds a model by its Key (case-insensitive).
func LookupModel(key string) (*Spec, error) {
	k := strings.ToLower(strings.TrimSpace(key))
	for i := range Models {
		if Models[i].Key == k {
			return &Models[i], nil
		}
	}
	return nil, fmt.Errorf("unknown model %q (known: %s)", key, strings.Join(ModelKeys(), ", "))
}

// ModelKeys lists the known model keys, sorted.
func ModelKeys() []string {
	keys := make([]string, len(Models))
	for i, m := range Models {
		keys[i] = m.Key
	}
	sort.Strings(keys)
	return keys
}
