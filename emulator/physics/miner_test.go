package physics

import (
	"math"
	"testing"
)

func mustModel(t testing.TB, key string) *Spec {
	t.Helper()
	s, err := LookupModel(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tel(m *Miner) Telemetry {
	var t Telemetry
	m.Telemetry(&t)
	return t
}

func TestNameplate(t *testing.T) {
	for i := range Models {
		s := &Models[i]
		fw := Stock
		if s.Make == "MicroBT" {
			fw = Whatsminer
		}
		m := New(s, fw, 25, uint64(i+1))
		m.Step(1800)
		got := tel(m)
		if d := math.Abs(got.PowerW-s.PowerW) / s.PowerW; d > 0.04 {
			t.Errorf("%s: power %.0f W, want %.0f W ± 4 %%", s.Key, got.PowerW, s.PowerW)
		}
		if d := math.Abs(got.HashGH/1000-s.HashTH) / s.HashTH; d > 0.02 {
			t.Errorf("%s: hashrate %.1f TH/s, want %.0f ± 2 %%", s.Key, got.HashGH/1000, s.HashTH)
		}
		for b := 0; b < got.NBoards; b++ {
			if c := got.Boards[b].ChipC; s.Fans > 0 && math.Abs(c-s.TargetC) > 2 {
				t.Errorf("%s board %d: chip %.1f °C, want %.0f ± 2 (fan loop target)", s.Key, b, c, s.TargetC)
			}
		}
	}
}

// untilState steps one second at a time until the miner is hashing at
// ≥ 95 % of its ideal rate, or limit seconds pass; it returns the seconds.
func untilHashing(m *Miner, limit int) int {
	for s := 1; s <= limit; s++ {
		m.Step(1)
		tl := tel(m)
		if tl.State == Hashing && tl.HashGH >= 0.95*tl.IdealGH && tl.IdealGH > 0 {
			return s
		}
	}
	return -1
}

var wakeTable = []struct {
	fw       Firmware
	model    string
	min, max int // seconds from wake to ≥ 95 % hashrate
	sleepMax int // seconds from sleep to ≤ 30 W
}{
	{LuxOS, "s19xp", 3, 9, 5},
	{Braiins, "s19jpro", 20, 60, 8},
	{Stock, "s19jpro", 120, 600, 20},
	{Whatsminer, "m50s", 60, 150, 8},
}

func TestSleepAndWakeTimes(t *testing.T) {
	for _, tc := range wakeTable {
		t.Run(tc.fw.String(), func(t *testing.T) {
			m := New(mustModel(t, tc.model), tc.fw, 25, 7)
			m.Step(60)
			if !m.Sleep() {
				t.Fatal("Sleep reported no change on a hashing miner")
			}
			slept := -1
			for s := 1; s <= 120; s++ {
				m.Step(1)
				if tel(m).PowerW <= 30 {
					slept = s
					break
				}
			}
			if slept < 0 || slept > tc.sleepMax {
				t.Fatalf("sleep reached ≤ 30 W after %d s, want ≤ %d s", slept, tc.sleepMax)
			}
			m.Step(600)
			p := tel(m).PowerW
			if p < 18 || p > 30 {
				t.Fatalf("sleep power %.1f W, want ~25 W (18…30)", p)
			}
			if m.Sleep() {
				t.Fatal("second Sleep reported a change; want idempotent")
			}
			if !m.Wake() {
				t.Fatal("Wake reported no change on a sleeping miner")
			}
			got := untilHashing(m, 900)
			if got < tc.min || got > tc.max {
				t.Fatalf("wake to ≥ 95 %% hashrate took %d s, want %d…%d s", got, tc.min, tc.max)
			}
		})
	}
}

func TestThermalLagAndFanLoop(t *testing.T) {
	for _, fw := range []Firmware{Braiins, Stock} {
		t.Run(fw.String(), func(t *testing.T) {
			s := mustModel(t, "s19jpro")
			m := New(s, fw, 25, 3)
			m.Step(1800)
			before := tel(m)
			m.SetAmbient(35)
			m.Step(1)
			one := tel(m)
			// First-order lag: one second moves the chips a small part of
			// the 10 °C inlet step (τ ≈ 80 s).
			if rise := one.Boards[0].ChipC - before.Boards[0].ChipC; rise <= 0 || rise > 1 {
				t.Fatalf("chip rise after 1 s = %.2f °C, want 0…1 (thermal lag)", rise)
			}
			m.Step(60)
			if rise := tel(m).Boards[0].ChipC - before.Boards[0].ChipC; rise < 2 {
				t.Fatalf("chip rise after 61 s = %.2f °C, want ≥ 2", rise)
			}
			m.Step(1800)
			after := tel(m)
			hot := after.Boards[0].ChipC
			if fw == Braiins && math.Abs(hot-s.TargetC) > 1.5 {
				t.Fatalf("PI loop holds chip at %.1f °C at 35 °C inlet, want %.0f ± 1.5", hot, s.TargetC)
			}
			if fw == Stock {
				// Proportional curve: the offset above target is what
				// the extra PWM costs.
				want := s.TargetC + (after.FanPWM-nomFanFrac)/fanKpCurve
				if hot <= s.TargetC+1 || math.Abs(hot-want) > 1 {
					t.Fatalf("stock curve: chip %.1f °C at PWM %.2f, want ≈ %.1f (warmer than target)", hot, after.FanPWM, want)
				}
			}
			if after.Fans[0] <= before.Fans[0]+300 {
				t.Fatalf("fan %.0f RPM at 35 °C vs %.0f at 25 °C, want clearly faster", after.Fans[0], before.Fans[0])
			}
			m.SetAmbient(0)
			m.Step(3600)
			cold := tel(m)
			if cold.Fans[0] < s.MinRPM-50 {
				t.Fatalf("fan %.0f RPM in the cold, want ≥ MinRPM %.0f", cold.Fans[0], s.MinRPM)
			}
			if cold.FanPWM >= before.FanPWM-0.1 {
				t.Fatalf("PWM %.2f at 0 °C inlet, want well below %.2f at 25 °C", cold.FanPWM, before.FanPWM)
			}
		})
	}
}

func TestPowerTargetStepDown(t *testing.T) {
	m := New(mustModel(t, "s19jpro"), Braiins, 25, 5)
	m.Step(600)
	base := tel(m)
	if !m.SetPowerTarget(2400) {
		t.Fatal("SetPowerTarget reported no change")
	}
	m.Step(1)
	if p := tel(m).PowerW; p < base.PowerW-150 {
		t.Fatalf("power %.0f W one second after a 2400 W target (from %.0f W): want a gradual step-down", p, base.PowerW)
	}
	m.Step(900)
	got := tel(m)
	if math.Abs(got.PowerW-2400)/2400 > 0.04 {
		t.Fatalf("power %.0f W after 15 min at 2400 W target, want ± 4 %%", got.PowerW)
	}
	if r := got.HashGH / base.HashGH; r < 0.7 || r > 0.9 {
		t.Fatalf("hashrate ratio %.2f at 2400/3068 W, want 0.7…0.9 (better J/TH when underclocked)", r)
	}
	if jth, base := got.PowerW/got.HashGH, base.PowerW/base.HashGH; jth >= base {
		t.Fatalf("J/GH %.4f at the lower target, want below %.4f", jth, base)
	}
}

func TestProfileSteps(t *testing.T) {
	m := New(mustModel(t, "s19xp"), LuxOS, 25, 9)
	m.Step(300)
	base := tel(m)
	m.SetProfile(-4)
	m.Step(600)
	got := tel(m)
	if r := got.HashGH / base.HashGH; math.Abs(r-0.8) > 0.02 {
		t.Fatalf("profile -4 hashrate ratio %.3f, want 0.80", r)
	}
	if got.PowerW >= 0.8*base.PowerW {
		t.Fatalf("profile -4 power %.0f W, want < 80 %% of %.0f", got.PowerW, base.PowerW)
	}
	if m.SetProfile(-4) {
		t.Fatal("repeated SetProfile reported a change")
	}
}

func TestRebootKeepsStockSleep(t *testing.T) {
	m := New(mustModel(t, "s19jpro"), Stock, 25, 1)
	m.Sleep()
	m.Step(60)
	m.Reboot()
	if m.HostUp() {
		t.Fatal("host up right after reboot; want down during OS boot")
	}
	m.Step(600)
	if st, _ := m.State(); st != Sleeping {
		t.Fatalf("stock after reboot in sleep mode: %s, want sleeping (mode is in its config)", st)
	}
}

func TestDeterministicBySeed(t *testing.T) {
	run := func() Telemetry {
		m := New(mustModel(t, "s21"), LuxOS, 25, 42)
		if err := m.AddFault(Fault{Kind: ChipDrop, Start: 0, FailAt: 3600, Target: 1}); err != nil {
			t.Fatal(err)
		}
		m.Step(3000)
		return tel(m)
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("two runs with one seed differ:\n%+v\n%+v", a, b)
	}
}

func BenchmarkStep(b *testing.B) {
	m := New(mustModel(b, "s19jpro"), Stock, 25, 1)
	for b.Loop() {
		m.Step(1)
	}
}

func TestCommandsReportChange(t *testing.T) {
	m := New(mustModel(t, "s19jpro"), Stock, 25, 1)
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"sleep", m.Sleep, true},
		{"sleep again", m.Sleep, false},
		{"reboot", m.Reboot, true},
		{"sleep while booting asleep", m.Sleep, false},
		{"wake while booting asleep", m.Wake, true},
		{"wake again", m.Wake, false},
		{"blink", func() bool { return m.SetLED(true) }, true},
		{"blink again", func() bool { return m.SetLED(true) }, false},
		{"low power", func() bool { return m.SetMode(ModeLowPower) }, true},
		{"low power again", func() bool { return m.SetMode(ModeLowPower) }, false},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Fatalf("%s: changed = %v, want %v", s.name, got, s.want)
		}
		m.Step(1)
	}
}

// TestFirmwareModeFollowsBoards: stock stats report sleep only once the
// boards are down; while they power down, the mode the process ran in
// (here low power). The commanded mode changes at once.
func TestFirmwareModeFollowsBoards(t *testing.T) {
	m := New(mustModel(t, "s19jpro"), Stock, 25, 11)
	m.SetMode(ModeLowPower)
	m.Step(600)
	var tel Telemetry
	m.Telemetry(&tel)
	if tel.State != Hashing || tel.FirmwareMode != ModeLowPower {
		t.Fatalf("after low-power restart: %s, firmware mode %d; want hashing in mode 3", tel.State, tel.FirmwareMode)
	}
	m.Sleep()
	for s := 0; ; s++ {
		m.Telemetry(&tel)
		if tel.Mode != ModeSleep {
			t.Fatalf("commanded mode %d, want sleep at once", tel.Mode)
		}
		if tel.State == Sleeping {
			if tel.FirmwareMode != ModeSleep {
				t.Fatalf("boards down, firmware mode %d, want 1", tel.FirmwareMode)
			}
			if s == 0 {
				t.Fatal("boards down at once")
			}
			break
		}
		if tel.FirmwareMode != ModeLowPower {
			t.Fatalf("at %d s, %s: firmware mode %d, want 3 until the boards are down", s, tel.State, tel.FirmwareMode)
		}
		if s > 120 {
			t.Fatal("not asleep after 120 s")
		}
		m.Step(1)
	}
	m.Wake()
	m.Telemetry(&tel)
	if tel.FirmwareMode != ModeNormal {
		t.Fatalf("after wake: firmware mode %d, want 0", tel.FirmwareMode)
	}
}
