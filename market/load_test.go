package market

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadLoadAndTemperature(t *testing.T) {
	l, err := OpenLoad(filepath.Join("testdata", "load.csv"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Unit != "MW" || l.Step != time.Hour || l.Len() != 4 || l.Values[0] != 80000.5 || !l.Start.Equal(utc("2024-07-01T20:00:00Z")) {
		t.Fatalf("load = %+v", l)
	}
	q, err := OpenLoad(filepath.Join("testdata", "load.csv"), ReadOptions{Step: 15 * time.Minute})
	if err != nil || q.Len() != 16 || q.Values[7] != 81500 {
		t.Fatalf("15-minute load = %+v, %v", q, err)
	}
	// The fall-back hour of 2024-11-03 is empty in ERCOT's temperature
	// extract: it is filled from the hour before and noted.
	tt, err := OpenTemperature(filepath.Join("testdata", "temperature.csv"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tt.Unit != "°C" || tt.Len() != 4 || tt.Values[2] != 15 || tt.Filled != 1 || len(tt.Notes) != 2 {
		t.Fatalf("temperature = %+v", tt)
	}
	if _, err := OpenTemperature(filepath.Join("testdata", "temperature.csv"), ReadOptions{MaxGap: -1}); !errors.Is(err, ErrGap) {
		t.Fatalf("strict read err = %v, want ErrGap", err)
	}
}

var columnErrorTests = []struct {
	name, in, want string
	temp           bool
	line           int
}{
	{name: "wrong columns", in: "interval_start_utc,price\n2024-01-01T00:00:00Z,1\n", want: "want columns interval_start_utc and ercot_da_demand_forecast_mw"},
	{name: "negative load", in: "interval_start_utc,load_mw\n2024-01-01T00:00:00Z,-1\n", want: "outside 0…500000 MW", line: 2},
	{name: "fahrenheit", in: "interval_start_utc,temp_c\n2024-01-01T00:00:00Z,20\n2024-01-01T01:00:00Z,98\n", want: "°F", temp: true, line: 3},
	{name: "bad time", in: "interval_start_utc,temp_c\n2024-13-01T00:00:00Z,20\n", want: "RFC 3339", temp: true, line: 2},
}

func TestReadColumnErrors(t *testing.T) {
	for _, tc := range columnErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			read := ReadLoad
			if tc.temp {
				read = ReadTemperature
			}
			_, err := read(strings.NewReader(tc.in), "x.csv", ReadOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), "x.csv") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name x.csv and contain %q", err, tc.want)
			}
			var pe *ParseError
			if tc.line > 0 && (!errors.As(err, &pe) || pe.Line != tc.line) {
				t.Fatalf("err = %v, want line %d", err, tc.line)
			}
		})
	}
}

func TestFourCP(t *testing.T) {
	// Hourly load over 2025 rising day by day (so each month's plain peak
	// is its last day), plus a higher bump at 16:00 CDT (21:00 UTC) on the
	// 10th of June to September: the bumps are the four peaks.
	start := utc("2025-01-01T00:00:00Z")
	n := 365 * 24
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(i / 24)
	}
	for _, d := range []string{"2025-06-10T21:00:00Z", "2025-07-10T21:00:00Z", "2025-08-10T21:00:00Z", "2025-09-10T21:00:00Z"} {
		vals[int(utc(d).Sub(start)/time.Hour)] = 1000
	}
	got := FourCP(Series{Start: start, Step: time.Hour, Values: vals})
	if len(got) != 4 {
		t.Fatalf("got %d peaks, want 4: %v", len(got), got)
	}
	for i, p := range got {
		if p.Value != 1000 || p.At.In(Central).Day() != 10 || p.At.In(Central).Month() != time.June+time.Month(i) || p.At.In(Central).Hour() != 16 {
			t.Errorf("peak %d = %v at %s", i, p.Value, p.At.In(Central))
		}
	}
	if got := FourCP(Series{Start: start, Step: time.Hour, Values: vals[:24*100]}); len(got) != 0 {
		t.Errorf("January–April gave peaks %v", got)
	}
}

func FuzzReadLoad(f *testing.F) {
	for _, p := range []string{"load.csv", "temperature.csv"} {
		if b, err := os.ReadFile(filepath.Join("testdata", p)); err == nil {
			f.Add(string(b), false)
		}
	}
	for _, tc := range columnErrorTests {
		f.Add(tc.in, tc.temp)
	}
	f.Fuzz(func(t *testing.T, in string, temp bool) {
		read := ReadLoad
		if temp {
			read = ReadTemperature
		}
		s, err := read(strings.NewReader(in), "fuzz.csv", ReadOptions{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkSeries(t, s)
	})
}
