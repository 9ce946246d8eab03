package market

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sharedData is the team's reference market data folder (see TEAM.md);
// tests and benchmarks that use it skip when it is absent.
const sharedData = "../../shared/data"

func sharedFile(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(sharedData, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data %s not present", p)
	}
	return p
}

// TestSharedDataTargets re-measures the calibration targets from the real
// ERCOT file, so a wrong constant cannot hide.
func TestSharedDataTargets(t *testing.T) {
	s, err := OpenPrices(sharedFile(t, "ercot_rt_spp_hb_hubavg_15min_2024_2025.csv"), PriceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "HB_HUBAVG" || s.Len() != 67200 || s.Filled != 0 || !s.Start.Equal(utc("2024-01-01T00:00:00Z")) {
		t.Fatalf("got %s, %d intervals, %d filled, from %s", s.Name, s.Len(), s.Filled, s.Start)
	}
	st := DescribePrices(s)
	for _, c := range calibrationTests {
		if got := c.get(st); math.Abs(got-c.target) > 0.006*math.Abs(c.target)+1e-5 {
			t.Errorf("measured %s = %.6g, constant says %.6g", c.name, got, c.target)
		}
	}
	for h := range st.HourMean {
		if math.Abs(st.HourMean[h]-TargetHourMean[h]) > 0.01 || math.Abs(st.HourMedian[h]-TargetHourMedian[h]) > 0.01 {
			t.Errorf("hour %d: measured mean %.2f median %.2f, constants %.2f %.2f", h, st.HourMean[h], st.HourMedian[h], TargetHourMean[h], TargetHourMedian[h])
		}
	}
	for m := range st.MonthMean {
		if math.Abs(st.MonthMean[m]-TargetMonthMean[m]) > 0.01 {
			t.Errorf("month %d: measured %.2f, constant %.2f", m+1, st.MonthMean[m], TargetMonthMean[m])
		}
	}
	if ac := autocorr1(s.Values); math.Abs(ac-TargetAutocorr1) > 0.001 {
		t.Errorf("measured autocorrelation %.4f, constant %.4f", ac, TargetAutocorr1)
	}
}

func TestSharedDataOtherFiles(t *testing.T) {
	l, err := OpenLoad(sharedFile(t, "ercot_system_load_forecast_hourly_2024_2025.csv"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ls := DescribePrices(l); l.Len() != 16800 || math.Abs(ls.Mean-TargetLoadMean) > 0.01 || math.Abs(ls.Max-TargetLoadMax) > 0.01 {
		t.Errorf("load: %d hours, mean %.2f max %.2f", l.Len(), ls.Mean, ls.Max)
	}
	tt, err := OpenTemperature(sharedFile(t, "ercot_temperature_hourly_2024_2025.csv"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tt.Len() != 16800 || tt.Filled != 1 {
		t.Errorf("temperature: %d hours, %d filled (want the one empty fall-back hour)", tt.Len(), tt.Filled)
	}
	for _, f := range []string{"btc_daily_2020_2025.csv", "btc_daily_fees_2023_2025.csv"} {
		days, err := OpenBTC(sharedFile(t, f))
		if err != nil {
			t.Fatal(err)
		}
		hp := HashpriceSeries(days, DefaultFeeBTCPerBlock)
		if hp.Len() < 1000 || hp.Filled != 0 {
			t.Errorf("%s: %d days, %d filled", f, hp.Len(), hp.Filled)
		}
	}
	days, _ := OpenBTC(sharedFile(t, "btc_daily_fees_2023_2025.csv"))
	last := days[len(days)-1]
	// The docs/market.md worked example.
	if !last.Date.Equal(time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC)) || last.Hashprice(DefaultFeeBTCPerBlock) != 0.03671657351517605 {
		t.Errorf("2025-12-29: %+v hashprice %.17g", last, last.Hashprice(DefaultFeeBTCPerBlock))
	}
}

func BenchmarkReadSharedPrices(b *testing.B) {
	p := sharedFile(b, "ercot_rt_spp_hb_hubavg_15min_2024_2025.csv")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := OpenPrices(p, PriceOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
