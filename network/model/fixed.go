package model

import (
	"math"
	"math/bits"
)

// LPOne is one bit of log-probability in LP units.
const LPOne = 1 << 16

// LP is a log-probability in fixed point: log base 2, in units of 2^-16
// bits. 0 is probability 1; -LPOne is probability 1/2.
type LP int32

// Nats returns l as a natural-log float64, the unit of the OpenAI wire
// format. One correctly rounded multiplication, so it is identical on
// every IEEE-754 machine.
func (l LP) Nats() float64 { return float64(l) * (math.Ln2 / LPOne) }

// LPFromNats converts a natural-log logprob (as an OpenAI-compatible server
// reports it) to LP, rounding to nearest and clamping to LP's range.
func LPFromNats(x float64) LP {
	if math.IsNaN(x) {
		return math.MinInt32
	}
	v := math.Round(x / math.Ln2 * LPOne)
	if v < math.MinInt32 {
		return math.MinInt32
	}
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return LP(v)
}

// log2Q16 returns log2(x) in Q16 for x > 0 (and 0 for x == 0) by the
// integer bit-by-bit squaring method, so it is the same on every machine.
func log2Q16(x uint64) int64 {
	if x == 0 {
		return 0
	}
	n := bits.Len64(x) - 1
	var y uint64 // x normalised to [1, 2) in Q30
	if n >= 30 {
		y = x >> (n - 30)
	} else {
		y = x << (30 - n)
	}
	r := int64(n) << 16
	for b := int64(1) << 15; b > 0; b >>= 1 {
		y = y * y >> 30
		if y >= 2<<30 {
			y >>= 1
			r |= b
		}
	}
	return r
}

// exp2Table[i] = 2^(-i/256) in Q30, built by repeated integer multiplication
// by exp2Step = round(2^30 · 2^(-1/256)); deterministic by construction.
var exp2Table = func() [256]uint64 {
	const exp2Step = 1070838486
	var t [256]uint64
	t[0] = 1 << 30
	for i := 1; i < 256; i++ {
		t[i] = t[i-1] * exp2Step >> 30
	}
	return t
}()

// exp2NegQ16 returns 2^(-x/2^16) in Q30 for x ≥ 0, with x's fraction
// truncated to 1/256 bit.
func exp2NegQ16(x int64) uint64 {
	n := x >> 16
	if n >= 62 {
		return 0
	}
	return exp2Table[(x>>8)&0xff] >> n
}

// logSoftmax turns logits (Q16 bits) into LPs: lp_i = z_i − log2 Σ_j 2^z_j.
func logSoftmax(z []int64) []LP {
	m := z[0]
	for _, v := range z {
		m = max(m, v)
	}
	var sum uint64
	for _, v := range z {
		sum += exp2NegQ16(m - v)
	}
	lse := log2Q16(sum) - 30<<16 // sum is Q30
	out := make([]LP, len(z))
	for i, v := range z {
		out[i] = LP(max(v-m-lse, math.MinInt32))
	}
	return out
}
