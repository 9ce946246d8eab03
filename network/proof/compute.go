package proof

import (
	"crypto/sha256"
	"fmt"
)

// DigestSize is the length in bytes of a nonce's output digest.
const DigestSize = 16

// Digest is the short output of one nonce: the first 16 bytes of SHA-256
// over the final int8 activations.
type Digest [DigestSize]byte

// Domain tags; the "v1" is bumped whenever the workload changes.
const (
	tagWeights  = "joule/proof/v1/weights"
	tagInput    = "joule/proof/v1/input"
	tagScramble = "joule/proof/v1/scramble"
	tagDigest   = "joule/proof/v1/digest"
)

// Weight matrices of one layer, in the order of their matrix id.
const (
	matQ = iota
	matK
	matV
	matO
	matUp
	matDown
	numMats
)

// Weights holds one epoch's int8 weights. It is read-only after NewWeights
// and may be shared by any number of Workers across goroutines.
type Weights struct {
	p    Params
	seed [32]byte
	// m[l][id] is matrix id of layer l, row-major W[out][in].
	m [][numMats][]int8
	// m16 is m sign-extended to int16 when the SIMD kernel wants it (built
	// with GOEXPERIMENT=simd on a CPU with AVX2); nil otherwise.
	m16 [][numMats][]int16
}

// NewWeights derives the epoch's weights from its seed (a block hash). It
// costs about one SHA-256 per 32 weight bytes (≈3 MB at the reference
// parameters), so do it once per epoch and share the result.
func NewWeights(p Params, epochSeed [32]byte) (*Weights, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	w := &Weights{p: p, seed: epochSeed, m: make([][numMats][]int8, p.Layers)}
	for l := range p.Layers {
		for id := range numMats {
			out, in := p.matShape(id)
			m := make([]int8, out*in)
			b := make([]byte, len(m))
			newStream(derive(tagWeights, epochSeed[:], u32le(uint32(l)), []byte{byte(id)})).read(b)
			for i, v := range b {
				m[i] = int8(v)
			}
			w.m[l][id] = m
		}
	}
	prepareWeights(w)
	return w, nil
}

// Params returns the parameters the weights were made for.
func (w *Weights) Params() Params { return w.p }

// Seed returns the epoch seed the weights were derived from.
func (w *Weights) Seed() [32]byte { return w.seed }

// matShape returns (rows=outputs, cols=inputs) of a layer matrix.
func (p Params) matShape(id int) (out, in int) {
	switch id {
	case matUp:
		return p.FFN, p.Dim
	case matDown:
		return p.Dim, p.FFN
	default:
		return p.Dim, p.Dim
	}
}

// Worker computes nonces for one host in one epoch. It owns scratch buffers,
// so use one Worker per goroutine.
type Worker struct {
	w       *Weights
	hostPub []byte
	x, xs   []int8 // activations and their scrambled copy, Seq×Dim
	q, k, v []int8 // Seq×Dim
	att     []int8 // attention output, Seq×Dim
	hid     []int8 // Seq×FFN
	perm    []int
	sign    []byte
	scores  []int32 // Seq
	wts     []int32 // Seq
}

// Worker returns a new Worker for hostPub over these weights.
func (w *Weights) Worker(hostPub []byte) *Worker {
	p := w.p
	sd := p.Seq * p.Dim
	return &Worker{
		w: w, hostPub: append([]byte(nil), hostPub...),
		x: make([]int8, sd), xs: make([]int8, sd),
		q: make([]int8, sd), k: make([]int8, sd), v: make([]int8, sd),
		att: make([]int8, sd), hid: make([]int8, p.Seq*p.FFN),
		perm: make([]int, p.Dim), sign: make([]byte, (p.Dim+7)/8),
		scores: make([]int32, p.Seq), wts: make([]int32, p.Seq),
	}
}

// NewWorker is NewWeights followed by Weights.Worker, for one-off use.
func NewWorker(p Params, epochSeed [32]byte, hostPub []byte) (*Worker, error) {
	w, err := NewWeights(p, epochSeed)
	if err != nil {
		return nil, err
	}
	return w.Worker(hostPub), nil
}

// HostPub returns the host key the worker computes for.
func (wk *Worker) HostPub() []byte { return wk.hostPub }

// Weights returns the epoch weights the worker uses.
func (wk *Worker) Weights() *Weights { return wk.w }

// Compute runs the workload for (epochSeed, hostPub, nonce) from scratch.
// Prefer a Worker when computing more than one nonce.
func Compute(p Params, epochSeed [32]byte, hostPub []byte, nonce uint64) (Digest, error) {
	wk, err := NewWorker(p, epochSeed, hostPub)
	if err != nil {
		return Digest{}, fmt.Errorf("proof compute: %w", err)
	}
	return wk.Compute(nonce), nil
}

// Compute returns the digest of one nonce.
func (wk *Worker) Compute(nonce uint64) Digest {
	p := wk.w.p
	seed := wk.w.seed
	nb := u64le(nonce)

	// Input activations: bytes mapped to [-127, 127] by (b mod 255) - 127.
	in := newStream(derive(tagInput, seed[:], wk.hostPub, nb))
	raw := make([]byte, len(wk.x))
	in.read(raw)
	for i, b := range raw {
		wk.x[i] = int8(int(b%255) - 127)
	}

	for l := range p.Layers {
		wk.scramble(derive(tagScramble, seed[:], wk.hostPub, nb, u32le(uint32(l))))
		wk.layer(l)
	}

	h := sha256.New()
	h.Write([]byte{byte(len(tagDigest))})
	h.Write([]byte(tagDigest))
	buf := make([]byte, len(wk.x))
	for i, v := range wk.x {
		buf[i] = byte(v)
	}
	h.Write(buf)
	var sum [32]byte
	h.Sum(sum[:0])
	var d Digest
	copy(d[:], sum[:DigestSize])
	return d
}

// scramble permutes the channels of x and flips their signs into xs, then
// swaps xs and x. The permutation is a Fisher–Yates shuffle driven by the
// layer's scramble stream; sign bits follow the permutation draws.
func (wk *Worker) scramble(key [32]byte) {
	p := wk.w.p
	s := newStream(key)
	for j := range wk.perm {
		wk.perm[j] = j
	}
	for i := p.Dim - 1; i >= 1; i-- {
		j := int(s.uint32() % uint32(i+1))
		wk.perm[i], wk.perm[j] = wk.perm[j], wk.perm[i]
	}
	s.read(wk.sign)
	for t := range p.Seq {
		row := wk.x[t*p.Dim : (t+1)*p.Dim]
		out := wk.xs[t*p.Dim : (t+1)*p.Dim]
		for j, src := range wk.perm {
			v := row[src]
			if wk.sign[j>>3]>>(j&7)&1 == 1 {
				v = -v // |v| ≤ 127, so negation never wraps
			}
			out[j] = v
		}
	}
	wk.x, wk.xs = wk.xs, wk.x
}

// layer applies one transformer block to wk.x in place.
func (wk *Worker) layer(l int) {
	p := wk.w.p
	wk.w.matmul(wk.q, wk.x, l, matQ, p.Seq, p.Dim, p.Dim, p.ShiftQKV)
	wk.w.matmul(wk.k, wk.x, l, matK, p.Seq, p.Dim, p.Dim, p.ShiftQKV)
	wk.w.matmul(wk.v, wk.x, l, matV, p.Seq, p.Dim, p.Dim, p.ShiftQKV)
	wk.attention()
	// Residual: x += Wo·att, saturating to [-127, 127].
	wk.w.matmul(wk.xs, wk.att, l, matO, p.Seq, p.Dim, p.Dim, p.ShiftOut)
	addSat(wk.x, wk.xs)
	// Feed-forward: x += Wdown·act(Wup·x).
	wk.w.matmul(wk.hid, wk.x, l, matUp, p.Seq, p.Dim, p.FFN, p.ShiftUp)
	for i, v := range wk.hid {
		wk.hid[i] = act(v)
	}
	wk.w.matmul(wk.xs, wk.hid, l, matDown, p.Seq, p.FFN, p.Dim, p.ShiftDown)
	addSat(wk.x, wk.xs)
}

// attention mixes positions per head with integer weights 2^-d, where d is
// the shifted distance of a score from the row maximum, and a truncating
// integer division by the weight sum.
func (wk *Worker) attention() {
	p := wk.w.p
	dh := p.Dim / p.Heads
	for h := range p.Heads {
		off := h * dh
		for t := range p.Seq {
			qt := wk.q[t*p.Dim+off : t*p.Dim+off+dh]
			maxS := int32(-1 << 31)
			for u := range p.Seq {
				s := dot(qt, wk.k[u*p.Dim+off:u*p.Dim+off+dh])
				wk.scores[u] = s
				maxS = max(maxS, s)
			}
			var z int32
			for u, s := range wk.scores {
				d := (maxS - s) >> p.ShiftAttn
				var w int32
				if d < 16 {
					w = 65536 >> d
				}
				wk.wts[u] = w
				z += w
			}
			out := wk.att[t*p.Dim+off : t*p.Dim+off+dh]
			for i := range dh {
				var acc int32
				for u, w := range wk.wts {
					acc += w * int32(wk.v[u*p.Dim+off+i])
				}
				out[i] = int8(acc / z) // Go's / truncates toward zero, as the spec says
			}
		}
	}
}

// matmulPortable sets y[t][o] = rq(Σ_i x[t][i]·w[o][i], shift) for x of rows×in and
// w of out×in (row-major).
func matmulPortable(y, x, w []int8, rows, in, out, shift int) {
	round := int32(1) << (shift - 1)
	for t := range rows {
		xt := x[t*in : (t+1)*in]
		yt := y[t*out : (t+1)*out]
		for o := range out {
			acc := dot(xt, w[o*in:(o+1)*in])
			yt[o] = clamp127((acc + round) >> shift)
		}
	}
}

func clamp127(v int32) int8 {
	if v > 127 {
		return 127
	}
	if v < -127 {
		return -127
	}
	return int8(v)
}

func addSat(x, y []int8) {
	y = y[:len(x)]
	for i := range x {
		x[i] = clamp127(int32(x[i]) + int32(y[i]))
	}
}

// act is the feed-forward non-linearity: identity for z ≥ 0, an arithmetic
// shift right by 2 (floor division by 4) for z < 0.
func act(z int8) int8 {
	if z >= 0 {
		return z
	}
	return z >> 2
}
