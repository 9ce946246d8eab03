package market

import (
	"math"
	"slices"
	"testing"
	"time"
)

// calibrationSeeds are averaged so the check is about the model, not one
// draw: a single year has only ~20 intervals above $1,000.
var calibrationSeeds = []int64{1, 2, 3, 4, 5, 6, 7, 8}

// calibrationTests state each target and its tolerance on the mean over
// calibrationSeeds of one-year scenarios (docs/market.md has the table).
var calibrationTests = []struct {
	name      string
	get       func(PriceStats) float64
	target    float64
	tolerance float64 // absolute
}{
	{"mean", func(s PriceStats) float64 { return s.Mean }, TargetMean, 0.10 * TargetMean},
	{"median", func(s PriceStats) float64 { return s.Median }, TargetMedian, 0.10 * TargetMedian},
	{"p5", func(s PriceStats) float64 { return s.P5 }, TargetP5, 1.5},
	{"p95", func(s PriceStats) float64 { return s.P95 }, TargetP95, 0.10 * TargetP95},
	{"p99", func(s PriceStats) float64 { return s.P99 }, TargetP99, 0.15 * TargetP99},
	{"std", func(s PriceStats) float64 { return s.Std }, TargetStd, 0.50 * TargetStd},
	{"negative share", func(s PriceStats) float64 { return s.NegativeShare }, TargetNegativeShare, 0.006},
	{"share above $100", func(s PriceStats) float64 { return s.Above100 }, TargetAbove100, 0.006},
	{"share above $1000", func(s PriceStats) float64 { return s.Above1000 }, TargetAbove1000, 0.0005},
	{"min", func(s PriceStats) float64 { return s.Min }, TargetMin, 20},
}

func TestScenarioCalibration(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var stats []PriceStats
	var ac float64
	var hour [24]float64
	for _, seed := range calibrationSeeds {
		sc := Generate(seed, start, 365)
		if sc.Prices.Len() != 365*96 || sc.Prices.Step != 15*time.Minute || !sc.Prices.Start.Equal(start) {
			t.Fatalf("seed %d: prices %d × %s from %s", seed, sc.Prices.Len(), sc.Prices.Step, sc.Prices.Start)
		}
		st := DescribePrices(sc.Prices)
		if st.Max > priceCap {
			t.Errorf("seed %d: max %.2f above the $5,000 cap", seed, st.Max)
		}
		stats = append(stats, st)
		ac += autocorr1(sc.Prices.Values) / float64(len(calibrationSeeds))
		for h := range hour {
			hour[h] += st.HourMean[h] / float64(len(calibrationSeeds))
		}
	}
	for _, c := range calibrationTests {
		var got float64
		for _, st := range stats {
			got += c.get(st) / float64(len(stats))
		}
		if math.Abs(got-c.target) > c.tolerance {
			t.Errorf("%s = %.5g, want %.5g ± %.3g", c.name, got, c.target, c.tolerance)
		}
	}
	if math.Abs(ac-TargetAutocorr1) > 0.1 {
		t.Errorf("lag-1 autocorrelation = %.3f, want %.3f ± 0.1", ac, TargetAutocorr1)
	}
	if r := correlation(hour[:], TargetHourMean[:]); r < 0.85 {
		t.Errorf("hour-of-day profile correlation with ERCOT = %.3f, want ≥ 0.85 (got %.1f)", r, hour)
	}
	if peak := slices.Index(hour[:], slices.Max(hour[:])); peak < 17 || peak > 21 {
		t.Errorf("highest mean hour = %d, want 17–21 Central", peak)
	}
	if low := slices.Index(hour[:], slices.Min(hour[:])); low < 8 || low > 13 {
		t.Errorf("lowest mean hour = %d, want 8–13 Central (solar trough)", low)
	}
}

func TestScenarioInputs(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sc := Generate(42, start, 365)
	for _, s := range []Series{sc.SystemLoad, sc.Temperature} {
		if s.Len() != 365*24 || s.Step != time.Hour || !s.Start.Equal(start) {
			t.Fatalf("%s: %d × %s from %s", s.Name, s.Len(), s.Step, s.Start)
		}
	}
	ls := DescribePrices(sc.SystemLoad)
	if math.Abs(ls.Mean-TargetLoadMean) > 0.05*TargetLoadMean || ls.Max > 1.15*TargetLoadMax || ls.Min < 15000 {
		t.Errorf("load mean %.0f max %.0f min %.0f MW, want mean %.0f ± 5 %%, max ≤ %.0f", ls.Mean, ls.Max, ls.Min, TargetLoadMean, 1.15*TargetLoadMax)
	}
	ts := DescribePrices(sc.Temperature)
	if math.Abs(ts.Mean-tempMean) > 1.5 || ts.MonthMean[6]-ts.MonthMean[0] < 15 {
		t.Errorf("temperature mean %.1f °C, July %.1f, January %.1f; want 21.4 ± 1.5 and July ≥ January + 15", ts.Mean, ts.MonthMean[6], ts.MonthMean[0])
	}
	peaks := FourCP(sc.SystemLoad)
	if len(peaks) != 4 {
		t.Fatalf("4CP peaks = %v, want one per June–September", peaks)
	}
	for _, p := range peaks {
		if h := p.At.In(Central).Hour(); h < 13 || h > 20 {
			t.Errorf("4CP peak at %s Central, want a summer afternoon", p.At.In(Central))
		}
	}
	if len(sc.BTC) != 365 || sc.Hashprice.Len() != 365 || !sc.Hashprice.Start.Equal(start) {
		t.Fatalf("BTC days %d, hashprice %d from %s", len(sc.BTC), sc.Hashprice.Len(), sc.Hashprice.Start)
	}
	for i, d := range sc.BTC {
		if want := Hashprice(d.Difficulty, SubsidyAt(d.Date.Add(12*time.Hour)), d.FeesBTC, d.CloseUSD); sc.Hashprice.Values[i] != want {
			t.Fatalf("day %d hashprice %v, want %v from its BTC day", i, sc.Hashprice.Values[i], want)
		}
		if d.CloseUSD <= 0 || d.Difficulty <= 0 || d.FeesBTC <= 0 || !d.HasFees {
			t.Fatalf("day %d = %+v", i, d)
		}
	}
	if hp := sc.Hashprice.Values[0]; hp < 0.03 || hp > 0.08 {
		t.Errorf("first-day hashprice %.4f $/TH/day, want the 2025 range 0.03–0.08", hp)
	}
}

func TestScenarioDeterministic(t *testing.T) {
	start := time.Date(2025, 6, 1, 13, 0, 0, 0, time.UTC) // truncated to the UTC day
	a, b := Generate(9, start, 20), Generate(9, start, 20)
	if !slices.Equal(a.Prices.Values, b.Prices.Values) || !slices.Equal(a.Hashprice.Values, b.Hashprice.Values) ||
		!slices.Equal(a.SystemLoad.Values, b.SystemLoad.Values) || !slices.Equal(a.Temperature.Values, b.Temperature.Values) {
		t.Fatal("same seed gave different scenarios")
	}
	if !a.Prices.Start.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("start = %s, want 2025-06-01T00:00Z", a.Prices.Start)
	}
	if c := Generate(10, start, 20); slices.Equal(a.Prices.Values, c.Prices.Values) {
		t.Fatal("different seeds gave the same prices")
	}
	if e := Generate(1, start, 0); e.Prices.Len() != 0 || e.Hashprice.Len() != 0 || len(e.BTC) != 0 {
		t.Fatal("zero days gave data")
	}
}

func correlation(a, b []float64) float64 {
	ma, mb := mean(a), mean(b)
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func autocorr1(v []float64) float64 {
	m := mean(v)
	var a, b float64
	for i := 1; i < len(v); i++ {
		a += (v[i] - m) * (v[i-1] - m)
	}
	for i := range v {
		b += (v[i] - m) * (v[i] - m)
	}
	return a / b
}

func BenchmarkGenerateYear(b *testing.B) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		Generate(1, start, 365)
	}
}
