package market

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// DefaultFeeBTCPerBlock is the fee revenue per block assumed for days whose
// input has no fee data: 0.043 BTC, the median of the daily mean fees per
// block from the 2024-04-20 halving to 2025-12-29 (619 days, Coin Metrics
// community data in shared/data/btc_daily_fees_2023_2025.csv; the mean,
// 0.109, is dominated by the Runes launch days, the 2025 median is 0.031).
const DefaultFeeBTCPerBlock = 0.043

// BTCDay is one day of Bitcoin network economics.
type BTCDay struct {
	// Date is the UTC day (00:00 UTC).
	Date time.Time
	// CloseUSD is the day's closing BTC price in USD.
	CloseUSD float64
	// Difficulty is the mining difficulty in force that day.
	Difficulty float64
	// FeesBTC is the mean transaction fee revenue per block in BTC; it is
	// meaningful only when HasFees is true.
	FeesBTC float64
	// HasFees reports whether the input gave fees for this day.
	HasFees bool
}

// Subsidy returns the block subsidy in BTC at 12:00 UTC of the day, so a
// halving day counts at the subsidy most of its blocks earned.
func (d BTCDay) Subsidy() float64 { return SubsidyAt(d.Date.Add(12 * time.Hour)) }

// Hashprice returns the day's hashprice in $/TH/day, using defaultFee (BTC
// per block) when the day has no fee data.
func (d BTCDay) Hashprice(defaultFee float64) float64 {
	fee := defaultFee
	if d.HasFees {
		fee = d.FeesBTC
	}
	return Hashprice(d.Difficulty, d.Subsidy(), fee, d.CloseUSD)
}

// OpenBTC reads a daily BTC file with ReadBTC.
func OpenBTC(path string) ([]BTCDay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open btc: %w", err)
	}
	defer f.Close()
	return ReadBTC(f, path)
}

// ReadBTC reads a daily Bitcoin CSV with columns, found by name in any
// order, date (YYYY-MM-DD), close_usd and difficulty, plus optional
// fees_btc_per_block; other columns (hashrate_ths, ...) are ignored. An
// empty fee cell leaves that day without fees. Days come back sorted; a
// repeated date, a non-positive price or difficulty, a negative fee, more
// than six days missing in a row (ErrGap) or a malformed field is a
// *ParseError. Other missing days are left out (see HashpriceSeries for the
// fill rule).
func ReadBTC(r io.Reader, name string) ([]BTCDay, error) {
	t, err := newTable(r, name)
	if err != nil {
		return nil, err
	}
	cDate := t.col("date", "day")
	cClose := t.col("closeusd", "close", "priceusd", "price")
	cDiff := t.col("difficulty")
	cFees := t.col("feesbtcperblock", "feesperblockbtc", "feesbtc")
	if cDate < 0 || cClose < 0 || cDiff < 0 {
		return nil, fmt.Errorf("%s: %w: want columns date, close_usd and difficulty (fees_btc_per_block optional); header: %s",
			name, ErrFormat, t.headerList())
	}
	var days []BTCDay
	lines := map[int64]int{}
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var d BTCDay
		ds, err := t.field(rec, cDate)
		if err != nil {
			return nil, err
		}
		if d.Date, err = time.Parse(time.DateOnly, ds); err != nil {
			return nil, t.errf(cDate, ds, "want a date as YYYY-MM-DD")
		}
		if prev, dup := lines[d.Date.Unix()]; dup {
			return nil, t.errf(cDate, ds, "%w: date already given on line %d", ErrDuplicate, prev)
		}
		lines[d.Date.Unix()] = t.line
		if d.CloseUSD, err = positiveField(t, rec, cClose); err != nil {
			return nil, err
		}
		if d.Difficulty, err = positiveField(t, rec, cDiff); err != nil {
			return nil, err
		}
		if cFees >= 0 {
			s, err := t.field(rec, cFees)
			if err != nil {
				return nil, err
			}
			if s != "" {
				if d.FeesBTC, err = parseValue(s); err != nil {
					return nil, t.errf(cFees, s, "%v", err)
				}
				if d.FeesBTC < 0 {
					return nil, t.errf(cFees, s, "fees per block cannot be negative")
				}
				d.HasFees = true
			}
		}
		days = append(days, d)
	}
	if len(days) == 0 {
		return nil, &ParseError{File: name, Err: ErrNoData}
	}
	slices.SortStableFunc(days, func(a, b BTCDay) int { return a.Date.Compare(b.Date) })
	// A few missing days are filled (HashpriceSeries); weeks missing mean a
	// broken extract, and filling them would invent a hashprice.
	for i := 1; i < len(days); i++ {
		if gap := days[i].Date.Sub(days[i-1].Date); gap > MaxBTCGap {
			return nil, &ParseError{File: name, Line: lines[days[i].Date.Unix()], Field: t.header[cDate], Value: days[i].Date.Format(time.DateOnly),
				Err: fmt.Errorf("%w: %d days missing after %s; at most %d may be filled", ErrGap,
					int(gap/(24*time.Hour))-1, days[i-1].Date.Format(time.DateOnly), int(MaxBTCGap/(24*time.Hour))-1)}
		}
	}
	return days, nil
}

// MaxBTCGap is the longest spacing between consecutive days a BTC file may
// have: up to six missing days are filled with the previous day's value.
const MaxBTCGap = 7 * 24 * time.Hour

func positiveField(t *table, rec []string, i int) (float64, error) {
	s, err := t.field(rec, i)
	if err != nil {
		return 0, err
	}
	v, err := parseValue(s)
	if err != nil {
		return 0, t.errf(i, s, "%v", err)
	}
	if v <= 0 {
		return 0, t.errf(i, s, "must be positive")
	}
	return v, nil
}

// HashpriceSeries returns the daily hashprice ($/TH/day) of days, one value
// per UTC day from the first to the last date. Days without fee data use
// defaultFee BTC per block (DefaultFeeBTCPerBlock is the documented
// choice); missing dates take the previous day's value and are counted in
// Filled. Both are summarised in Notes. Empty input gives an empty series.
func HashpriceSeries(days []BTCDay, defaultFee float64) Series {
	s := Series{Name: "hashprice", Unit: "$/TH/day", Step: 24 * time.Hour}
	if len(days) == 0 {
		return s
	}
	sorted := slices.IsSortedFunc(days, func(a, b BTCDay) int { return a.Date.Compare(b.Date) })
	if !sorted {
		days = slices.Clone(days)
		slices.SortStableFunc(days, func(a, b BTCDay) int { return cmp.Compare(a.Date.Unix(), b.Date.Unix()) })
	}
	first := days[0].Date.UTC().Truncate(24 * time.Hour)
	last := days[len(days)-1].Date.UTC().Truncate(24 * time.Hour)
	s.Start = first
	n := int(last.Sub(first)/(24*time.Hour)) + 1
	s.Values = make([]float64, n)
	set := make([]bool, n)
	noFee := 0
	for _, d := range days {
		i := int(d.Date.UTC().Truncate(24*time.Hour).Sub(first) / (24 * time.Hour))
		if set[i] {
			continue // ReadBTC rejects repeated dates; keep the first otherwise
		}
		set[i] = true
		s.Values[i] = d.Hashprice(defaultFee)
		if !d.HasFees {
			noFee++
		}
	}
	for i := 1; i < n; i++ {
		if !set[i] {
			s.Values[i] = s.Values[i-1]
			s.Filled++
		}
	}
	if noFee > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d of %d days have no fee data and assume %g BTC per block", noFee, len(days), defaultFee))
	}
	if s.Filled > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d missing days take the previous day's hashprice", s.Filled))
	}
	return s
}

// ConstantSeries returns n intervals of step from start all holding v: the
// CLI's --hashprice X override is ConstantSeries("hashprice", "$/TH/day",
// start, 24*time.Hour, days, X).
func ConstantSeries(name, unit string, start time.Time, step time.Duration, n int, v float64) Series {
	vals := make([]float64, max(n, 0))
	for i := range vals {
		vals[i] = v
	}
	return Series{Name: name, Unit: unit, Start: start, Step: step, Values: vals}
}
