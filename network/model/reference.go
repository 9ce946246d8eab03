package model

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// RefModel is the name of the built-in reference model.
const RefModel = "joule-ref-1"

// ReferenceConfig sizes a Reference model. Every field changes its outputs.
type ReferenceConfig struct {
	Name   string // served model name
	Seed   string // weight seed
	Dim    int    // width; multiple of 4, 8..256
	Window int    // context bytes attended to, 1..64
}

// DefaultReference is the configuration of joule-ref-1.
func DefaultReference() ReferenceConfig {
	return ReferenceConfig{Name: RefModel, Seed: RefModel, Dim: 64, Window: 16}
}

// Reference is the built-in deterministic model: a byte-level tokenizer
// (every input byte is a token; outputs are printable ASCII, newline and
// an end-of-sequence token), seeded int8 weights and one integer
// transformer block over the last Window bytes, with a fixed letter-
// frequency prior so its output looks like text. Integer arithmetic only,
// so its logprobs are identical on every machine. It is safe for
// concurrent use.
type Reference struct {
	cfg            ReferenceConfig
	vocab          []Candidate // output tokens, logprob unset; last is EOS
	prior          []int64     // per output token, Q16 bits
	emb            []int8      // 256×Dim
	pos            []int8      // Window×Dim
	wq, wk, wv, wo []int8      // Dim×Dim
	w1             []int8      // 4Dim×Dim
	w2             []int8      // Dim×4Dim
	wout           []int8      // len(vocab)×Dim
}

var _ Backend = (*Reference)(nil)

// EOSText is the text Candidates carry for the reference model's
// end-of-sequence token.
const EOSText = "<|end|>"

// NewReference builds a reference model from cfg.
func NewReference(cfg ReferenceConfig) (*Reference, error) {
	switch {
	case cfg.Name == "":
		return nil, fmt.Errorf("reference model: Name is empty")
	case cfg.Dim < 8 || cfg.Dim > 256 || cfg.Dim%4 != 0:
		return nil, fmt.Errorf("reference model %s: Dim = %d, want a multiple of 4 in 8..256", cfg.Name, cfg.Dim)
	case cfg.Window < 1 || cfg.Window > 64:
		return nil, fmt.Errorf("reference model %s: Window = %d, want 1..64", cfg.Name, cfg.Window)
	}
	r := &Reference{cfg: cfg}
	for b := byte(' '); b <= '~'; b++ {
		r.vocab = append(r.vocab, Candidate{Text: string([]byte{b})})
	}
	r.vocab = append(r.vocab, Candidate{Text: "\n"}, Candidate{Text: EOSText, EOS: true})
	r.prior = make([]int64, len(r.vocab))
	for i, c := range r.vocab {
		r.prior[i] = prior(c)
	}
	d := cfg.Dim
	s := newRefStream(cfg.Seed)
	r.emb = s.int8s(256 * d)
	r.pos = s.int8s(cfg.Window * d)
	r.wq, r.wk, r.wv, r.wo = s.int8s(d*d), s.int8s(d*d), s.int8s(d*d), s.int8s(d*d)
	r.w1, r.w2 = s.int8s(4*d*d), s.int8s(4*d*d)
	r.wout = s.int8s(len(r.vocab) * d)
	return r, nil
}

// MustReference is NewReference for a configuration known to be valid.
func MustReference(cfg ReferenceConfig) *Reference {
	r, err := NewReference(cfg)
	if err != nil {
		panic(err)
	}
	return r
}

// Models returns the one model name served.
func (r *Reference) Models() []string { return []string{r.cfg.Name} }

// Render is the chat template of the reference model: each message as
// "<|role|>\n" + content + "\n", then "<|assistant|>\n".
func Render(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|" + m.Role + "|>\n" + m.Content + "\n")
	}
	b.WriteString("<|assistant|>\n")
	return b.String()
}

// Next implements Backend.
func (r *Reference) Next(ctx context.Context, model string, msgs []Message, prefix []string, k int) (Step, error) {
	if model != r.cfg.Name {
		return Step{}, fmt.Errorf("reference: %w: %q", ErrUnknownModel, model)
	}
	prompt := Render(msgs)
	ctxBytes := []byte(prompt + strings.Join(prefix, ""))
	lps := logSoftmax(r.logits(ctxBytes, len(prefix)))
	cands := make([]Candidate, len(r.vocab))
	for i, c := range r.vocab {
		c.Logprob = lps[i]
		cands[i] = c
	}
	sortCandidates(cands)
	if k < len(cands) {
		cands = cands[:max(k, 0)]
	}
	return Step{Candidates: cands, PromptTokens: len(prompt)}, nil
}

// sortCandidates orders by descending logprob, then by text, then non-EOS
// first: the canonical order every backend returns.
func sortCandidates(c []Candidate) {
	slices.SortStableFunc(c, func(a, b Candidate) int {
		switch {
		case a.Logprob != b.Logprob:
			if a.Logprob > b.Logprob {
				return -1
			}
			return 1
		case a.Text != b.Text:
			return strings.Compare(a.Text, b.Text)
		case a.EOS != b.EOS:
			if b.EOS {
				return -1
			}
			return 1
		}
		return 0
	})
}

// logits runs the block on the last Window bytes of ctx and returns one
// logit per vocab entry in Q16 bits.
func (r *Reference) logits(ctx []byte, generated int) []int64 {
	d, w := r.cfg.Dim, r.cfg.Window
	x := make([]int8, w*d) // position 0 is the oldest byte
	for p := range w {
		var b byte // bytes before the start of the context are 0
		if i := len(ctx) - w + p; i >= 0 {
			b = ctx[i]
		}
		for j := range d {
			x[p*d+j] = sat8(int32(r.emb[int(b)*d+j]) + int32(r.pos[p*d+j]))
		}
	}
	shift := 7 + log2Int(d)/2 // keeps activations near int8 scale
	last := x[(w-1)*d:]
	q := mat(last, r.wq, d, d, shift)
	var wts []int32
	var z int32
	scores := make([]int32, w)
	maxS := int32(-1 << 31)
	keys := make([][]int8, w)
	vals := make([][]int8, w)
	for p := range w {
		keys[p] = mat(x[p*d:(p+1)*d], r.wk, d, d, shift)
		vals[p] = mat(x[p*d:(p+1)*d], r.wv, d, d, shift)
		scores[p] = dot8(q, keys[p])
		maxS = max(maxS, scores[p])
	}
	for _, s := range scores {
		dd := (maxS - s) >> (2*shift - 4)
		var wt int32
		if dd < 16 {
			wt = 65536 >> dd
		}
		wts = append(wts, wt)
		z += wt
	}
	att := make([]int8, d)
	for j := range d {
		var acc int32
		for p, wt := range wts {
			acc += wt * int32(vals[p][j])
		}
		att[j] = int8(acc / z)
	}
	h := slices.Clone(last)
	addSat8(h, mat(att, r.wo, d, d, shift+1))
	up := mat(h, r.w1, d, 4*d, shift)
	for i, v := range up {
		if v < 0 {
			up[i] = v >> 2
		}
	}
	addSat8(h, mat(up, r.w2, 4*d, d, shift+2))
	out := make([]int64, len(r.vocab))
	for i := range r.vocab {
		// One logit unit is 2^-(shift+1) bits: a typical logit spread of a
		// few bits, sharpened by the prior.
		out[i] = int64(dot8(h, r.wout[i*d:(i+1)*d]))*LPOne>>(shift+5) + r.prior[i]
	}
	// The end-of-sequence token grows likelier by 1/8 bit per generated byte.
	out[len(out)-1] += int64(generated)*LPOne/8 - 10*LPOne
	return out
}

// prior is a fixed log-prior in Q16 bits favouring spaces and common
// lowercase letters, so samples look like words.
func prior(c Candidate) int64 {
	t := c.Text
	switch {
	case c.EOS:
		return 0
	case t == " ":
		return 4 * LPOne
	case strings.Contains("etaoinshr", t):
		return 4 * LPOne
	case t >= "a" && t <= "z":
		return 3 * LPOne
	case strings.Contains(".,", t):
		return 1 * LPOne
	case t >= "A" && t <= "Z":
		return 0
	case t == "\n":
		return -1 * LPOne
	}
	return -3 * LPOne
}

func log2Int(v int) int {
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n
}

// mat returns rq(W·x) for W of out×in, row-major.
func mat(x, w []int8, in, out, shift int) []int8 {
	y := make([]int8, out)
	round := int32(1) << (shift - 1)
	for o := range out {
		y[o] = sat8((dot8(x, w[o*in:(o+1)*in]) + round) >> shift)
	}
	return y
}

func dot8(a, b []int8) int32 {
	b = b[:len(a)]
	var s int32
	for i := range a {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

func sat8(v int32) int8 { return int8(min(max(v, -127), 127)) }

func addSat8(x, y []int8) {
	for i := range x {
		x[i] = sat8(int32(x[i]) + int32(y[i]))
	}
}

// refStream is SHA-256 in counter mode keyed by the model seed.
type refStream struct {
	key [32]byte
	ctr uint64
}

func newRefStream(seed string) *refStream {
	return &refStream{key: sha256.Sum256([]byte("joule/model/v1/reference\x00" + seed))}
}

func (s *refStream) int8s(n int) []int8 {
	out := make([]int8, n)
	var in [40]byte
	copy(in[:], s.key[:])
	for i := 0; i < n; i += 32 {
		binary.LittleEndian.PutUint64(in[32:], s.ctr)
		s.ctr++
		blk := sha256.Sum256(in[:])
		for j := 0; j < 32 && i+j < n; j++ {
			out[i+j] = int8(blk[j])
		}
	}
	return out
}
