package plan

import (
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

var badConfigs = []struct {
	name, yaml string
	want       []string // substrings of the error
}{
	{"negative MW", "site:\n  mw: -5\n", []string{"plan.yaml:2", "site.mw", "must be > 0"}},
	{"discount rate -100%", "horizon_years: 10\ndiscount_rate: -1\n", []string{"plan.yaml:2", "discount_rate", "> -1"}},
	{"discount rate below -100%", "discount_rate: -1.5\n", []string{"discount_rate"}},
	{"unknown top key", "sit:\n  mw: 5\n", []string{"plan.yaml:1", "sit", "unknown key", "known keys"}},
	{"unknown nested key", "lease:\n  rent_per_mw_year: 1e6\n  rent_per_mw_yr: 2e6\n", []string{"plan.yaml:3", "lease.rent_per_mw_yr", "unknown key in lease"}},
	{"wrong type", "site:\n  mw: lots\n", []string{"plan.yaml", "line 2", "lots"}},
	{"section not a mapping", "site: 5\n", []string{"site", "mapping"}},
	{"duplicate key", "site:\n  mw: 5\n  mw: 6\n", []string{"site.mw"}},
	{"bad model", "btc:\n  model: normal\n", []string{"plan.yaml:2", "btc.model", "gbm, bootstrap"}},
	{"bootstrap without file", "btc:\n  model: bootstrap\n", []string{"btc.returns_file"}},
	{"nan", "btc:\n  volatility: .nan\n", []string{"btc.volatility", "finite"}},
	{"utilisation above 1", "hpc:\n  utilisation: 1.5\n", []string{"plan.yaml:2", "hpc.utilisation"}},
	{"bad start", "start: Jan 2026\n", []string{"start", "2026-01"}},
	{"not a mapping", "- 1\n- 2\n", []string{"mapping"}},
	{"syntax", "site:\n  mw: [\n", []string{"plan.yaml"}},
}

func TestBadConfigsNameTheField(t *testing.T) {
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml), "plan.yaml")
			if err == nil {
				t.Fatalf("no error for %q", tc.yaml)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestConfigOverridesDefaults(t *testing.T) {
	c, err := ParseConfig([]byte("site:\n  mw: 250\nlease:\n  rent_per_mw_year: 2.1e6\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if c.Site.MW != 250 || c.Lease.RentPerMWYear != 2.1e6 || c.Site.ITFraction != d.Site.ITFraction || c.Lease.TermYears != d.Lease.TermYears {
		t.Fatalf("got site %+v lease %+v: overrides must replace only the named fields", c.Site, c.Lease)
	}
	if c, err := ParseConfig(nil, "empty.yaml"); err != nil || c != d {
		t.Fatalf("empty file: %v, config equal to defaults: %v", err, c == d)
	}
}

// The example shipped with the repo parses and is valid.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(data, "examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example documents the defaults: keep the two in step.
	if d := Defaults(); c != d {
		t.Fatalf("examples/plan.yaml differs from Defaults():\n%+v\n%+v", c, d)
	}
}

func TestParseReturns(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,close_usd,hashrate_ths,difficulty\n")
	p := 100.0
	for i := 0; i < 40; i++ {
		b.WriteString("2020-01-01,")
		b.WriteString(strconv.FormatFloat(p, 'f', 9, 64))
		b.WriteString(",1,1\n")
		p *= 1.01
	}
	r, err := ParseReturns(strings.NewReader(b.String()), "btc.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 39 || math.Abs(r[0]-math.Log(1.01)) > 1e-9 {
		t.Fatalf("got %d returns, first %v; want 39, log(1.01)", len(r), r[0])
	}
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "empty file"},
		{"header only", "date,close_usd\n", "0 price rows"},
		{"no close column", "date,price\n2020-01-01,5\n", "no close_usd column"},
		{"bad price", "date,close_usd\n2020-01-01,5\n2020-01-02,abc\n", "btc.csv line 3"},
		{"zero price", "date,close_usd\n2020-01-01,0\n", "line 2"},
		{"short row", "date,close_usd\n2020-01-01\n", "line 2"},
		{"too few", "date,close_usd\n2020-01-01,5\n2020-01-02,6\n", "need ≥ 31"},
	} {
		_, err := ParseReturns(strings.NewReader(tc.csv), "btc.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func runWith(c Config, daily []float64) (*Result, error) {
	return Run(context.Background(), c, daily, Options{Paths: 200, Seed: 1, SensitivityPaths: -1})
}

// Recentred bootstrap months have the drift's mean growth.
func TestBootstrapRecenter(t *testing.T) {
	daily := make([]float64, 400)
	for i := range daily {
		daily[i] = 0.01 * math.Sin(float64(i)*0.7) // zero-mean wiggle
		daily[i] += 0.004                          // a strong up-trend to remove
	}
	b := monthlyBlocks(daily, true, 0.12)
	var mean, m2 float64
	for _, x := range b {
		mean += x
	}
	mean /= float64(len(b))
	for _, x := range b {
		m2 += (x - mean) * (x - mean)
	}
	if want := 0.12/12 - m2/float64(len(b))/2; math.Abs(mean-want) > 1e-12 {
		t.Fatalf("recentred monthly mean %.6f, want %.6f", mean, want)
	}
	raw := monthlyBlocks(daily, false, 0)
	var s float64
	for _, x := range daily[:30] {
		s += x
	}
	if math.Abs(raw[0]-s) > 1e-12 || len(raw) != 371 {
		t.Fatalf("raw block 0 = %v (want %v), %d blocks (want 371)", raw[0], s, len(raw))
	}
}

// A bootstrap run from a file works end to end.
func TestBootstrapRun(t *testing.T) {
	daily := make([]float64, 800)
	for i := range daily {
		daily[i] = 0.03 * math.Sin(float64(i)*1.3)
	}
	c := Defaults()
	c.BTC.Model, c.BTC.ReturnsFile = "bootstrap", "synthetic.csv"
	r, err := runWith(c, daily)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Strategies[Mine].NPVPerMW; !(s.P90 > s.P10) {
		t.Fatalf("bootstrap mining NPV has no spread: %+v", s)
	}
	if _, err := runWith(c, daily[:10]); err == nil || !strings.Contains(err.Error(), "btc.returns_file") {
		t.Fatalf("10 daily returns: error %v, want one naming btc.returns_file", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, tc := range badConfigs {
		f.Add([]byte(tc.yaml))
	}
	if data, err := os.ReadFile("../examples/plan.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("site: {mw: 10, it_fraction: 0.5}\nhorizon_years: 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		// Anything accepted must value without panicking.
		if c.BTC.Model == "bootstrap" {
			return
		}
		c.HorizonYears = min(c.HorizonYears, 3)
		if _, err := Detail(c, nil, 1, 0); err != nil {
			t.Fatalf("valid config failed to value: %v", err)
		}
	})
}

func FuzzParseReturns(f *testing.F) {
	f.Add("date,close_usd\n2020-01-01,5\n")
	f.Add("close_usd\n" + strings.Repeat("1\n2\n", 20))
	f.Add("\ufeffdate,close_usd,hashrate_ths\n2020-01-01,6859.08,1\n\"x\n")
	f.Add("date,close_usd\n2020-01-01,1e308\n2020-01-02,1e-308\n")
	f.Fuzz(func(t *testing.T, csv string) {
		r, err := ParseReturns(strings.NewReader(csv), "fuzz.csv")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			return
		}
		if len(r) < DaysPerBlock {
			t.Fatalf("accepted %d returns, fewer than %d", len(r), DaysPerBlock)
		}
		for _, x := range r {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("non-finite return %v accepted", x)
			}
		}
	})
}
