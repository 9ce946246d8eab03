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

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// at is one expected value at a UTC time.
type at struct {
	t string
	v float64
}

var priceFileTests = []struct {
	file   string
	opt    PriceOptions
	name   string
	start  string
	step   time.Duration
	n      int
	filled int
	notes  int
	values []at
}{
	{
		// 23-hour spring-forward day: CST midnight is 06:00Z, CDT midnight 05:00Z next day.
		file: "ercot_hist_spring_2024-03-10.csv", opt: PriceOptions{SettlementPoint: "hb_north"},
		name: "HB_NORTH", start: "2024-03-10T06:00:00Z", step: 15 * time.Minute, n: 92,
		values: []at{{"2024-03-10T06:00:00Z", 11}, {"2024-03-10T07:45:00Z", 24}, {"2024-03-10T08:00:00Z", -41}, {"2024-03-11T04:45:00Z", 244}},
	},
	{
		file: "ercot_hist_spring_2024-03-10.csv", opt: PriceOptions{SettlementPoint: "HB_HOUSTON"},
		name: "HB_HOUSTON", start: "2024-03-10T06:00:00Z", step: 15 * time.Minute, n: 92,
		values: []at{{"2024-03-10T08:00:00Z", 1041}},
	},
	{
		// The same day labelled with hour ending 2 skipped: HE 3 is 01:00 CST–03:00 CDT.
		file: "ercot_hist_spring_skip2.csv", name: "HB_NORTH", start: "2024-03-10T06:00:00Z", step: 15 * time.Minute, n: 92,
		values: []at{{"2024-03-10T07:00:00Z", 31}, {"2024-03-10T08:00:00Z", 41}},
	},
	{
		// 25-hour fall-back day: the DSTFlag=Y hour is the second (CST) 01:00.
		file: "ercot_current_fall_2024-11-03.csv", name: "LZ_WEST", start: "2024-11-03T05:00:00Z", step: 15 * time.Minute, n: 100,
		values: []at{{"2024-11-03T06:00:00Z", 21}, {"2024-11-03T07:00:00Z", 201}, {"2024-11-03T07:45:00Z", 204}, {"2024-11-03T08:00:00Z", 31}, {"2024-11-04T05:45:00Z", 244}},
	},
	{
		file: "ercot_current_fall_2024-11-03.csv", opt: PriceOptions{Step: time.Hour}, name: "LZ_WEST", start: "2024-11-03T05:00:00Z", step: time.Hour, n: 25,
		values: []at{{"2024-11-03T05:00:00Z", 12.5}, {"2024-11-03T07:00:00Z", 202.5}},
	},
	{
		file: "ercot_dam_hourly.csv", name: "HB_BUSAVG", start: "2025-07-01T05:00:00Z", step: time.Hour, n: 48,
		values: []at{{"2025-07-01T05:00:00Z", 1}, {"2025-07-02T04:00:00Z", 24}, {"2025-07-02T05:00:00Z", 25}},
	},
	{
		file: "ercot_dam_hourly.csv", opt: PriceOptions{Step: 15 * time.Minute}, name: "HB_BUSAVG", start: "2025-07-01T05:00:00Z", step: 15 * time.Minute, n: 192,
		values: []at{{"2025-07-01T05:45:00Z", 1}, {"2025-07-01T06:00:00Z", 2}},
	},
	{
		// Out of order, an identical duplicate and a two-interval gap: three notes.
		file: "plain_15min.csv", name: "price", start: "2025-05-01T00:00:00Z", step: 15 * time.Minute, n: 8, filled: 2, notes: 3,
		values: []at{{"2025-05-01T00:15:00Z", -3.25}, {"2025-05-01T00:30:00Z", 11}, {"2025-05-01T00:45:00Z", 12}, {"2025-05-01T01:15:00Z", -0.5}, {"2025-05-01T01:30:00Z", -0.5}, {"2025-05-01T01:45:00Z", 40}},
	},
	{
		file: "plain_hourly.csv", name: "HB_WEST", start: "2025-07-01T05:00:00Z", step: time.Hour, n: 6,
		values: []at{{"2025-07-01T10:00:00Z", 25}},
	},
	{
		file: "shared_layout.csv", opt: PriceOptions{SettlementPoint: "HB_HUBAVG"}, name: "HB_HUBAVG", start: "2024-01-01T00:00:00Z", step: 15 * time.Minute, n: 8,
		values: []at{{"2024-01-01T00:45:00Z", -1.2}, {"2024-01-01T01:00:00Z", 5000}},
	},
	{
		file: "shared_layout.csv", opt: PriceOptions{Step: time.Hour}, name: "HB_HUBAVG", start: "2024-01-01T00:00:00Z", step: time.Hour, n: 2,
		values: []at{{"2024-01-01T00:00:00Z", (28.55 + 23.49 + 18.48 - 1.2) / 4}, {"2024-01-01T01:00:00Z", (5000 + 4964.84 + 30 + 31) / 4}},
	},
}

func TestReadPriceFiles(t *testing.T) {
	for _, tc := range priceFileTests {
		t.Run(tc.file+"/"+tc.opt.SettlementPoint+"/"+tc.opt.Step.String(), func(t *testing.T) {
			s, err := OpenPrices(filepath.Join("testdata", tc.file), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tc.name || !s.Start.Equal(utc(tc.start)) || s.Step != tc.step || s.Len() != tc.n || s.Filled != tc.filled {
				t.Fatalf("got %s start %s step %s len %d filled %d, want %s %s %s %d %d",
					s.Name, s.Start.Format(time.RFC3339), s.Step, s.Len(), s.Filled, tc.name, tc.start, tc.step, tc.n, tc.filled)
			}
			if len(s.Notes) != tc.notes {
				t.Errorf("notes = %q, want %d notes", s.Notes, tc.notes)
			}
			if s.Unit != "$/MWh" {
				t.Errorf("unit = %q", s.Unit)
			}
			for _, w := range tc.values {
				got, ok := s.Value(utc(w.t))
				if !ok || math.Abs(got-w.v) > 1e-9 {
					t.Errorf("value at %s = %g (ok %v), want %g", w.t, got, ok, w.v)
				}
			}
		})
	}
}

var priceErrorTests = []struct {
	name  string
	in    string
	opt   PriceOptions
	is    error  // sentinel wanted, or nil
	want  string // substring of the message
	line  int    // ParseError line, 0 when not a ParseError
	field string
}{
	{name: "no header", in: "", want: "empty file", line: 1},
	{name: "unknown layout", in: "a,b\n1,2\n", is: ErrFormat, want: "no price column"},
	{name: "no time column", in: "foo,price\n1,2\n", is: ErrFormat, want: "timestamp column"},
	{name: "only header", in: "timestamp,price\n", is: ErrNoData},
	{name: "bad number", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,abc\n", want: "not a number", line: 3, field: "price"},
	{name: "NaN", in: "timestamp,price\n2024-01-01T00:00:00Z,NaN\n", want: "not a finite number", line: 2, field: "price"},
	{name: "no zone", in: "timestamp,price\n2024-01-01T00:00:00,1\n", want: "no UTC offset", line: 2, field: "timestamp"},
	{name: "bad time", in: "timestamp,price\nyesterday,1\n", want: "RFC 3339", line: 2, field: "timestamp"},
	{name: "short row", in: "timestamp,price\n2024-01-01T00:00:00Z\n", want: "row has 1 fields", line: 2, field: "price"},
	{name: "off grid", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,1\n2024-01-01T00:30:00Z,1\n2024-01-01T00:37:00Z,1\n2024-01-01T00:45:00Z,1\n2024-01-01T01:00:00Z,1\n", want: "not on the 15m0s grid", line: 5},
	{name: "conflicting duplicate", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,2\n2024-01-01T00:15:00Z,3\n", is: ErrDuplicate, line: 4},
	{name: "gap too long", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,1\n2024-01-01T07:00:00Z,1\n", is: ErrGap, line: 4},
	{name: "no gaps allowed", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,1\n2024-01-01T00:45:00Z,1\n", opt: PriceOptions{MaxGap: -1}, is: ErrGap, line: 4},
	{name: "single row", in: "timestamp,price\n2024-01-01T00:00:00Z,1\n", want: "single row", line: 2},
	{name: "several points", in: "timestamp,settlement_point,price\n2024-01-01T00:00:00Z,HB_WEST,1\n2024-01-01T00:00:00Z,HB_NORTH,1\n", is: ErrMultiplePoints, want: "HB_NORTH, HB_WEST"},
	{name: "unknown point", in: "timestamp,settlement_point,price\n2024-01-01T00:00:00Z,HB_WEST,1\n2024-01-01T00:00:00Z,HB_NORTH,1\n", opt: PriceOptions{SettlementPoint: "LZ_X"}, is: ErrUnknownPoint, want: "available: HB_NORTH, HB_WEST"},
	{name: "empty point", in: "timestamp,settlement_point,price\n2024-01-01T00:00:00Z,,1\n", want: "empty settlement point", line: 2, field: "settlement_point"},
	{name: "bad hour", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n01/02/2025,25,1,HB_X,HU,1,N\n", want: "hour ending from 1 to 24", line: 2, field: "DeliveryHour"},
	{name: "bad interval", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n01/02/2025,2,5,HB_X,HU,1,N\n", want: "interval from 1 to 4", line: 2, field: "DeliveryInterval"},
	{name: "bad date", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n02/30/2025,2,1,HB_X,HU,1,N\n", want: "calendar date", line: 2, field: "DeliveryDate"},
	{name: "bad flag", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n01/02/2025,2,1,HB_X,HU,1,maybe\n", want: "want Y or N", line: 2, field: "DSTFlag"},
	{name: "flag on ordinary day", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n01/02/2025,2,1,HB_X,HU,1,Y\n", want: "without a repeated hour", line: 2, field: "DSTFlag"},
	{name: "flag on wrong hour", in: "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n11/03/2024,5,1,HB_X,HU,1,Y\n", want: "only hour ending 2 repeats", line: 2, field: "DSTFlag"},
	{
		name: "repeated hour without flag",
		in:   "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n11/03/2024,2,1,HB_X,HU,1,N\n11/03/2024,2,1,HB_X,HU,7,N\n",
		is:   ErrDuplicate, want: "DST flag set to Y", line: 3,
	},
	{name: "bad quote", in: "timestamp,price\n\"2024-01-01T00:00:00Z,1\n", want: "extraneous or missing \" in quoted-field", line: 2},
}

func TestReadPricesErrors(t *testing.T) {
	for _, tc := range priceErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadPrices(strings.NewReader(tc.in), "in.csv", tc.opt)
			if err == nil {
				t.Fatalf("no error; got series %+v", s)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "in.csv") {
				t.Errorf("error %q does not name the file", msg)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", msg, tc.is)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			var pe *ParseError
			if tc.line > 0 {
				if !errors.As(err, &pe) {
					t.Fatalf("error %q is not a *ParseError", msg)
				}
				if pe.Line != tc.line || pe.Field != tc.field {
					t.Errorf("error at line %d field %q, want line %d field %q (%s)", pe.Line, pe.Field, tc.line, tc.field, msg)
				}
			}
		})
	}
}

func TestReadPricesHeaderTolerance(t *testing.T) {
	in := "\ufeff Delivery Date , DELIVERY HOUR,delivery_interval,Repeated Hour Flag,Settlement Point Name,Settlement Point Type, Settlement Point Price \n" +
		"2024-07-01, 01 ,1, n ,HB_X,HU, -5.5 \n\n" +
		"2024-07-01,1,2,N,HB_X,HU,6\n"
	s, err := ReadPrices(strings.NewReader(in), "in.csv", PriceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Start.Equal(utc("2024-07-01T05:00:00Z")) || s.Len() != 2 || s.Values[0] != -5.5 || s.Values[1] != 6 {
		t.Fatalf("got %+v", s)
	}
}

func TestReadPricesEmptyValueIsGap(t *testing.T) {
	in := "timestamp,price\n2024-01-01T00:00:00Z,1\n2024-01-01T00:15:00Z,\n2024-01-01T00:30:00Z,3\n"
	s, err := ReadPrices(strings.NewReader(in), "in.csv", PriceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 || s.Values[1] != 1 || s.Filled != 1 || len(s.Notes) != 2 {
		t.Fatalf("got values %v filled %d notes %q, want [1 1 3], 1 filled, 2 notes", s.Values, s.Filled, s.Notes)
	}
}

func TestOpenPricesMissingFile(t *testing.T) {
	_, err := OpenPrices(filepath.Join(t.TempDir(), "nope.csv"), PriceOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

// checkSeries asserts the invariants every reader promises.
func checkSeries(t *testing.T, s Series) {
	t.Helper()
	if s.Len() == 0 || s.Step <= 0 {
		t.Fatalf("empty series or step %s without an error", s.Step)
	}
	if s.Filled < 0 || s.Filled > s.Len() {
		t.Fatalf("filled %d of %d", s.Filled, s.Len())
	}
	for i, v := range s.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("value %d is %g", i, v)
		}
	}
}

func FuzzReadPrices(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csv")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.Contains(p, "btc") {
			f.Add(string(b), "")
		}
	}
	for _, tc := range priceErrorTests {
		f.Add(tc.in, tc.opt.SettlementPoint)
	}
	f.Add("DeliveryDate,DeliveryHour,SettlementPointPrice\n03/10/2024,3,1\n03/10/2024,2,1\n", "")
	f.Fuzz(func(t *testing.T, in, point string) {
		s, err := ReadPrices(strings.NewReader(in), "fuzz.csv", PriceOptions{SettlementPoint: point})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkSeries(t, s)
	})
}

// The fast timestamp path must agree with time.Parse on everything it accepts.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2024-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01 00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseUTCFast(s)
		want, err := time.Parse(time.RFC3339, s)
		if ok && (err != nil || want.Unix() != got) {
			t.Fatalf("parseUTCFast(%q) = %d, time.Parse = %v, %v", s, got, want, err)
		}
	})
}
