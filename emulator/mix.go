package emulator

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/jouleworks/joule/emulator/physics"
)

// DefaultMix is the fleet mix used when none is given.
const DefaultMix = "s19jpro:stock=40,s21:luxos=30,m50s:whatsminer=20,s19xp:braiins=10"

// MixEntry is one model × firmware group of a fleet mix.
type MixEntry struct {
	Spec     *physics.Spec
	Firmware Firmware
	Amount   float64 // weight, count or percent as written
}

// Mix is a parsed fleet mix.
type Mix struct {
	Entries []MixEntry
	Percent bool // amounts are percentages (each written with %)
}

// ParseMix reads a fleet mix:
//
//	mix    = entry { "," entry }
//	entry  = model [ ":" firmware ] [ "=" amount ]
//	amount = number | number "%"
//
// model is a model key (s19jpro, s19xp, s21, s21hydro, m50, m50s, m60, m60s);
// firmware is stock, luxos, braiins or whatsminer (Bitmain models take the
// first three, default stock; MicroBT models only whatsminer, the default).
// Bare amounts are counts when they add up to the fleet size (or no size is
// given) and otherwise relative weights; percentages must all carry % and
// add up to 100. A missing amount is 1. Errors name the offending token.
func ParseMix(s string) (Mix, error) {
	var mix Mix
	if strings.TrimSpace(s) == "" {
		return mix, fmt.Errorf("mix: empty")
	}
	pct, bare := 0, 0
	for i, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		where := fmt.Sprintf("mix token %d %q", i+1, tok)
		if tok == "" {
			return mix, fmt.Errorf("%s: empty entry", where)
		}
		lhs, amount, hasAmount := strings.Cut(tok, "=")
		modelKey, fwName, hasFW := strings.Cut(lhs, ":")
		spec, err := physics.LookupModel(modelKey)
		if err != nil {
			return mix, fmt.Errorf("%s: %w", where, err)
		}
		fw := physics.Stock
		if spec.Make == "MicroBT" {
			fw = physics.Whatsminer
		}
		if hasFW {
			if fw, err = physics.ParseFirmware(fwName); err != nil {
				return mix, fmt.Errorf("%s: %w", where, err)
			}
		}
		if (spec.Make == "MicroBT") != (fw == physics.Whatsminer) {
			return mix, fmt.Errorf("%s: %s cannot run %s firmware", where, spec.Model, fw)
		}
		e := MixEntry{Spec: spec, Firmware: fw, Amount: 1}
		if hasAmount {
			a := strings.TrimSpace(amount)
			isPct := strings.HasSuffix(a, "%")
			a = strings.TrimSpace(strings.TrimSuffix(a, "%"))
			v, err := strconv.ParseFloat(a, 64)
			if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return mix, fmt.Errorf("%s: amount %q is not a non-negative number", where, amount)
			}
			e.Amount = v
			if isPct {
				pct++
			} else {
				bare++
			}
		} else {
			bare++
		}
		if pct > 0 && bare > 0 {
			return mix, fmt.Errorf("%s: mixes percentages with plain amounts; write %% on every entry or on none", where)
		}
		mix.Entries = append(mix.Entries, e)
	}
	mix.Percent = pct > 0
	sum := mix.sum()
	if sum <= 0 {
		return mix, fmt.Errorf("mix %q: amounts add up to 0", s)
	}
	if mix.Percent && math.Abs(sum-100) > 0.01 {
		return mix, fmt.Errorf("mix %q: percentages add up to %g, want 100", s, sum)
	}
	return mix, nil
}

func (m Mix) sum() float64 {
	s := 0.0
	for _, e := range m.Entries {
		s += e.Amount
	}
	return s
}

// Size is the fleet size the mix implies on its own: the sum of bare
// integer amounts, or 0 for percentages and fractional weights.
func (m Mix) Size() int {
	if m.Percent {
		return 0
	}
	s := m.sum()
	if s != math.Trunc(s) {
		return 0
	}
	return int(s)
}

// Expand returns count miners' model × firmware, in mix order, shares
// rounded by largest remainder so they add up exactly to count.
func (m Mix) Expand(count int) ([]MixEntry, error) {
	if count < 1 {
		return nil, fmt.Errorf("mix: fleet size %d, want ≥ 1", count)
	}
	sum := m.sum()
	n := make([]int, len(m.Entries))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(m.Entries))
	used := 0
	for i, e := range m.Entries {
		exact := e.Amount / sum * float64(count)
		n[i] = int(math.Floor(exact))
		used += n[i]
		rems[i] = rem{i, exact - float64(n[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; used < count; k++ {
		n[rems[k%len(rems)].i]++
		used++
	}
	out := make([]MixEntry, 0, count)
	for i, e := range m.Entries {
		for j := 0; j < n[i]; j++ {
			out = append(out, e)
		}
	}
	return out, nil
}

// String writes the mix back in ParseMix's grammar.
func (m Mix) String() string {
	parts := make([]string, len(m.Entries))
	for i, e := range m.Entries {
		a := strconv.FormatFloat(e.Amount, 'g', -1, 64)
		if m.Percent {
			a += "%"
		}
		parts[i] = e.Spec.Key + ":" + e.Firmware.String() + "=" + a
	}
	return strings.Join(parts, ",")
}
