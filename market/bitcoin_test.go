package market

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var subsidyHeightTests = []struct {
	h    int64
	want float64
}{
	{-1, 0}, {0, 50}, {209_999, 50}, {210_000, 25}, {420_000, 12.5}, {629_999, 12.5},
	{630_000, 6.25}, {839_999, 6.25}, {840_000, 3.125}, {1_049_999, 3.125}, {1_050_000, 1.5625},
	{32 * 210_000, 0.00000001}, {33 * 210_000, 0}, {64 * 210_000, 0}, {math.MaxInt64, 0},
}

func TestSubsidyAtHeight(t *testing.T) {
	for _, tc := range subsidyHeightTests {
		if got := SubsidyAtHeight(tc.h); got != tc.want {
			t.Errorf("SubsidyAtHeight(%d) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

var heightTests = []struct {
	at      string
	height  int64
	subsidy float64
}{
	{"2009-01-03T18:15:04Z", -1, 0},
	{"2009-01-03T18:15:05Z", 0, 50},
	{"2012-11-28T15:24:38Z", 210_000, 25},
	{"2016-07-09T16:46:13Z", 420_000, 12.5},
	{"2020-05-11T19:23:43Z", 630_000, 6.25},
	{"2024-04-20T00:00:00Z", 839_999, 6.25}, // interpolation lands just short of the anchor
	{"2024-04-20T00:09:27Z", 840_000, 3.125},
	{"2024-04-21T00:09:27Z", 840_144, 3.125},
	{"2028-04-17T00:09:27Z", 1_049_952, 3.125}, // 10-minute blocks put 1,050,000 at 2028-04-17 08:09
	{"2028-04-18T00:00:00Z", 1_050_095, 1.5625},
}

func TestHeightAndSubsidyAt(t *testing.T) {
	for _, tc := range heightTests {
		at := utc(tc.at)
		if got := HeightAt(at); got != tc.height {
			t.Errorf("HeightAt(%s) = %d, want %d", tc.at, got, tc.height)
		}
		if got := SubsidyAt(at); got != tc.subsidy {
			t.Errorf("SubsidyAt(%s) = %v, want %v", tc.at, got, tc.subsidy)
		}
	}
	// Heights never go backwards.
	prev := int64(-2)
	for at := utc("2008-12-01T00:00:00Z"); at.Before(utc("2030-01-01T00:00:00Z")); at = at.Add(97 * time.Hour) {
		h := HeightAt(at)
		if h < prev {
			t.Fatalf("HeightAt(%s) = %d < %d", at, h, prev)
		}
		prev = h
	}
}

// Expected hashprices are computed independently (Python float64) from the
// formula in docs/market.md.
var hashpriceTests = []struct {
	name                      string
	difficulty, subsidy, fees float64
	price                     float64
	want                      float64
}{
	{"docs worked example 2025-12-29", 150055528536302, 3.125, 0.018222, 87133.51, 0.03671657351517605},
	{"pre-halving 2024-04-19", 86388558925171, 6.25, 0.9, 63818.00, 0.10625439020957789},
	{"zero difficulty", 0, 3.125, 0, 1e5, 0},
	{"negative difficulty", -5, 3.125, 0, 1e5, 0},
}

func TestHashprice(t *testing.T) {
	for _, tc := range hashpriceTests {
		got := Hashprice(tc.difficulty, tc.subsidy, tc.fees, tc.price)
		if math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: Hashprice = %.17g, want %.17g", tc.name, got, tc.want)
		}
	}
}

func TestReadBTCAndHashpriceSeries(t *testing.T) {
	days, err := OpenBTC(filepath.Join("testdata", "btc_fees.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 4 || !days[2].Date.Equal(utc("2024-04-21T00:00:00Z")) || days[2].HasFees || !days[3].HasFees || days[3].FeesBTC != 0.05 {
		t.Fatalf("days = %+v", days)
	}
	hp := HashpriceSeries(days, DefaultFeeBTCPerBlock)
	want := []float64{0.10625439020957789, 0.06545758370196149, 0.04789671773259907, 0.04789671773259907, 0.048453193837941354}
	if hp.Len() != len(want) || hp.Filled != 1 || !hp.Start.Equal(utc("2024-04-19T00:00:00Z")) || hp.Step != 24*time.Hour || len(hp.Notes) != 2 {
		t.Fatalf("hashprice series = %+v", hp)
	}
	for i, w := range want {
		if math.Abs(hp.Values[i]-w) > 1e-15 {
			t.Errorf("day %d hashprice = %.17g, want %.17g", i, hp.Values[i], w)
		}
	}
	// Unsorted input gives the same series.
	rev := []BTCDay{days[3], days[1], days[0], days[2]}
	if got := HashpriceSeries(rev, DefaultFeeBTCPerBlock); got.Len() != hp.Len() || got.Values[4] != hp.Values[4] {
		t.Errorf("unsorted input gave %v", got.Values)
	}
	if got := HashpriceSeries(nil, DefaultFeeBTCPerBlock); got.Len() != 0 {
		t.Errorf("empty input gave %d values", got.Len())
	}

	days, err = OpenBTC(filepath.Join("testdata", "btc_nofees.csv"))
	if err != nil {
		t.Fatal(err)
	}
	hp = HashpriceSeries(days, 0.5)
	// 2020-05-11 12:00 UTC is before block 630,000 (19:23 UTC): 12.5 BTC.
	if w := Hashprice(16104807485529, 12.5, 0.5, 8601.80); hp.Values[1] != w {
		t.Errorf("2020-05-11 hashprice = %v, want %v", hp.Values[1], w)
	}
	if w := Hashprice(16104807485529, 6.25, 0.5, 8804.48); hp.Values[2] != w {
		t.Errorf("2020-05-12 hashprice = %v, want %v", hp.Values[2], w)
	}
}

func TestConstantSeries(t *testing.T) {
	s := ConstantSeries("hashprice", "$/TH/day", utc("2025-01-01T00:00:00Z"), 24*time.Hour, 3, 0.05)
	if s.Len() != 3 || s.Values[2] != 0.05 || s.Filled != 0 {
		t.Fatalf("got %+v", s)
	}
	if s := ConstantSeries("x", "", time.Time{}, time.Hour, -1, 1); s.Len() != 0 {
		t.Fatalf("negative length gave %d values", s.Len())
	}
}

var btcErrorTests = []struct {
	name, in, want string
	line           int
	field          string
	is             error
}{
	{name: "missing column", in: "date,close_usd\n2024-01-01,1\n", want: "want columns date, close_usd and difficulty", is: ErrFormat},
	{name: "weeks missing", in: "date,close_usd,difficulty\n2024-01-01,40000,7e13\n2024-01-07,40000,7e13\n2024-03-01,41000,7e13\n", want: "53 days missing after 2024-01-07", line: 4, field: "date", is: ErrGap},
	{name: "no rows", in: "date,close_usd,difficulty\n", is: ErrNoData},
	{name: "bad date", in: "date,close_usd,difficulty\n01/02/2024,1,1\n", want: "YYYY-MM-DD", line: 2, field: "date"},
	{name: "zero price", in: "date,close_usd,difficulty\n2024-01-02,0,1\n", want: "must be positive", line: 2, field: "close_usd"},
	{name: "bad difficulty", in: "date,close_usd,difficulty\n2024-01-02,1,x\n", want: "not a number", line: 2, field: "difficulty"},
	{name: "negative fee", in: "date,close_usd,difficulty,fees_btc_per_block\n2024-01-02,1,1,-0.1\n", want: "cannot be negative", line: 2, field: "fees_btc_per_block"},
	{name: "repeated date", in: "date,close_usd,difficulty\n2024-01-02,1,1\n2024-01-02,1,1\n", want: "already given on line 2", line: 3, field: "date", is: ErrDuplicate},
}

func TestReadBTCErrors(t *testing.T) {
	for _, tc := range btcErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadBTC(strings.NewReader(tc.in), "btc.csv")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "btc.csv") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name btc.csv and contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if tc.line > 0 {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != tc.line || pe.Field != tc.field {
					t.Errorf("error %q: want line %d field %q", err, tc.line, tc.field)
				}
			}
		})
	}
}

func FuzzReadBTC(f *testing.F) {
	for _, p := range []string{"btc_fees.csv", "btc_nofees.csv"} {
		if b, err := os.ReadFile(filepath.Join("testdata", p)); err == nil {
			f.Add(string(b))
		}
	}
	for _, tc := range btcErrorTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		days, err := ReadBTC(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		hp := HashpriceSeries(days, DefaultFeeBTCPerBlock)
		if hp.Len() < len(days) {
			t.Fatalf("%d days gave %d hashprices", len(days), hp.Len())
		}
		for i, v := range hp.Values {
			if math.IsNaN(v) || v < 0 {
				t.Fatalf("hashprice %d = %v", i, v)
			}
		}
	})
}
