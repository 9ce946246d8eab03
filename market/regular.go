package market

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultMaxGap is the longest run of missing intervals a reader fills when
// ReadOptions.MaxGap or PriceOptions.MaxGap is zero. Six hours bridges the
// short outages seen in public ERCOT extracts (the longest in the shared
// HB_HUBAVG 2024-01..2025-11 file is an hour) while refusing to invent a
// whole day of prices.
const DefaultMaxGap = 6 * time.Hour

// maxIntervals bounds the length of a series a reader will allocate, so a
// malicious or mistyped file cannot ask for gigabytes (10 years of 1-minute
// data is 5.3 M; 15-minute data for 30 years is 1.05 M).
const maxIntervals = 6_000_000

// maxStepSec is the longest interval a reader accepts (31 days).
const maxStepSec = 31 * 86400

// obs is one parsed row: interval start (Unix seconds), value, source line.
type obs struct {
	t       int64
	v       float64
	line    int
	missing bool // the value cell was empty: the row fixes the grid but holds no value
}

// regularize turns parsed rows into a regular Series by the documented rules:
// rows are sorted by time (out-of-order rows are noted, not rejected);
// exact duplicates are dropped and noted; conflicting duplicates are an
// error; every row must sit on the step grid; gaps up to maxGap are filled
// from the previous interval and counted in Filled. step 0 infers the step
// as the most common spacing between rows.
func regularize(file string, rows []obs, step, maxGap time.Duration, name, unit string) (Series, error) {
	if len(rows) == 0 {
		return Series{}, &ParseError{File: file, Err: ErrNoData}
	}
	if maxGap == 0 {
		maxGap = DefaultMaxGap
	}
	var notes []string
	outOfOrder := 0
	for i := 1; i < len(rows); i++ {
		if rows[i].t < rows[i-1].t {
			outOfOrder++
		}
	}
	if outOfOrder > 0 {
		slices.SortStableFunc(rows, func(a, b obs) int { return cmp.Compare(a.t, b.t) })
		notes = append(notes, fmt.Sprintf("%d rows were out of time order and were sorted", outOfOrder))
	}
	// Drop exact duplicates, refuse conflicting ones.
	dups := 0
	w := 1
	for i := 1; i < len(rows); i++ {
		if rows[i].t == rows[w-1].t {
			if rows[w-1].missing {
				rows[w-1] = rows[i]
				continue
			}
			if rows[i].missing {
				continue
			}
			if rows[i].v != rows[w-1].v {
				return Series{}, &ParseError{File: file, Line: rows[i].line, Err: fmt.Errorf(
					"%w: interval %s has value %g here and %g on line %d (a repeated DST hour needs its repeated-hour/DST flag set to Y)",
					ErrDuplicate, time.Unix(rows[i].t, 0).UTC().Format(time.RFC3339), rows[i].v, rows[w-1].v, rows[w-1].line)}
			}
			dups++
			continue
		}
		rows[w] = rows[i]
		w++
	}
	rows = rows[:w]
	if dups > 0 {
		notes = append(notes, fmt.Sprintf("%d duplicate rows with identical values were dropped", dups))
	}
	sec := int64(step / time.Second)
	if step == 0 {
		if len(rows) < 2 {
			return Series{}, &ParseError{File: file, Line: rows[0].line, Err: errors.New("cannot infer the interval length from a single row")}
		}
		sec = modeSpacing(rows)
	}
	if sec <= 0 || time.Duration(sec)*time.Second != step && step != 0 {
		return Series{}, &ParseError{File: file, Err: fmt.Errorf("interval length %s is not a whole number of seconds", step)}
	}
	// Rows centuries apart would overflow time.Duration; no market series
	// this reads is spaced by more than a month.
	if sec > maxStepSec {
		return Series{}, &ParseError{File: file, Line: rows[min(1, len(rows)-1)].line, Err: fmt.Errorf(
			"rows are %d days apart: the interval length must be at most %d days", sec/86400, maxStepSec/86400)}
	}
	t0 := rows[0].t
	for _, o := range rows {
		if (o.t-t0)%sec != 0 {
			return Series{}, &ParseError{File: file, Line: o.line, Err: fmt.Errorf(
				"time %s is not on the %s grid that starts at %s",
				time.Unix(o.t, 0).UTC().Format(time.RFC3339), time.Duration(sec)*time.Second,
				time.Unix(t0, 0).UTC().Format(time.RFC3339))}
		}
	}
	// Rows with an empty value helped find the grid; now they are gaps.
	w = 0
	for _, o := range rows {
		if !o.missing {
			rows[w] = o
			w++
		}
	}
	rows = rows[:w]
	if len(rows) == 0 {
		return Series{}, &ParseError{File: file, Err: fmt.Errorf("%w: every value cell is empty", ErrNoData)}
	}
	t0 = rows[0].t
	n := (rows[len(rows)-1].t-t0)/sec + 1
	gapSec := int64(maxGap / time.Second)
	filled, gaps := 0, 0
	var longest, longestAt int64
	for i := 1; i < len(rows); i++ {
		missing := (rows[i].t-rows[i-1].t)/sec - 1
		if missing == 0 {
			continue
		}
		if maxGap < 0 || missing*sec > gapSec {
			return Series{}, &ParseError{File: file, Line: rows[i].line, Err: fmt.Errorf(
				"%w: %d intervals (%s) missing between %s and %s; the limit is %s",
				ErrGap, missing, time.Duration(missing*sec)*time.Second,
				time.Unix(rows[i-1].t, 0).UTC().Format(time.RFC3339),
				time.Unix(rows[i].t, 0).UTC().Format(time.RFC3339), max(maxGap, 0))}
		}
		filled += int(missing)
		gaps++
		if missing > longest {
			longest, longestAt = missing, rows[i-1].t+sec
		}
	}
	if n > maxIntervals {
		return Series{}, &ParseError{File: file, Err: fmt.Errorf("series would hold %d intervals, more than the %d a reader accepts", n, maxIntervals)}
	}
	vals := make([]float64, n)
	j := 0
	for i := range vals {
		ti := t0 + int64(i)*sec
		if j < len(rows) && rows[j].t == ti {
			vals[i] = rows[j].v
			j++
		} else {
			vals[i] = vals[i-1] // i > 0: the first row is always present
		}
	}
	if filled > 0 {
		notes = append(notes, fmt.Sprintf(
			"%d missing intervals in %d %s filled with the previous interval's value (longest %s from %s)",
			filled, gaps, plural(gaps, "gap was", "gaps were"), time.Duration(longest*sec)*time.Second, time.Unix(longestAt, 0).UTC().Format(time.RFC3339)))
	}
	return Series{
		Name:   name,
		Unit:   unit,
		Start:  time.Unix(t0, 0).UTC(),
		Step:   time.Duration(sec) * time.Second,
		Values: vals,
		Filled: filled,
		Notes:  notes,
	}, nil
}

// modeSpacing returns the most common positive spacing between consecutive
// sorted, de-duplicated rows; ties go to the smaller spacing.
func modeSpacing(rows []obs) int64 {
	counts := make(map[int64]int)
	for i := 1; i < len(rows); i++ {
		counts[rows[i].t-rows[i-1].t]++
	}
	var best int64
	bestN := 0
	for d, c := range counts {
		if c > bestN || c == bestN && d < best {
			best, bestN = d, c
		}
	}
	return best
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
