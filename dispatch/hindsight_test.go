package dispatch

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/internal/testenv"
	"github.com/jouleworks/joule/site"
)

type hindsightCase struct {
	name string
	site func() *site.Site
	hz   func() *Horizon
}

func horizon(n int, seed uint64) *Horizon {
	return &Horizon{Start: t0, Step: 15 * time.Minute, Prices: wavyPrices(n, seed, 60), Hashprice: constant(n, 0.05)}
}

var hindsightCases = []hindsightCase{
	{"plain", tinySite, func() *Horizon { return horizon(24, 1) }},
	{"switching costs", func() *site.Site {
		s := tinySite()
		s.Tiers[0].SwitchCost, s.Tiers[1].SwitchCost = 0.5, 0.8
		s.Tiers[0].WakeLatency = 5 * time.Minute
		return s
	}, func() *Horizon { return horizon(32, 2) }},
	{"binding cap", func() *site.Site {
		s := tinySite()
		s.InterconnectMW = 0.7
		s.Tiers[0].SwitchCost = 0.2
		return s
	}, func() *Horizon { return horizon(24, 3) }},
	{"4cp and ancillary", func() *site.Site {
		s := tinySite()
		s.FourCP.RatePerKWYear = 50
		s.Ancillary.PricePerMWh = 8
		s.Tiers[1].SwitchCost = 0.3
		return s
	}, func() *Horizon {
		hz := horizon(24, 4)
		hz.Peak = make([]float64, 24)
		hz.Peak[9], hz.Peak[17], hz.Peak[18] = 1, 0.5, 0.5
		return hz
	}},
	{"batch deadlines", func() *site.Site {
		s := tinySite()
		s.InterconnectMW = 0.9
		s.GPUPools = []site.GPUPool{{Name: "gpu", Count: 120, LoadW: 1200, IdleW: 200,
			Firm: site.FirmLease{GPUs: 20, PricePerGPUHour: 2},
			Batch: []site.BatchJob{
				{Name: "daily", GPUHours: 60, PricePerGPUHour: 1.2, Every: 2 * time.Hour, MaxGPUs: 60},
				{Name: "once", GPUHours: 150, PricePerGPUHour: 0.9, Release: t0.Add(time.Hour), Deadline: t0.Add(5 * time.Hour)},
			},
			Inference: site.Inference{PricePerGPUHour: 2.5, GPUsByHour: []float64{
				10, 10, 10, 10, 20, 30, 40, 50, 60, 70, 80, 80, 80, 80, 80, 70, 60, 50, 40, 30, 20, 10, 10, 10}},
		}}
		s.Tiers[0].SwitchCost = 0.1
		return s
	}, func() *Horizon { return horizon(28, 5) }},
	{"ppa and derate", func() *site.Site {
		s := tinySite()
		s.Contract = site.Contract{Kind: site.ContractPPA, PricePerMWh: 45, MW: 0.6}
		s.Cooling = site.Cooling{AboveC: 30, DeratePerC: 0.05, MinFraction: 0.3}
		s.Tiers[0].SwitchCost = 0.4
		return s
	}, func() *Horizon {
		hz := horizon(20, 6)
		hz.TempC = make([]float64, 20)
		for i := range hz.TempC {
			hz.TempC[i] = 25 + float64(i)
		}
		return hz
	}},
}

// glpkObjective solves the exported program with glpsol and returns its
// optimal (minimum) objective.
func glpkObjective(t *testing.T, glpsol string, p *lp) float64 {
	t.Helper()
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := p.writeCPLEX(&buf); err != nil {
		t.Fatal(err)
	}
	lpFile, out := filepath.Join(dir, "h.lp"), filepath.Join(dir, "h.out")
	if err := os.WriteFile(lpFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(glpsol, "--lp", lpFile, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("glpsol: %v\n%s", err, b)
	}
	sol, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sol, []byte("OPTIMAL")) {
		t.Fatalf("glpsol did not find an optimum:\n%s", sol[:min(len(sol), 600)])
	}
	m := regexp.MustCompile(`obj = (\S+)`).FindSubmatch(sol)
	if m == nil {
		t.Fatalf("no objective in glpsol output")
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestHindsightMatchesGLPK(t *testing.T) {
	glpsol := testenv.Tool(t, "glpsol")
	for _, tc := range hindsightCases {
		t.Run(tc.name, func(t *testing.T) {
			s, hz := tc.site(), tc.hz()
			b := buildHindsight(s, hz)
			want := -glpkObjective(t, glpsol, &b.lp) + b.constant
			plan, err := Hindsight(s, hz)
			if err != nil {
				t.Fatal(err)
			}
			if rel := math.Abs(plan.Profit-want) / math.Max(1, math.Abs(want)); rel > 1e-6 {
				t.Errorf("profit = %.9f, GLPK %.9f (relative error %.2g)", plan.Profit, want, rel)
			}
		})
	}
}

func TestHindsightBadHorizon(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Horizon)
		want string
	}{
		{"no intervals", func(h *Horizon) { h.Prices, h.Hashprice = nil, nil }, "no intervals"},
		{"short hashprice", func(h *Horizon) { h.Hashprice = h.Hashprice[:3] }, "hashprices"},
		{"NaN price", func(h *Horizon) { h.Prices[5] = math.NaN() }, "price of interval 5"},
		{"zero step", func(h *Horizon) { h.Step = 0 }, "step"},
	} {
		hz := horizon(8, 1)
		tc.edit(hz)
		if _, err := Hindsight(tinySite(), hz); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
