package gpu

import (
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/jouleworks/joule/market"
	"io"
	"math"
	"strconv"
	"strings"
)

// SMIQuery is the nvidia-smi query this package reads; SMIArgs runs it.
const SMIQuery = "index,uuid,name,utilization.gpu,power.draw,power.limit,temperature.gpu,memory.used,memory.total"

// SMIArgs are the arguments for running nvidia-smi to produce ParseSMI input.
var SMIArgs = []string{"--query-gpu=" + SMIQuery, "--format=csv,noheader,nounits"}

var smiFields = strings.Split(SMIQuery, ",")

// ParseError reports bad input at a line and field; it is the market
// readers' error type, so callers branch on one type for every input file.
type ParseError = market.ParseError

// ErrFormat means the input is not in the expected layout.
var ErrFormat = errors.New("unexpected format")

// ParseSMI reads the output of
//
//	nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,power.draw,power.limit,temperature.gpu,memory.used,memory.total --format=csv
//
// with or without the header and units (noheader, nounits). With a header the
// columns may come in any order and unknown ones are ignored; without one
// they must be in SMIQuery order. "[N/A]", "N/A" and "[Not Supported]" read
// as NaN. source names the input in errors.
func ParseSMI(r io.Reader, source string) ([]Sample, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cols := smiFields
	var out []Sample
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// csv.ParseError already carries the line and column.
			return out, &ParseError{File: source, Err: err}
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if first {
			first = false
			// Data rows start with the GPU index; anything else is a header.
			if _, err := strconv.Atoi(strings.TrimSpace(rec[0])); err != nil {
				cols = make([]string, len(rec))
				for i, h := range rec {
					name, _, _ := strings.Cut(strings.TrimSpace(h), " [")
					cols[i] = strings.ToLower(strings.TrimSpace(name))
				}
				if !contains(cols, "index") && !contains(cols, "uuid") {
					return nil, &ParseError{File: source, Line: line, Err: fmt.Errorf("%w: header has neither index nor uuid: %s", ErrFormat, strings.Join(rec, ","))}
				}
				continue
			}
		}
		if len(rec) != len(cols) {
			return out, &ParseError{File: source, Line: line, Err: fmt.Errorf("%w: %d fields, want %d (%s)", ErrFormat, len(rec), len(cols), strings.Join(cols, ","))}
		}
		s := blank()
		s.Source = source
		for i, raw := range rec {
			v := strings.TrimSpace(raw)
			var dst *float64
			switch cols[i] {
			case "index":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return out, &ParseError{File: source, Line: line, Field: cols[i], Value: v, Err: errors.New("want a GPU index ≥ 0")}
				}
				s.Index = n
				continue
			case "uuid":
				s.UUID = v
				continue
			case "name":
				s.Name = v
				continue
			case "utilization.gpu":
				dst = &s.UtilPct
			case "power.draw", "power.draw.instant", "power.draw.average":
				dst = &s.PowerW
			case "power.limit", "enforced.power.limit":
				dst = &s.PowerLimitW
			case "temperature.gpu":
				dst = &s.TempC
			case "memory.used":
				dst = &s.MemUsedMiB
			case "memory.total":
				dst = &s.MemTotalMiB
			default:
				continue
			}
			f, err := smiNumber(v)
			if err != nil {
				return out, &ParseError{File: source, Line: line, Field: cols[i], Value: v, Err: err}
			}
			*dst = f
		}
		if s.Index < 0 && s.UUID == "" {
			return out, &ParseError{File: source, Line: line, Err: fmt.Errorf("%w: row has neither an index nor a uuid", ErrFormat)}
		}
		out = append(out, s)
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// smiNumber parses "45", "45 %", "250.31 W", "1024 MiB" and the not-available
// markers.
func smiNumber(v string) (float64, error) {
	switch strings.ToLower(v) {
	case "[n/a]", "n/a", "[not supported]", "not supported", "[unknown error]", "":
		return math.NaN(), nil
	}
	num, unit, _ := strings.Cut(v, " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("want a number, optionally followed by a unit")
	}
	switch strings.TrimSpace(unit) {
	case "", "%", "W", "MiB", "C":
	default:
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	return f, nil
}
