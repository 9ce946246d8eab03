package gpu

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

var nan = math.NaN()

var smiCases = []struct {
	file string
	want []Sample
}{
	{"smi_header_units.csv", []Sample{
		{Index: 0, UUID: "GPU-1b2c3d4e-0000-4000-8000-000000000000", Name: "NVIDIA H100 80GB HBM3", UtilPct: 45, PowerW: 250.31, PowerLimitW: 700, TempC: 41, MemUsedMiB: 1024, MemTotalMiB: 81559},
		{Index: 1, UUID: "GPU-1b2c3d4e-0000-4000-8000-000000000001", Name: "NVIDIA H100 80GB HBM3", UtilPct: 0, PowerW: nan, PowerLimitW: 700, TempC: 33, MemUsedMiB: 0, MemTotalMiB: 81559},
	}},
	{"smi_noheader_nounits.csv", []Sample{
		{Index: 0, UUID: "GPU-aa", Name: "NVIDIA A100-SXM4-80GB", UtilPct: 97, PowerW: 398.12, PowerLimitW: 400, TempC: 63, MemUsedMiB: 76000, MemTotalMiB: 81920},
		{Index: 1, UUID: "GPU-bb", Name: "NVIDIA A100-SXM4-80GB", UtilPct: nan, PowerW: nan, PowerLimitW: 400, TempC: 58, MemUsedMiB: 120, MemTotalMiB: 81920},
	}},
	{"smi_header_nounits.csv", []Sample{
		{Index: 3, UUID: "GPU-cc", Name: "Tesla T4", UtilPct: 12, PowerW: 27.5, PowerLimitW: 70, TempC: 44, MemUsedMiB: 300, MemTotalMiB: 15360},
	}},
}

func check(t *testing.T, got, want []Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Index != w.Index || g.UUID != w.UUID || g.Name != w.Name || !same(g.UtilPct, w.UtilPct) || !same(g.PowerW, w.PowerW) ||
			!same(g.PowerLimitW, w.PowerLimitW) || !same(g.TempC, w.TempC) || !same(g.MemUsedMiB, w.MemUsedMiB) || !same(g.MemTotalMiB, w.MemTotalMiB) {
			t.Errorf("sample %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestParseSMI(t *testing.T) {
	for _, tc := range smiCases {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseSMI(strings.NewReader(readFile(t, tc.file)), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			check(t, got, tc.want)
		})
	}
}

var smiBad = []struct {
	in, want string
}{
	{"0, GPU-a, H100, 45, 250, 700, 41, 1024\n", "line 1: unexpected format: 8 fields, want 9"},
	{"0, GPU-a, H100, lots, 250, 700, 41, 1024, 2048\n", `line 1 field "utilization.gpu" value "lots"`},
	{"0, GPU-a, H100, 45, 250 kW, 700, 41, 1024, 2048\n", `unknown unit "kW"`},
	{"-1, GPU-a, H100, 45, 250, 700, 41, 1024, 2048\n", "want a GPU index ≥ 0"},
	{"name, power.draw [W]\nH100, 250\n", "header has neither index nor uuid"},
	{"index, uuid\n0, GPU-a\n1, \"GPU-b\n", "line 3"},
}

func TestParseSMIBad(t *testing.T) {
	for _, tc := range smiBad {
		_, err := ParseSMI(strings.NewReader(tc.in), "smi.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "smi.csv") {
			t.Errorf("ParseSMI(%q) err = %v, want it to name smi.csv and contain %q", tc.in, err, tc.want)
		}
	}
}

func TestParseDCGM(t *testing.T) {
	got, err := ParseDCGM(strings.NewReader(readFile(t, "dcgm.txt")), "node7")
	if err != nil {
		t.Fatal(err)
	}
	check(t, got, []Sample{
		{Index: 0, UUID: "GPU-11111111-2222-3333-4444-555555555555", Name: "NVIDIA H100 80GB HBM3", UtilPct: 88, PowerW: 612.457, PowerLimitW: nan, TempC: 61, MemUsedMiB: 79000, MemTotalMiB: 81000},
		{Index: 1, UUID: "GPU-66666666-2222-3333-4444-555555555555", Name: "NVIDIA H100 80GB HBM3", UtilPct: 0, PowerW: 71.2, PowerLimitW: nan, TempC: 34, MemUsedMiB: nan, MemTotalMiB: nan},
	})
	if got[0].Host != "gpu-node-7" || got[0].ID() != got[0].UUID {
		t.Errorf("host/id = %q/%q", got[0].Host, got[0].ID())
	}
}

func TestParseDCGMBad(t *testing.T) {
	for _, in := range []string{
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"x\"} 5\n",
		"DCGM_FI_DEV_GPU_UTIL{modelName=\"H100\"} 5\n",
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0\" 5\n",
	} {
		if _, err := ParseDCGM(strings.NewReader(in), "exp"); err == nil || !strings.HasPrefix(err.Error(), "exp") {
			t.Errorf("ParseDCGM(%q) err = %v, want an error naming exp", in, err)
		}
	}
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestEmulatorFollowsDemand(t *testing.T) {
	night := time.Date(2025, 7, 14, 8, 0, 0, 0, time.UTC) // 02:00 Central
	peak := time.Date(2025, 7, 14, 20, 0, 0, 0, time.UTC) // 14:00 Central
	for _, tc := range []struct {
		at        time.Time
		inference int
	}{{night, 5}, {peak, 27}} {
		e := NewEmulator(32, EmulatorOptions{Now: fixedClock(tc.at)})
		st := e.State()
		if st.Inference != tc.inference {
			t.Errorf("at %s inference GPUs = %d, want %d", tc.at, st.Inference, tc.inference)
		}
		e.ClaimBatch(10)
		st2 := e.State()
		wantBatch := min(10, 32-tc.inference)
		if st2.Batch != wantBatch || st2.Claimed != 10 {
			t.Errorf("at %s batch = %d claimed %d, want %d claimed 10", tc.at, st2.Batch, st2.Claimed, wantBatch)
		}
		if d := st2.PowerW - st.PowerW; d < float64(wantBatch)*500 {
			t.Errorf("batch of %d GPUs added %.0f W, want > %d W", wantBatch, d, wantBatch*500)
		}
		if e.ReleaseBatch(100) != 0 || e.ClaimBatch(1000) != 32 {
			t.Error("claims not clamped to the pool")
		}
	}
	e := NewEmulator(4, EmulatorOptions{Now: fixedClock(night)})
	idle := e.Samples()[3]
	if idle.UtilPct != 0 || idle.PowerW < H100IdleW-5 || idle.PowerW > H100IdleW+5 {
		t.Errorf("idle GPU = %+v, want ~%v W at 0 %%", idle, H100IdleW)
	}
}

func TestEmulatorHTTPRoundTrip(t *testing.T) {
	at := time.Date(2025, 7, 14, 20, 0, 0, 0, time.UTC)
	e := NewEmulator(8, EmulatorOptions{Now: fixedClock(at), Host: "h1"})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/batch/claim?n=1", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("claim: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, _ = http.Post(srv.URL+"/batch/claim?n=-3", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("claim n=-3: status %d, want 400", resp.StatusCode)
	}
	resp.Body.Close()
	got, err := DCGM{Label: "h1", URL: srv.URL + "/metrics"}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := e.Samples()
	if len(got) != 8 {
		t.Fatalf("read %d GPUs over HTTP, want 8", len(got))
	}
	for i := range want {
		want[i].Source = "h1"
	}
	check(t, got, want)
	if math.Abs(TotalPowerW(got)-e.State().PowerW) > 1e-6 {
		t.Errorf("total power over HTTP %.2f, in process %.2f", TotalPowerW(got), e.State().PowerW)
	}
}

func TestPollerKeepsGoodSources(t *testing.T) {
	e := NewEmulator(2, EmulatorOptions{Now: fixedClock(time.Unix(1.75e9, 0))})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/metrics"
	l.Close()
	p := Poller{Sources: []Source{e, DCGM{Label: "dead", URL: dead}}, Timeout: 2 * time.Second}
	r := p.Poll(context.Background())
	if len(r.Samples) != 2 || r.Samples[0].Source != "emulator/emu" {
		t.Fatalf("samples = %+v, want the emulator's two", r.Samples)
	}
	if err := r.Errors["dead"]; err == nil || !strings.Contains(err.Error(), "gpu source dead") {
		t.Fatalf("dead source error = %v", err)
	}
	if _, err := (SMI{Label: "none", Command: []string{"/nonexistent/nvidia-smi"}}).Read(context.Background()); err == nil || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "none") {
		t.Fatalf("missing nvidia-smi err = %v", err)
	}
}

func FuzzParseSMI(f *testing.F) {
	for _, tc := range smiCases {
		b, _ := os.ReadFile("testdata/" + tc.file)
		f.Add(string(b))
	}
	for _, tc := range smiBad {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSMI(strings.NewReader(in), "fuzz")
		if err == nil {
			for _, x := range s {
				if x.Index < 0 && x.UUID == "" {
					t.Fatalf("accepted a GPU with neither index nor uuid: %+v", x)
				}
			}
		}
	})
}

func FuzzParseDCGM(f *testing.F) {
	b, _ := os.ReadFile("testdata/dcgm.txt")
	f.Add(string(b))
	f.Add("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} NaN\n")
	f.Add("DCGM_FI_DEV_FB_FREE{UUID=\"x\"} 5\nDCGM_FI_DEV_FB_USED{UUID=\"x\"} 1e308\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseDCGM(strings.NewReader(in), "fuzz")
		if err == nil {
			for _, x := range s {
				if x.UUID == "" && x.Index < 0 {
					t.Fatalf("sample without identity: %+v", x)
				}
			}
		}
	})
}

func TestBatchClientSetsClaim(t *testing.T) {
	em := NewEmulator(8, EmulatorOptions{Now: func() time.Time { return time.Date(2025, 7, 14, 7, 0, 0, 0, time.UTC) }, Demand: func(time.Time) float64 { return 0.25 }})
	srv := httptest.NewServer(em)
	defer srv.Close()
	bc := BatchClient{URL: srv.URL}
	for _, tc := range []struct{ n, want, running int }{{5, 5, 5}, {5, 5, 5}, {2, 2, 2}, {20, 8, 6}, {0, 0, 0}} {
		got, err := bc.SetBatch(context.Background(), tc.n)
		if err != nil {
			t.Fatal(err)
		}
		st := em.State()
		if got != tc.want || st.Claimed != tc.want || st.Batch != tc.running {
			t.Errorf("SetBatch(%d) = %d (state claimed %d, running %d), want %d claimed, %d running", tc.n, got, st.Claimed, st.Batch, tc.want, tc.running)
		}
	}
	if _, err := (BatchClient{URL: srv.URL + "/nope"}).SetBatch(context.Background(), 1); err == nil {
		t.Error("SetBatch against a wrong URL: no error")
	}
}
