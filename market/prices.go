package market

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PriceOptions controls ReadPrices.
type PriceOptions struct {
	// SettlementPoint selects one point (case-insensitive) from a file that
	// holds several. Empty accepts a file with exactly one point.
	SettlementPoint string
	// Step resamples the result (15*time.Minute or time.Hour, or any whole
	// multiple/divisor of the file's step); zero keeps the file's own step.
	Step time.Duration
	// MaxGap is the longest run of missing intervals filled from the
	// previous interval; zero means DefaultMaxGap, negative rejects any gap.
	MaxGap time.Duration
	// Location is the market clock of ERCOT-style date/hour-ending layouts;
	// nil means America/Chicago. Files with RFC 3339 timestamps ignore it.
	Location *time.Location
}

// layout names a price file layout ReadPrices recognises from its header.
type layout string

const (
	// Historical RT settlement point price layout: Delivery Date, Delivery
	// Hour, Delivery Interval, Repeated Hour Flag, Settlement Point Name,
	// Settlement Point Type, Settlement Point Price.
	layoutERCOTHistorical layout = "ercot-historical"
	// Current 15-minute RT layout: DeliveryDate, DeliveryHour,
	// DeliveryInterval, SettlementPointName, SettlementPointType,
	// SettlementPointPrice, DSTFlag.
	layoutERCOTCurrent layout = "ercot-current"
	// Any ERCOT date/hour-ending layout without an interval column, such as
	// the day-ahead SPP report (Delivery Date, Hour Ending, Repeated Hour
	// Flag, Settlement Point, Settlement Point Price).
	layoutERCOTHourly layout = "ercot-hourly"
	// Plain CSV: an RFC 3339 interval start (timestamp or
	// interval_start_utc), a price (price or price_usd_per_mwh) and
	// optionally settlement_point.
	layoutTimestamp layout = "timestamp"
)

// Column names, normalised by normName (lower case, letters and digits only).
var (
	colDate     = []string{"deliverydate", "operday"}
	colHour     = []string{"deliveryhour", "hourending"}
	colInterval = []string{"deliveryinterval"}
	colFlag     = []string{"repeatedhourflag", "dstflag"}
	colPoint    = []string{"settlementpointname", "settlementpoint", "point"}
	colPrice    = []string{"settlementpointprice", "priceusdpermwh", "price", "lmp"}
	colTime     = []string{"timestamp", "intervalstartutc", "intervalstart", "time", "datetime"}
)

// OpenPrices reads a price file with ReadPrices.
func OpenPrices(path string, opt PriceOptions) (Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return Series{}, fmt.Errorf("open prices: %w", err)
	}
	defer f.Close()
	return ReadPrices(f, path, opt)
}

// ReadPrices reads power prices ($/MWh) in any accepted layout, detected
// from the header (see docs/market.md), into a regular series named after the settlement point. name is
// the file name used in errors. Interval starts are UTC. Negative prices are
// valid. Gaps up to opt.MaxGap are filled from the previous interval and
// counted in Filled; out-of-order rows are sorted and identical duplicate
// rows dropped, each noted in Notes; conflicting duplicates, malformed
// fields and off-grid times are a *ParseError naming file, line and field.
func ReadPrices(r io.Reader, name string, opt PriceOptions) (Series, error) {
	t, err := newTable(r, name)
	if err != nil {
		return Series{}, err
	}
	pr := priceReader{t: t, want: strings.TrimSpace(opt.SettlementPoint)}
	pr.point = t.col(colPoint...)
	pr.price = t.col(colPrice...)
	if pr.price < 0 {
		return Series{}, fmt.Errorf("%s: %w: no price column (want one of Settlement Point Price, SettlementPointPrice, price, price_usd_per_mwh) in header: %s",
			name, ErrFormat, t.headerList())
	}
	var step time.Duration
	if ts := t.col(colTime...); ts >= 0 {
		pr.layout = layoutTimestamp
		pr.ts = ts
	} else if date, hour := t.col(colDate...), t.col(colHour...); date >= 0 && hour >= 0 {
		pr.date, pr.hour = date, hour
		pr.iv = t.col(colInterval...)
		pr.flag = t.col(colFlag...)
		pr.clock = newErcotClock(opt.Location)
		switch {
		case pr.iv < 0:
			pr.layout, step = layoutERCOTHourly, time.Hour
		case t.col("dstflag") >= 0:
			pr.layout, step = layoutERCOTCurrent, 15*time.Minute
		default:
			pr.layout, step = layoutERCOTHistorical, 15*time.Minute
		}
	} else {
		return Series{}, fmt.Errorf("%s: %w: want a timestamp column (timestamp or interval_start_utc) or Delivery Date and Delivery Hour columns; header: %s",
			name, ErrFormat, t.headerList())
	}
	rows, point, err := pr.read()
	if err != nil {
		return Series{}, err
	}
	sname := "price"
	if point != "" {
		sname = point
	}
	s, err := regularize(name, rows, step, opt.MaxGap, sname, "$/MWh")
	if err != nil {
		return Series{}, err
	}
	s.Notes = append(emptyNote(pr.empty), s.Notes...)
	if opt.Step != 0 && opt.Step != s.Step {
		return Resample(s, opt.Step)
	}
	return s, nil
}

type priceReader struct {
	t      *table
	layout layout
	want   string // requested settlement point, as typed
	// column indexes, -1 when absent
	point, price, ts, date, hour, iv, flag int
	clock                                  *ercotClock
	empty                                  int // rows of the point with an empty price
}

// read parses every row, keeping those of the selected point.
func (p *priceReader) read() ([]obs, string, error) {
	var rows []obs
	var chosen string         // point of the kept rows, as first written
	seen := map[string]bool{} // upper-cased point names, when unfiltered or not yet matched
	var names []string
	var lastOther string // last skipped point, to skip its rows cheaply
	for {
		rec, err := p.t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
		if p.point >= 0 {
			pt, err := p.t.field(rec, p.point)
			if err != nil {
				return nil, "", err
			}
			if pt == "" {
				return nil, "", p.t.errf(p.point, "", "empty settlement point name")
			}
			if p.want != "" {
				if !strings.EqualFold(pt, p.want) {
					if pt == lastOther {
						continue // most files group rows by point
					}
					lastOther = pt
					if up := strings.ToUpper(pt); !seen[up] {
						seen[up] = true
						names = append(names, pt)
					}
					continue
				}
			} else if up := strings.ToUpper(pt); !seen[up] {
				seen[up] = true
				names = append(names, pt)
			}
			if p.want == "" && len(names) > 1 {
				rows = nil // the read will fail; only the point names matter now
				continue
			}
			if chosen == "" {
				chosen = pt
			}
		}
		o, err := p.row(rec)
		if err == errEmpty {
			p.empty++
			o.missing = true
			err = nil
		}
		if err != nil {
			return nil, "", err
		}
		rows = append(rows, o)
	}
	if p.point >= 0 && p.want == "" && len(names) > 1 {
		slices.Sort(names)
		return nil, "", fmt.Errorf("%s: %w: %s; choose one with --settlement-point", p.t.file, ErrMultiplePoints, listNames(names))
	}
	if p.point >= 0 && p.want != "" && chosen == "" {
		slices.Sort(names)
		avail := "none"
		if len(names) > 0 {
			avail = listNames(names)
		}
		return nil, "", fmt.Errorf("%s: %w: %q; available: %s", p.t.file, ErrUnknownPoint, p.want, avail)
	}
	if p.point < 0 && p.want != "" {
		// A file without a point column holds one series; the filter
		// cannot be checked, so it is taken as a label.
		chosen = p.want
	}
	if len(rows) == 0 {
		return nil, "", &ParseError{File: p.t.file, Err: ErrNoData}
	}
	return rows, chosen, nil
}

func listNames(names []string) string {
	const show = 20
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:show], ", ") + fmt.Sprintf(" and %d more", len(names)-show)
}

func (p *priceReader) row(rec []string) (obs, error) {
	o := obs{line: p.t.line}
	var err error
	if o.t, err = p.when(rec); err != nil {
		return o, err
	}
	v, err := p.t.field(rec, p.price)
	if err != nil {
		return o, err
	}
	if v == "" {
		return o, errEmpty
	}
	if o.v, err = parseValue(v); err != nil {
		return o, p.t.errf(p.price, v, "%v", err)
	}
	return o, nil
}

// when returns the UTC interval start of a row, in Unix seconds.
func (p *priceReader) when(rec []string) (int64, error) {
	if p.layout == layoutTimestamp {
		s, err := p.t.field(rec, p.ts)
		if err != nil {
			return 0, err
		}
		t, err := parseTimestamp(s)
		if err != nil {
			return 0, p.t.errf(p.ts, s, "%v", err)
		}
		return t, nil
	}
	date, err := p.t.field(rec, p.date)
	if err != nil {
		return 0, err
	}
	if _, _, _, err := parseDeliveryDate(date); err != nil {
		return 0, p.t.errf(p.date, date, "%v", err)
	}
	hs, err := p.t.field(rec, p.hour)
	if err != nil {
		return 0, err
	}
	he, err := parseHourEnding(hs)
	if err != nil {
		return 0, p.t.errf(p.hour, hs, "%v", err)
	}
	iv := 0
	if p.iv >= 0 {
		s, err := p.t.field(rec, p.iv)
		if err != nil {
			return 0, err
		}
		if iv, err = strconv.Atoi(s); err != nil || iv < 1 || iv > 4 {
			return 0, p.t.errf(p.iv, s, "want a delivery interval from 1 to 4")
		}
	}
	repeated := false
	field, value := p.hour, hs
	if p.flag >= 0 {
		s, err := p.t.field(rec, p.flag)
		if err != nil {
			return 0, err
		}
		if repeated, err = parseFlag(s); err != nil {
			return 0, p.t.errf(p.flag, s, "%v", err)
		}
		if repeated {
			field, value = p.flag, s
		}
	}
	t, err := p.clock.start(date, he, iv, repeated)
	if err != nil {
		return 0, p.t.errf(field, value, "%v", err)
	}
	return t, nil
}

// parseUTCFast parses the common "2006-01-02T15:04:05Z" form without the
// generality of time.Parse (reading is dominated by it otherwise); any
// other form, or an invalid date, reports false and takes the slow path.
func parseUTCFast(s string) (int64, bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return 0, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d := num(0, 4), num(5, 2), num(8, 2)
	h, mi, sec := num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC).Unix(), true
}

// errEmpty marks a row whose value cell is empty: a missing interval,
// handled by the gap fill rule rather than rejected as malformed.
var errEmpty = errors.New("empty value")

func emptyNote(n int) []string {
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d rows had an empty value and were treated as missing intervals", n)}
}

// parseValue parses a finite decimal number.
func parseValue(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("empty value")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a finite number")
	}
	return v, nil
}

// parseTimestamp parses an RFC 3339 time (a space may replace the T) that
// carries a UTC offset, returning Unix seconds.
func parseTimestamp(s string) (int64, error) {
	if t, ok := parseUTCFast(s); ok {
		return t, nil
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if _, lerr := time.Parse("2006-01-02T15:04:05", s); lerr == nil {
			return 0, errors.New("timestamp has no UTC offset; want RFC 3339 such as 2024-01-01T00:00:00Z")
		}
		return 0, errors.New("want an RFC 3339 timestamp such as 2024-01-01T00:00:00Z")
	}
	if t.Nanosecond() != 0 {
		return 0, errors.New("timestamp has a fraction of a second; interval starts must be whole seconds")
	}
	return t.Unix(), nil
}
