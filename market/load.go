package market

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// ReadOptions controls the readers of hourly system inputs (ReadLoad,
// ReadTemperature).
type ReadOptions struct {
	// Step resamples the result; zero keeps the file's own step.
	Step time.Duration
	// MaxGap is the longest run of missing intervals filled from the
	// previous interval; zero means DefaultMaxGap, negative rejects any gap.
	MaxGap time.Duration
}

// column describes a single-value series file: a timestamp column and one
// value column, each found under any of several names.
type column struct {
	values   []string // normalised names of the value column
	want     string   // for errors: the canonical value column name
	name     string   // series name
	unit     string
	min, max float64 // plausible range; outside is a field error
	hint     string  // added to a range error
}

var (
	loadColumn = column{
		values: []string{"ercotdademandforecastmw", "systemloadmw", "loadmw", "demandmw", "load", "demand"},
		want:   "ercot_da_demand_forecast_mw", name: "system load", unit: "MW",
		min: 0, max: 500_000, hint: "system load is in MW",
	}
	tempColumn = column{
		values: []string{"tempcercot", "tempc", "temperaturec", "temperature", "temp"},
		want:   "temp_c_ercot", name: "temperature", unit: "°C",
		min: -60, max: 60, hint: "temperature must be in °C (was it °F?)",
	}
)

// OpenLoad reads a system load file with ReadLoad.
func OpenLoad(path string, opt ReadOptions) (Series, error) {
	return openColumn(path, loadColumn, opt)
}

// ReadLoad reads ERCOT system load (MW), hourly or finer, from a CSV with
// columns interval_start_utc (RFC 3339) and ercot_da_demand_forecast_mw
// (also accepted: load_mw, system_load_mw, demand_mw). Fill rules are those
// of ReadPrices; a negative or implausible (> 500 GW) load is an error.
func ReadLoad(r io.Reader, name string, opt ReadOptions) (Series, error) {
	return readColumn(r, name, loadColumn, opt)
}

// OpenTemperature reads a temperature file with ReadTemperature.
func OpenTemperature(path string, opt ReadOptions) (Series, error) {
	return openColumn(path, tempColumn, opt)
}

// ReadTemperature reads ambient temperature (°C) from a CSV with columns
// interval_start_utc (RFC 3339) and temp_c_ercot (also accepted: temp_c,
// temperature_c). Fill rules are those of ReadPrices; values outside
// −60…60 °C are an error (usually a °F file).
func ReadTemperature(r io.Reader, name string, opt ReadOptions) (Series, error) {
	return readColumn(r, name, tempColumn, opt)
}

func openColumn(path string, c column, opt ReadOptions) (Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return Series{}, fmt.Errorf("open %s: %w", c.name, err)
	}
	defer f.Close()
	return readColumn(f, path, c, opt)
}

func readColumn(r io.Reader, name string, c column, opt ReadOptions) (Series, error) {
	t, err := newTable(r, name)
	if err != nil {
		return Series{}, err
	}
	ts := t.col(colTime...)
	vc := t.col(c.values...)
	if ts < 0 || vc < 0 {
		return Series{}, fmt.Errorf("%s: %w: want columns interval_start_utc and %s; header: %s",
			name, ErrFormat, c.want, t.headerList())
	}
	var rows []obs
	empty := 0
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Series{}, err
		}
		o := obs{line: t.line}
		s, err := t.field(rec, ts)
		if err != nil {
			return Series{}, err
		}
		if o.t, err = parseTimestamp(s); err != nil {
			return Series{}, t.errf(ts, s, "%v", err)
		}
		v, err := t.field(rec, vc)
		if err != nil {
			return Series{}, err
		}
		if v == "" {
			empty++
			o.missing = true
		} else if o.v, err = parseValue(v); err != nil {
			return Series{}, t.errf(vc, v, "%v", err)
		}
		if !o.missing && (o.v < c.min || o.v > c.max) {
			return Series{}, t.errf(vc, v, "outside %g…%g %s: %s", c.min, c.max, c.unit, c.hint)
		}
		rows = append(rows, o)
	}
	s, err := regularize(name, rows, 0, opt.MaxGap, c.name, c.unit)
	if err != nil {
		return Series{}, err
	}
	s.Notes = append(emptyNote(empty), s.Notes...)
	if opt.Step != 0 && opt.Step != s.Step {
		return Resample(s, opt.Step)
	}
	return s, nil
}

// Peak is the highest interval of a series within one month.
type Peak struct {
	// At is the start of the peak interval.
	At time.Time
	// Value is the series value there (MW for system load).
	Value float64
}

// FourCP returns, for each June, July, August and September (months in
// Central Prevailing Time) that load covers, the interval with the highest
// system load: the four coincident peaks on which ERCOT allocates
// transmission cost (4CP). ERCOT settles 4CP on 15-minute intervals; an
// hourly series gives the peak hour. Peaks are in time order.
func FourCP(load Series) []Peak {
	type key struct {
		y int
		m time.Month
	}
	best := map[key]Peak{}
	for i, v := range load.Values {
		at := load.At(i)
		lt := at.In(Central)
		if lt.Month() < time.June || lt.Month() > time.September {
			continue
		}
		k := key{lt.Year(), lt.Month()}
		if p, ok := best[k]; !ok || v > p.Value {
			best[k] = Peak{At: at, Value: v}
		}
	}
	out := make([]Peak, 0, len(best))
	for _, p := range best {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Peak) int { return a.At.Compare(b.At) })
	return out
}
