package model

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
)

const tagGumbel = "joule/model/v1/gumbel"

// Choose returns the index in cands of the token to emit at step for a
// request with seed and temperature tempMilli (thousandths). It is a pure
// integer function, so a validator recomputes it exactly:
//
//   - tempMilli ≤ 0: greedy, the highest Logprob (first on ties);
//   - otherwise the Gumbel-max trick in base 2: the highest
//     Logprob·1000/tempMilli + G, where G = −log2(−log2 U) in Q16 and U is a
//     uniform draw from SHA-256(tag, seed, step, token text) — the same as
//     sampling from softmax(logprob/T) restricted to cands (first on ties).
func Choose(seed uint64, step int, tempMilli int64, cands []Candidate) int {
	best, bestScore := 0, int64(math.MinInt64)
	for i, c := range cands {
		if s := Score(seed, step, tempMilli, c); s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// Score is the quantity Choose maximises for one candidate.
func Score(seed uint64, step int, tempMilli int64, c Candidate) int64 {
	if tempMilli <= 0 {
		return int64(c.Logprob)
	}
	return int64(c.Logprob)*1000/tempMilli + gumbel(seed, step, c)
}

// gumbel returns −log2(−log2 U) in Q16 with U = (2r+1)/2^33 for a 32-bit r
// hashed from (seed, step, token), so U is never 0 or 1.
func gumbel(seed uint64, step int, c Candidate) int64 {
	var b [1 + len(tagGumbel) + 8 + 8 + 1]byte
	b[0] = byte(len(tagGumbel))
	n := 1 + copy(b[1:], tagGumbel)
	binary.LittleEndian.PutUint64(b[n:], seed)
	binary.LittleEndian.PutUint64(b[n+8:], uint64(step))
	if c.EOS {
		b[n+16] = 1
	}
	h := sha256.New()
	h.Write(b[:])
	h.Write([]byte(c.Text))
	var sum [32]byte
	h.Sum(sum[:0])
	r := uint64(binary.LittleEndian.Uint32(sum[:]))
	negLog2U := 33<<16 - log2Q16(2*r+1) // −log2 U in Q16, > 0
	return 16<<16 - log2Q16(uint64(negLog2U))
}
