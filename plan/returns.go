package plan

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// DaysPerBlock is the number of consecutive daily returns summed into one
// bootstrapped monthly return: resampling whole months keeps the short-run
// autocorrelation and fat tails of the daily series.
const DaysPerBlock = 30

// ParseReturns reads a CSV of daily Bitcoin closes (a header row naming a
// close_usd column, as ../shared/data/btc_daily_2020_2025.csv has) and
// returns the daily log returns in file order. Rows must be in date order;
// blank close cells are errors, never silently skipped. name labels errors.
func ParseReturns(r io.Reader, name string) ([]float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w: empty file (need a header with close_usd and ≥ %d daily closes)", name, ErrInvalid, DaysPerBlock+1)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
	}
	col := -1
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), "close_usd") {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s line 1: %w: no close_usd column in header %q", name, ErrInvalid, strings.Join(header, ","))
	}
	var out []float64
	prev := math.NaN()
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
		}
		line, _ := cr.FieldPos(0)
		if col >= len(rec) {
			return nil, fmt.Errorf("%s line %d: %w: %d fields, close_usd is field %d", name, line, ErrInvalid, len(rec), col+1)
		}
		cell := strings.TrimSpace(rec[col])
		p, err := strconv.ParseFloat(cell, 64)
		if err != nil || !(p > 0) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("%s line %d: %w: close_usd %q is not a positive price", name, line, ErrInvalid, cell)
		}
		if !math.IsNaN(prev) {
			r := math.Log(p / prev)
			if math.IsInf(r, 0) {
				return nil, fmt.Errorf("%s line %d: %w: close_usd %q is not a credible move from %g", name, line, ErrInvalid, cell, prev)
			}
			out = append(out, r)
		}
		prev = p
	}
	if len(out) < DaysPerBlock {
		return nil, fmt.Errorf("%s: %w: %d price rows, need ≥ %d to bootstrap monthly returns", name, ErrInvalid, len(out)+btoi(!math.IsNaN(prev)), DaysPerBlock+1)
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// monthlyBlocks turns daily log returns into overlapping 30-day sums, the
// sample the bootstrap draws months from. With recenter, the sums are
// shifted so that E[exp(r)] = exp(drift/12) for a normal r of the sample's
// variance — the same mean price path as GBM with that drift.
func monthlyBlocks(daily []float64, recenter bool, drift float64) []float64 {
	n := len(daily) - DaysPerBlock + 1
	if n <= 0 {
		return nil
	}
	out := make([]float64, n)
	var s float64
	for i := 0; i < DaysPerBlock; i++ {
		s += daily[i]
	}
	out[0] = s
	for i := 1; i < n; i++ {
		s += daily[i+DaysPerBlock-1] - daily[i-1]
		out[i] = s
	}
	if recenter {
		var mean, m2 float64
		for _, x := range out {
			mean += x
		}
		mean /= float64(n)
		for _, x := range out {
			m2 += (x - mean) * (x - mean)
		}
		variance := m2 / float64(n)
		shift := drift/12 - variance/2 - mean
		for i := range out {
			out[i] += shift
		}
	}
	return out
}
