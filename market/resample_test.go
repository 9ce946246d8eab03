package market

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

var resampleTests = []struct {
	name    string
	in      Series
	step    time.Duration
	start   string
	want    []float64
	filled  int
	notes   int
	wantErr string
}{
	{
		name: "hourly to 15 minutes repeats",
		in:   Series{Name: "p", Start: utc("2025-01-01T00:00:00Z"), Step: time.Hour, Values: []float64{10, -5}, Filled: 1},
		step: 15 * time.Minute, start: "2025-01-01T00:00:00Z", want: []float64{10, 10, 10, 10, -5, -5, -5, -5}, filled: 4,
	},
	{
		name: "15 minutes to hourly is the time-weighted mean",
		in:   Series{Name: "p", Start: utc("2025-01-01T00:00:00Z"), Step: 15 * time.Minute, Values: []float64{1, 2, 3, 4, -10, 10, 0, 4}, Filled: 1},
		step: time.Hour, start: "2025-01-01T00:00:00Z", want: []float64{2.5, 1}, filled: 1,
	},
	{
		name: "partial edges hold the mean of the part covered",
		in:   Series{Name: "p", Start: utc("2025-01-01T00:30:00Z"), Step: 15 * time.Minute, Values: []float64{1, 3, 5, 5, 5, 5, 7}},
		step: time.Hour, start: "2025-01-01T00:00:00Z", want: []float64{2, 5, 7}, notes: 1,
	},
	{
		name: "same step copies",
		in:   Series{Name: "p", Start: utc("2025-01-01T00:00:00Z"), Step: time.Hour, Values: []float64{1, 2}},
		step: time.Hour, start: "2025-01-01T00:00:00Z", want: []float64{1, 2},
	},
	{
		name: "hourly to daily",
		in:   Series{Name: "p", Start: utc("2025-01-01T00:00:00Z"), Step: time.Hour, Values: slices.Repeat([]float64{1, 3}, 24)},
		step: 24 * time.Hour, start: "2025-01-01T00:00:00Z", want: []float64{2, 2},
	},
	{
		name:    "incommensurate steps",
		in:      Series{Name: "p", Start: utc("2025-01-01T00:00:00Z"), Step: time.Hour, Values: []float64{1}},
		step:    25 * time.Minute,
		wantErr: "one must be a whole multiple of the other",
	},
	{
		name:    "zero step",
		in:      Series{Name: "p", Step: time.Hour, Values: []float64{1}},
		step:    0,
		wantErr: "steps must be positive",
	},
}

func TestResample(t *testing.T) {
	for _, tc := range resampleTests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.in.Values)
			got, err := Resample(tc.in, tc.step)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Start.Equal(utc(tc.start)) || got.Step != tc.step || got.Filled != tc.filled || len(got.Notes) != tc.notes {
				t.Errorf("got start %s step %s filled %d notes %q, want %s %s %d %d notes",
					got.Start.Format(time.RFC3339), got.Step, got.Filled, got.Notes, tc.start, tc.step, tc.filled, tc.notes)
			}
			if len(got.Values) != len(tc.want) {
				t.Fatalf("values = %v, want %v", got.Values, tc.want)
			}
			for i := range tc.want {
				if math.Abs(got.Values[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("values = %v, want %v", got.Values, tc.want)
				}
			}
			if !slices.Equal(tc.in.Values, before) {
				t.Error("Resample modified its input")
			}
		})
	}
}

// Downsampling what was upsampled gives the original back, and the mean
// over the whole span is preserved both ways.
func TestResampleRoundTrip(t *testing.T) {
	sc := Generate(7, utc("2025-03-01T00:00:00Z"), 10)
	h, err := Resample(sc.Prices, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Resample(h, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Resample(q, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range h.Values {
		if math.Abs(back.Values[i]-h.Values[i]) > 1e-9 {
			t.Fatalf("hour %d: %v after round trip, want %v", i, back.Values[i], h.Values[i])
		}
	}
	if a, b := mean(sc.Prices.Values), mean(h.Values); math.Abs(a-b) > 1e-9 {
		t.Fatalf("mean 15-min %v, hourly %v", a, b)
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
