package physics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// faultRun is a miner with one fault whose lead-up starts at 0 and fails
// at lead seconds.
func faultRun(t *testing.T, model string, fw Firmware, f Fault) *Miner {
	t.Helper()
	m := New(mustModel(t, model), fw, 25, 11)
	if err := m.AddFault(f); err != nil {
		t.Fatal(err)
	}
	return m
}

// fanStd is the sample standard deviation of fan i's reading over n steps.
func fanStd(m *Miner, i, n int) float64 {
	var s, s2 float64
	for k := 0; k < n; k++ {
		m.Step(1)
		v := tel(m).Fans[i]
		s += v
		s2 += v * v
	}
	mean := s / float64(n)
	return math.Sqrt(math.Max(0, s2/float64(n)-mean*mean))
}

func TestFanWearSignature(t *testing.T) {
	const lead = 36 * 3600
	m := faultRun(t, "s19jpro", Stock, Fault{Kind: FanWear, Start: 0, FailAt: lead, Target: 2})
	early := fanStd(m, 2, 120)
	m.Step(0.9*lead - m.Now())
	late := fanStd(m, 2, 120)
	if late < 3*early {
		t.Fatalf("fan tach jitter σ %.0f RPM at 90 %% of lead-up vs %.0f at start, want ≥ 3×", late, early)
	}
	tl := tel(m)
	if tl.Fans[2] >= 0.85*tl.Fans[0] {
		t.Fatalf("worn fan %.0f RPM vs healthy %.0f, want < 85 %%", tl.Fans[2], tl.Fans[0])
	}
	// Stock firmware's proportional fan curve lets the chips warm as the
	// airflow falls.
	if d := tl.Boards[0].ChipC - m.spec.TargetC; d < 1.5 {
		t.Fatalf("chips %.1f °C above target at 90 %% of bearing wear, want ≥ 1.5", d)
	}
	m.Step(lead - m.Now() + 1)
	if st, _ := m.State(); st != Hashing {
		t.Fatalf("state %s right after the fan seized, want still hashing", st)
	}
	m.Step(120)
	st, why := m.State()
	if st != Failed || !(strings.Contains(why, "fan") || strings.Contains(why, "overheat")) {
		t.Fatalf("2 min after the fan stopped: %s %q, want failed (fan lost / overheat)", st, why)
	}
	if p := tel(m).PowerW; p > 60 {
		t.Fatalf("power after the shutdown %.0f W, want control-board level", p)
	}
}

func TestChipDropSignature(t *testing.T) {
	const lead = 12 * 3600
	m := faultRun(t, "s19xp", LuxOS, Fault{Kind: ChipDrop, Start: 0, FailAt: lead, Target: 1})
	prevOK, prevHash := 1<<30, math.Inf(1)
	for _, frac := range []float64{0.3, 0.6, 0.8, 0.95} {
		m.Step(frac*lead - m.Now())
		tl := tel(m)
		b := tl.Boards[1]
		if b.ChipsOK > prevOK {
			t.Fatalf("chips OK rose to %d at %.0f %% of lead-up", b.ChipsOK, frac*100)
		}
		if b.HashGH > prevHash*1.01 {
			t.Fatalf("board hashrate rose to %.0f at %.0f %%", b.HashGH, frac*100)
		}
		prevOK, prevHash = b.ChipsOK, b.HashGH
	}
	if prevOK >= mustModel(t, "s19xp").Chips-10 {
		t.Fatalf("only %d chips lost near failure, want a visible decline", mustModel(t, "s19xp").Chips-prevOK)
	}
	m.Step(lead - m.Now() + 30)
	tl := tel(m)
	if !tl.Boards[1].Lost || tl.Boards[1].ChipsOK != 0 {
		t.Fatalf("board 1 after failure: lost=%v chips=%d, want lost with 0 chips", tl.Boards[1].Lost, tl.Boards[1].ChipsOK)
	}
	if r := tl.HashGH / tl.NomGH; r < 0.6 || r > 0.7 {
		t.Fatalf("hashrate %.2f of nominal with one of three boards lost, want ≈ 2/3", r)
	}
	if st, _ := m.State(); st != Hashing {
		t.Fatalf("state %s, want still hashing on the other boards", st)
	}
}

func TestHWErrorSignature(t *testing.T) {
	const lead = 24 * 3600
	m := faultRun(t, "s21", Stock, Fault{Kind: HWErrors, Start: 0, FailAt: lead, Target: 0})
	rate := func() float64 {
		a := tel(m).Boards[0]
		m.Step(600)
		b := tel(m).Boards[0]
		return (b.HWErrors - a.HWErrors) / (b.HWErrors - a.HWErrors + b.Diff1 - a.Diff1)
	}
	r0 := rate()
	m.Step(0.5*lead - m.Now())
	r1 := rate()
	m.Step(0.95*lead - m.Now())
	r2 := rate()
	if !(r1 > 10*r0 && r2 > 10*r1) {
		t.Fatalf("HW error fraction %.2g → %.2g → %.2g, want rising by orders of magnitude", r0, r1, r2)
	}
	m.Step(lead - m.Now() + 1)
	if !tel(m).Boards[0].Lost {
		t.Fatal("chain not disabled at failure")
	}
}

func TestPSUFailureSignature(t *testing.T) {
	const lead = 6 * 3600
	m := faultRun(t, "m50s", Whatsminer, Fault{Kind: PSUFailure, Start: 0, FailAt: lead})
	m.Step(60)
	a := tel(m)
	m.Step(0.9*lead - m.Now())
	b := tel(m)
	if b.PSUVout > a.PSUVout-0.25 {
		t.Fatalf("12 V rail %.2f V at 90 %% vs %.2f V, want a sag ≥ 0.25 V", b.PSUVout, a.PSUVout)
	}
	if b.PowerW/b.HashGH <= a.PowerW/a.HashGH*1.02 {
		t.Fatalf("wall W per GH/s %.4f vs %.4f, want ≥ 2 %% worse (PSU efficiency loss)", b.PowerW/b.HashGH, a.PowerW/a.HashGH)
	}
	m.Step(lead - m.Now() + 1)
	if st, _ := m.State(); st != Off || m.HostUp() || tel(m).PowerW != 0 {
		t.Fatalf("after PSU failure: %s host up %v power %.0f W, want off, unreachable, 0 W", st, m.HostUp(), tel(m).PowerW)
	}
}

func TestThermalRunawaySignature(t *testing.T) {
	const lead = 3 * 3600
	m := faultRun(t, "s19jpro", Braiins, Fault{Kind: ThermalRunaway, Start: 0, FailAt: lead, Target: 2})
	m.Step(600)
	a := tel(m)
	m.Step(0.9*lead - m.Now())
	b := tel(m)
	if d := b.Boards[2].ChipC - b.Boards[0].ChipC; d < 5 {
		t.Fatalf("faulty board %.1f °C vs healthy %.1f, want ≥ 5 °C hotter", b.Boards[2].ChipC, b.Boards[0].ChipC)
	}
	if b.FanPWM <= a.FanPWM+0.05 {
		t.Fatalf("fan PWM %.2f vs %.2f, want the loop pushing harder", b.FanPWM, a.FanPWM)
	}
	m.Step(lead - m.Now())
	failedAt := -1.0
	for s := 0; s < 1800; s++ {
		m.Step(1)
		if st, why := m.State(); st == Failed {
			if !strings.Contains(why, "overheat") {
				t.Fatalf("failed for %q, want overheat", why)
			}
			failedAt = float64(s)
			break
		}
	}
	if failedAt < 0 {
		t.Fatal("no overheat shutdown within 30 min of the runaway")
	}
}

func TestNetworkFaultCondition(t *testing.T) {
	m := faultRun(t, "s21", LuxOS, Fault{Kind: NetworkTimeout, Start: 0, FailAt: 7200, Mode: NetDrop})
	m.Step(3600)
	mid := m.Network()
	m.Step(3601)
	end := m.Network()
	if mid.StallProb <= 0 || mid.Down || !end.Down || end.Mode != NetDrop || end.LatencyS <= mid.LatencyS {
		t.Fatalf("network mid %+v end %+v, want rising stalls/latency then down", mid, end)
	}
	if st, _ := m.State(); st != Hashing {
		t.Fatalf("state %s, want hashing (the network failed, not the miner)", st)
	}
}

func TestDrawFault(t *testing.T) {
	f1, ok := DrawFault(newRand(5), mustModel(t, "s21hydro"), 1)
	if !ok || f1.Kind == FanWear || f1.FailAt <= 0 || f1.Start != f1.FailAt-LeadUp[f1.Kind] {
		t.Fatalf("DrawFault on a fanless model = %+v, want a non-fan fault with its lead-up", f1)
	}
	if _, ok := DrawFault(newRand(5), mustModel(t, "s21"), 0); ok {
		t.Fatal("DrawFault at rate 0 returned a fault")
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func TestRepair(t *testing.T) {
	m := faultRun(t, "s19jpro", Stock, Fault{Kind: PSUFailure, Start: -100, FailAt: 10})
	m.Step(20)
	if st, _ := m.State(); st != Off {
		t.Fatalf("state %s after PSU failure, want off", st)
	}
	m.Step(5)
	if v := tel(m).PSUVout; v != 0 {
		t.Fatalf("rail %.2f V after failure, want 0", v)
	}
	m.Repair()
	if !m.PowerOn() {
		t.Fatal("PowerOn after repair reported no change")
	}
	if got := untilHashing(m, 900); got < 0 {
		t.Fatal("repaired miner never hashed again")
	}
	if len(m.Faults()) != 0 || tel(m).PSUVout != 12 {
		t.Fatalf("after repair: faults %v, rail %.2f V", m.Faults(), tel(m).PSUVout)
	}
}
