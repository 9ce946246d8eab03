package plan

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// The terminal report of a small fixed run is pinned; run with -update
// after an intended change and review the diff.
func TestTextGolden(t *testing.T) {
	r, err := Run(context.Background(), Defaults(), nil, Options{Paths: 300, Seed: 11, SensitivityPaths: 40})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "default_300.txt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./plan -run TestTextGolden -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("terminal output differs from %s (go test ./plan -run TestTextGolden -update to accept):\n%s", golden, buf.String())
	}
}

// Spot power keeps the expected price: each month's draw is mean-one
// lognormal around the escalated PPA-style mean.
func TestSpotPowerMean(t *testing.T) {
	c := Defaults()
	c.Power.Model, c.Power.Volatility = "spot", 0.4
	c.HorizonYears = 2
	m, err := newModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.newScratch()
	const n = 20_000
	sum := make([]float64, m.T)
	for p := 0; p < n; p++ {
		m.draw(s, 2, p, allStrategies)
		for k := range sum {
			sum[k] += s.pw[k]
		}
	}
	for _, k := range []int{0, 11, 12, 23} {
		got, want := sum[k]/n, m.powerMean[k]
		if math.Abs(got/want-1) > 0.015 { // σ/√n ≈ 0.3 %
			t.Errorf("month %d mean spot price %.2f, want ≈ %.2f", k, got, want)
		}
	}
	if m.powerMean[12] != c.Power.PricePerMWh*(1+c.Power.Escalator) {
		t.Errorf("month 12 mean %.4f, want one escalator step", m.powerMean[12])
	}
	r := run1(t, c, 200)
	if s := r.Strategies[HPC].NPVPerMW; !(s.P90 > s.P10) {
		t.Fatalf("spot power run has no spread: %+v", s)
	}
}
