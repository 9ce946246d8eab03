package miner

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// siPrefix maps the SI prefixes firmware appends to numbers ("262K",
// "13.5T", "110 GH/s") to their multipliers.
var siPrefix = map[byte]float64{
	'k': 1e3, 'K': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
}

// Quantity parses a number that may arrive as a JSON number or as a string
// with an SI prefix and a unit: "3250 W" → (3250, "W"), "262K" → (262000,
// ""), "13.5T" → (13.5e12, ""), "110 GH/s" → (110e9, "H/s"), "85%" → (85,
// "%"). scaled reports whether an SI prefix was applied, which hashrate
// fields need to tell "13.5T" (H/s) from a bare number in the field's own
// unit. ok is false for anything that is not a finite number.
func Quantity(v any) (val float64, unit string, scaled, ok bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, "", false, err == nil && finite(f)
	case float64:
		return x, "", false, finite(x)
	case int:
		return float64(x), "", false, true
	case int64:
		return float64(x), "", false, true
	case bool:
		return 0, "", false, false
	case string:
		return parseQuantity(x)
	}
	return 0, "", false, false
}

func parseQuantity(s string) (float64, string, bool, bool) {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) {
		c := s[end]
		if c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' ||
			(c == 'e' || c == 'E') && end > 0 && end+1 < len(s) && (s[end+1] >= '0' && s[end+1] <= '9' || s[end+1] == '-' || s[end+1] == '+') {
			end++
			continue
		}
		break
	}
	if end == 0 {
		return 0, "", false, false
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil || !finite(f) {
		return 0, "", false, false
	}
	unit := strings.TrimSpace(s[end:])
	scaled := false
	if len(unit) > 0 {
		if m, ok := siPrefix[unit[0]]; ok && (len(unit) == 1 || unit[1] == 'H' || unit[1] == 'h' || unit[1] == 'W' || unit[1] == 'J' || unit[1] == 'B') {
			// Prefix alone ("262K") or prefix + unit ("GH/s", "kW").
			f *= m
			unit = unit[1:]
			scaled = true
		}
	}
	unit = strings.TrimPrefix(unit, "°")
	return f, unit, scaled, finite(f)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Float returns v as a number, accepting the string spellings Quantity does.
func Float(v any) (float64, bool) {
	f, _, _, ok := Quantity(v)
	return f, ok
}

// Int returns v rounded to an integer; see Float.
func Int(v any) (int64, bool) {
	f, ok := Float(v)
	if !ok || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(math.Round(f)), true
}

// String returns v as text: strings as they are, numbers in their JSON form.
func String(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Dashed parses per-board sensor strings such as temp_chip1 "56-54-71-70"
// into numbers. Values that do not parse are skipped; a lone number is a
// one-element list.
func Dashed(v any) []float64 {
	s, ok := v.(string)
	if !ok {
		if f, ok := Float(v); ok {
			return []float64{f}
		}
		return nil
	}
	var out []float64
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == ',' || r == ' ' || r == '/' }) {
		if f, err := strconv.ParseFloat(p, 64); err == nil && finite(f) {
			out = append(out, f)
		}
	}
	return out
}

// ChipMap counts the chip states in a chain_acsN string: 'o' ok, 'x' bad
// ('-' and 'X' are also seen for bad chips); spaces only group the chips.
func ChipMap(s string) (ok, bad int) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'o', 'O':
			ok++
		case 'x', 'X', '-':
			bad++
		}
	}
	return ok, bad
}

// Lookup finds key in m, ignoring case and treating spaces, underscores and
// hyphens alike, because firmware spells the same field "GHS av", "GHS_av"
// or "ghs-av".
func Lookup(m map[string]any, keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	for _, k := range keys {
		nk := normKey(k)
		for mk, v := range m {
			if equalNorm(mk, nk) {
				return v, true
			}
		}
	}
	return nil, false
}

// equalNorm reports whether key normalises to norm (see normKey) without
// allocating: Lookup runs it over every key of a reply for each miss.
func equalNorm(key, norm string) bool {
	j := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == ' ' || c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if j >= len(norm) || norm[j] != c {
			return false
		}
		j++
	}
	return j == len(norm)
}

func normKey(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
