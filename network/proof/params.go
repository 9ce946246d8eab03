package proof

import (
	"errors"
	"fmt"
)

// ErrParams is wrapped by every Params.Validate failure.
var ErrParams = errors.New("invalid proof parameters")

// Params sizes the workload. All of them are consensus parameters: changing
// any one changes every digest.
type Params struct {
	Layers int // transformer blocks
	Dim    int // model width (channels per position)
	Heads  int // attention heads; Dim must be a multiple of Heads
	Seq    int // positions per nonce
	FFN    int // hidden width of the feed-forward block

	// Requantisation shifts: an int32 accumulator is rounded back to int8 by
	// an arithmetic right shift of this many bits (see docs/network-spec.md).
	ShiftQKV  int // after the Q, K and V projections (sum over Dim)
	ShiftAttn int // attention score shift before the 2^-d weighting
	ShiftOut  int // after the attention output projection (sum over Dim)
	ShiftUp   int // after the first feed-forward matmul (sum over Dim)
	ShiftDown int // after the second feed-forward matmul (sum over FFN)
}

// DefaultParams returns the reference parameters: 4 layers of width 256, 4
// heads, 16 positions, FFN width 512 — about 34 million int8
// multiply-accumulates per nonce.
func DefaultParams() Params {
	return Params{
		Layers: 4, Dim: 256, Heads: 4, Seq: 16, FFN: 512,
		ShiftQKV: 11, ShiftAttn: 11, ShiftOut: 11, ShiftUp: 11, ShiftDown: 12,
	}
}

// MACs returns the int8 multiply-accumulates one nonce costs.
func (p Params) MACs() int64 {
	d, s, f := int64(p.Dim), int64(p.Seq), int64(p.FFN)
	perLayer := 4*s*d*d + 2*s*d*f + 2*s*s*d
	return int64(p.Layers) * perLayer
}

// Validate reports whether p is usable. Its bounds keep every accumulator
// inside int32 (see docs/network-spec.md, "Overflow").
func (p Params) Validate() error {
	bad := func(field string, v int, why string) error {
		return fmt.Errorf("%w: %s = %d: %s", ErrParams, field, v, why)
	}
	switch {
	case p.Layers < 1 || p.Layers > 64:
		return bad("Layers", p.Layers, "want 1..64")
	case p.Dim < 8 || p.Dim > 4096 || p.Dim%8 != 0:
		return bad("Dim", p.Dim, "want a multiple of 8 in 8..4096")
	case p.Heads < 1 || p.Dim%p.Heads != 0:
		return bad("Heads", p.Heads, "want a divisor of Dim")
	case p.Seq < 1 || p.Seq > 128:
		return bad("Seq", p.Seq, "want 1..128")
	case p.FFN < 8 || p.FFN > 16384:
		return bad("FFN", p.FFN, "want 8..16384")
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"ShiftQKV", p.ShiftQKV}, {"ShiftAttn", p.ShiftAttn}, {"ShiftOut", p.ShiftOut}, {"ShiftUp", p.ShiftUp}, {"ShiftDown", p.ShiftDown}} {
		if s.v < 1 || s.v > 24 {
			return bad(s.name, s.v, "want 1..24")
		}
	}
	return nil
}
