package physics

// Telemetry is everything a firmware can report about a miner at one
// instant, in physical units. The emulator's servers format it per dialect.
type Telemetry struct {
	T        float64 // simulated seconds since New
	State    State
	Reason   string  // why Failed
	Uptime   float64 // seconds since the miner process started
	OSUptime float64 // seconds since boot

	HashGH    float64 // 5 s average, GH/s
	HashAvgGH float64 // average since the process started
	IdealGH   float64 // what the current frequency should give with all chips
	NomGH     float64 // nameplate
	PowerW    float64 // wall power
	PowerDCW  float64 // PSU output
	PSUVout   float64 // 12 V rail
	FreqMHz   float64
	VoltV     float64
	Target    float64 // power target, W (0 none)
	Profile   int
	Mode      Mode // commanded work mode (stock: miner-mode)
	// FirmwareMode is the work mode the firmware reports in its stats:
	// the commanded one, except that sleep shows only once the hashboards
	// are down (until then the previous mode).
	FirmwareMode Mode
	Sleeping     bool // asked to sleep
	LED          bool

	InletC  float64
	OutletC float64
	FanPWM  float64 // 0…1
	Fans    [MaxFans]float64
	NFans   int

	Boards  [MaxBoards]BoardTelemetry
	NBoards int

	Accepted float64
	Rejected float64
	HWErrors float64
	Diff1    float64
}

// BoardTelemetry is one hashboard.
type BoardTelemetry struct {
	Lost     bool
	HashGH   float64 // 5 s average
	IdealGH  float64
	Chips    int // chips on the board
	ChipsOK  int
	OK       [MaxChips / 64]uint64 // bit i set: chip i hashes
	ChipC    float64               // mean chip temperature
	ChipInC  float64               // chip sensor on the inlet side
	ChipOutC float64               // chip sensor on the outlet side
	PCBInC   float64
	PCBOutC  float64
	PowerW   float64
	HWErrors float64
	Diff1    float64
}

// ChipOK reports whether chip i of a board hashes.
func (b *BoardTelemetry) ChipOK(i int) bool {
	return i >= 0 && i < MaxChips && b.OK[i/64]&(1<<(i%64)) != 0
}

// Telemetry fills t with the miner's current readings.
func (m *Miner) Telemetry(t *Telemetry) {
	*t = Telemetry{
		T: m.t, State: m.state, Reason: m.reason,
		Uptime: m.t - m.procStart, OSUptime: m.t - m.osStart,
		NomGH: m.spec.HashTH * 1000, PowerW: m.powerIn, PowerDCW: m.powerDC, PSUVout: m.psuVout,
		Target: m.powerTarget, Profile: m.profile, Mode: m.mode, FirmwareMode: m.reportedMode(), Sleeping: m.wantSleep, LED: m.led,
		InletC: m.ambient, OutletC: m.outletC, FanPWM: m.pwm, NFans: m.spec.Fans, NBoards: m.spec.Boards,
		Accepted: m.accepted, Rejected: m.rejected,
	}
	if m.state == Off {
		t.Uptime, t.OSUptime, t.PSUVout = 0, 0, 0
	}
	hashing := m.state == Hashing || m.state == Ramping
	if hashing {
		t.FreqMHz = m.spec.FreqMHz * m.scale
		t.VoltV = m.spec.VoltV * voltFrac(m.scale)
	}
	if t.Uptime > 0 {
		t.HashAvgGH = m.hashSum / t.Uptime
	}
	for f := 0; f < m.spec.Fans; f++ {
		t.Fans[f] = m.fans[f].meas
	}
	for b := 0; b < m.spec.Boards; b++ {
		bd := &m.boards[b]
		tb := &t.Boards[b]
		tb.Lost, tb.Chips, tb.ChipsOK, tb.OK = bd.lost, m.spec.Chips, bd.nOK, bd.ok
		if bd.lost {
			tb.ChipsOK, tb.OK = 0, [MaxChips / 64]uint64{}
		}
		tb.HashGH = bd.hash5s
		if hashing && !bd.lost {
			tb.IdealGH = m.c.hashChip * m.scale * float64(m.spec.Chips)
		}
		tb.ChipC = bd.tChip
		rise := bd.tChip - m.ambient
		tb.ChipInC = m.ambient + 0.8*rise
		tb.ChipOutC = m.ambient + 1.2*rise
		tb.PCBInC = m.ambient + 0.55*rise
		tb.PCBOutC = m.ambient + 0.85*rise
		tb.PowerW = bd.powerW
		tb.HWErrors, tb.Diff1 = bd.hwErrors, bd.diff1
		t.HashGH += tb.HashGH
		t.IdealGH += tb.IdealGH
		t.HWErrors += bd.hwErrors
		t.Diff1 += bd.diff1
	}
}

// HostUp reports whether the control board's OS is up (its web server and
// management APIs answer): false with no power or during the OS boot.
func (m *Miner) HostUp() bool {
	if m.state == Off {
		return false
	}
	return !(m.state == Booting && m.t-m.osStart < m.tm.Boot)
}

// APIUp reports whether the miner process (cgminer-family API on 4028) is
// running: not while the host is down or the process is restarting.
func (m *Miner) APIUp() bool { return m.HostUp() && m.state != Booting }
