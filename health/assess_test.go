package health

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var epoch = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// synth builds a 6 h history polled every 5 min of a healthy 3-board,
// 4-fan miner with sensor noise, then lets mod change each sample; x runs
// from 0 (oldest) to 1 (newest).
func synth(seed uint64, mod func(x float64, s *Sample)) []Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	const n = 73
	out := make([]Sample, n)
	hw := [3]float64{}
	for i := range out {
		x := float64(i) / (n - 1)
		s := Sample{
			At: epoch.Add(time.Duration(i) * 5 * time.Minute), State: StateHashing,
			InletC: 25, PowerW: math.Round(3250 * (1 + 0.003*r.NormFloat64())), HashTHs: 100, IdealTHs: 100,
			FansRPM: make([]float64, 4), Boards: make([]Board, 3),
		}
		for f := range s.FansRPM {
			s.FansRPM[f] = math.Round(3600 + 30*r.NormFloat64())
		}
		for b := range s.Boards {
			hw[b] += 2e-5 * 33.3 * noncesPerTHs * 300
			s.Boards[b] = Board{HashTHs: 33.3, IdealTHs: 33.3, Chips: 126, ChipsOK: 126,
				ChipC: math.Round(70 + 0.3*r.NormFloat64()), HWErrors: math.Floor(hw[b])}
		}
		if mod != nil {
			mod(x, &s)
		}
		out[i] = s
	}
	return out
}

var cases = []struct {
	name    string
	mod     func(x float64, s *Sample)
	kind    Kind
	alarm   bool
	failed  bool
	reasons []string // substrings of the first reason
}{
	{name: "healthy", kind: KindNone, reasons: []string{"no precursor found"}},
	{name: "ambient swing", mod: func(x float64, s *Sample) {
		d := 6 * x
		s.InletC += math.Round(d)
		for b := range s.Boards {
			s.Boards[b].ChipC += math.Round(d * 0.3)
		}
		for f := range s.FansRPM {
			s.FansRPM[f] *= 1 + 0.05*x
		}
	}, kind: KindNone},
	{name: "fan wear", mod: func(x float64, s *Sample) {
		s.FansRPM[2] *= 1 - 0.12*x*x
	}, kind: FanWear, alarm: true, reasons: []string{"fan 2 runs", "below the other fans"}},
	{name: "chip drop", mod: func(x float64, s *Sample) {
		if x > 0.6 {
			s.Boards[1].ChipsOK = 126 - int(20*(x-0.6))
			s.Boards[1].HashTHs = 33.3 * float64(s.Boards[1].ChipsOK) / 126
		}
	}, kind: ChipDrop, alarm: true, reasons: []string{"board 1 lost", "of 126 chips"}},
	{name: "hw errors", mod: func(x float64, s *Sample) {
		// 100× the base rate by the end, growing exponentially.
		s.Boards[0].HWErrors *= math.Exp(4.6 * x * x)
	}, kind: HWErrors, alarm: true, reasons: []string{"board 0 hardware errors"}},
	{name: "thermal runaway", mod: func(x float64, s *Sample) {
		s.Boards[2].ChipC += math.Round(8 * x * x)
	}, kind: ThermalRunaway, alarm: true, reasons: []string{"board 2 chips run", "above its peers"}},
	{name: "psu efficiency", mod: func(x float64, s *Sample) {
		s.PowerW *= 1 + 0.04*x
	}, kind: PSUFailure, alarm: true, reasons: []string{"J/TH now vs", "at the same profile"}},
	{name: "psu rail sag", mod: func(x float64, s *Sample) {
		s.PSUVoltsV = 12 - 0.3*x*x
	}, kind: PSUFailure, alarm: true, reasons: []string{"12 V rail"}},
	{name: "network timeouts", mod: func(x float64, s *Sample) {
		if x > 0.8 && int(x*72)%2 == 0 {
			*s = Sample{At: s.At, Timeout: true}
		}
	}, kind: NetworkTimeout, alarm: true, reasons: []string{"polls timed out in the last hour"}},
	{name: "board lost", mod: func(x float64, s *Sample) {
		if x == 1 {
			s.Boards[1] = Board{Lost: true}
		}
	}, kind: ChipDrop, alarm: true, failed: true, reasons: []string{"failed now: board 1 lost"}},
	{name: "unreachable", mod: func(x float64, s *Sample) {
		if x > 0.95 {
			*s = Sample{At: s.At, Timeout: true}
		}
	}, kind: NetworkTimeout, alarm: true, failed: true, reasons: []string{"failed now: no reply"}},
}

func TestAssess(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Assess(synth(3, c.mod))
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != c.kind || a.Alarm != c.alarm || a.Failed != c.failed {
				t.Fatalf("kind %s alarm %v failed %v (risk %.2f), want %s %v %v; reasons %q", a.Kind, a.Alarm, a.Failed, a.Risk, c.kind, c.alarm, c.failed, a.Reasons)
			}
			if !c.alarm && a.Risk >= 0.3 {
				t.Errorf("risk = %.2f, want < 0.3 for %s; reasons %q", a.Risk, c.name, a.Reasons)
			}
			for _, want := range c.reasons {
				if !strings.Contains(a.Reasons[0], want) {
					t.Errorf("first reason %q, want it to contain %q", a.Reasons[0], want)
				}
			}
			if a.Risk < 0 || a.Risk > 1 || a.Samples != 73 || math.Abs(a.SpanHours-6) > 1e-9 {
				t.Errorf("risk %.3f samples %d span %.2f h, want 0…1, 73, 6", a.Risk, a.Samples, a.SpanHours)
			}
		})
	}
}

// TestTTF checks the time-to-failure extrapolation on a fan whose deficit
// grows as the square of time and would reach the seizure level
// (fanFailDef) 4 h after the newest sample.
func TestTTF(t *testing.T) {
	const t0, tf = -6.0, 4.0 // hours: wear starts, fan seizes
	a, err := Assess(synth(5, func(x float64, s *Sample) {
		h := x*6 - 6
		d := fanFailDef * math.Pow((h-t0)/(tf-t0), 2)
		s.FansRPM[1] *= 1 - d
	}))
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != FanWear || math.Abs(a.TTFHours-tf) > 1 {
		t.Errorf("kind %s TTF %.2f h, want fan_wear 4 ± 1 h; reasons %q", a.Kind, a.TTFHours, a.Reasons)
	}
}

func TestAssessOrderAndGaps(t *testing.T) {
	h := synth(4, cases[2].mod)
	want, err := Assess(h)
	if err != nil {
		t.Fatal(err)
	}
	// Shuffled input gives the same verdict and leaves the caller's slice alone.
	sh := slices.Clone(h)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
	first := sh[0].At
	got, err := Assess(sh)
	if err != nil {
		t.Fatal(err)
	}
	if got.Risk != want.Risk || got.Kind != want.Kind || sh[0].At != first {
		t.Errorf("shuffled: risk %.3f kind %s, want %.3f %s (input reordered: %v)", got.Risk, got.Kind, want.Risk, want.Kind, sh[0].At != first)
	}
	// A 2 h gap and irregular spacing still find the worn fan.
	var gappy []Sample
	for i, s := range h {
		if (i < 20 || i > 44) && i%3 != 1 {
			gappy = append(gappy, s)
		}
	}
	got, err = Assess(gappy)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != FanWear || !got.Alarm {
		t.Errorf("with gaps: kind %s alarm %v, want fan_wear alarm; reasons %q", got.Kind, got.Alarm, got.Reasons)
	}
	// Samples older than the window are ignored.
	old := append([]Sample{{At: epoch.Add(-48 * time.Hour), State: StateFault, Boards: []Board{{Lost: true}}}}, h...)
	got, _ = Assess(old)
	if got.Samples != len(h) {
		t.Errorf("samples used = %d, want %d (the 48 h old one dropped)", got.Samples, len(h))
	}
}

func TestNoData(t *testing.T) {
	for _, h := range [][]Sample{nil, {}, {{}}} {
		if _, err := Assess(h); !errors.Is(err, ErrNoData) {
			t.Errorf("Assess(%v) err = %v, want ErrNoData", h, err)
		}
	}
	// One sample is enough for an answer, not for an alarm.
	a, err := Assess([]Sample{{At: epoch, State: StateHashing, FansRPM: []float64{3600, 3600}}})
	if err != nil || a.Alarm {
		t.Errorf("single sample: %+v, %v; want no alarm, no error", a, err)
	}
}

func TestAssessmentJSON(t *testing.T) {
	a, err := Assess(synth(3, cases[2].mod))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Risk    float64  `json:"risk"`
		Kind    Kind     `json:"kind"`
		TTF     float64  `json:"ttf_h"`
		Alarm   bool     `json:"alarm"`
		Reasons []string `json:"reasons"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if back.Kind != FanWear || back.Risk != a.Risk || !back.Alarm || len(back.Reasons) == 0 || !strings.Contains(string(b), `"kind":"fan_wear"`) {
		t.Errorf("round trip %s gave %+v", b, back)
	}
	var k Kind
	if err := k.UnmarshalText([]byte("warp_core")); err == nil {
		t.Error("unknown kind parsed without error")
	}
}

func FuzzAssess(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("\xff\x00\x80\x7f timeouts and lost boards \x01\x02"))
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h []Sample
		for len(data) >= 8 {
			d := data[:8]
			data = data[8:]
			s := Sample{
				At:      epoch.Add(time.Duration(int8(d[0])) * 7 * time.Minute),
				Timeout: d[1]&1 == 1, State: State(d[1] >> 5), InletC: float64(int8(d[2])),
				PowerW: float64(d[3]) * 20, HashTHs: float64(d[4]), IdealTHs: float64(d[5]),
				PSUVoltsV: float64(d[6]) / 20,
			}
			for f := 0; f < int(d[7]%5); f++ {
				s.FansRPM = append(s.FansRPM, float64(d[(f+2)%8])*30)
			}
			for b := 0; b < int(d[7]>>5%4); b++ {
				s.Boards = append(s.Boards, Board{Lost: d[b]&3 == 0, HashTHs: float64(d[b+1]), IdealTHs: float64(d[b+2]),
					Chips: int(d[b+3]), ChipsOK: int(d[b+4]), ChipC: float64(d[b+5]), HWErrors: float64(int8(d[b+1]))})
			}
			h = append(h, s)
		}
		a, err := Assess(h)
		if err != nil {
			if !errors.Is(err, ErrNoData) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		if !(a.Risk >= 0 && a.Risk <= 1) || math.IsNaN(a.TTFHours) || a.TTFHours < 0 || len(a.Reasons) == 0 {
			t.Fatalf("risk %v ttf %v reasons %q", a.Risk, a.TTFHours, a.Reasons)
		}
	})
}
