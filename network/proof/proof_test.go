package proof

import (
	"bytes"
	"context"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// tinyParams is small enough for exhaustive tests.
var tinyParams = Params{Layers: 2, Dim: 16, Heads: 2, Seq: 4, FFN: 32,
	ShiftQKV: 7, ShiftAttn: 7, ShiftOut: 7, ShiftUp: 7, ShiftDown: 8}

// vectorFile is the layout of testdata/vectors.json, the test vectors
// docs/network-spec.md points implementers at.
type vectorFile struct {
	Note    string        `json:"note"`
	Compute []computeCase `json:"compute"`
	Merkle  []merkleCase  `json:"merkle"`
	Sample  []sampleCase  `json:"sample"`
}

type computeCase struct {
	Params    Params `json:"params"`
	EpochSeed string `json:"epoch_seed"`
	HostPub   string `json:"host_pub"`
	Nonce     uint64 `json:"nonce"`
	Digest    string `json:"digest"`
	Leaf      string `json:"leaf"`
}

type merkleCase struct {
	Leaves int      `json:"leaves"` // leaf i = Leaf(i, digest of 16 bytes all = i)
	Root   string   `json:"root"`
	Proof3 []string `json:"proof_of_leaf_3,omitempty"`
}

type sampleCase struct {
	RevealSeed string   `json:"reveal_seed"`
	Host       string   `json:"host"`
	Validator  string   `json:"validator"`
	Count      uint64   `json:"count"`
	N          int      `json:"n"`
	Indices    []uint64 `json:"indices"`
	Validators int      `json:"validators"` // keys are bytes{v}
	K          int      `json:"k"`
	Assigned   []int    `json:"assigned"`
}

func seedOf(s string) [32]byte {
	var b [32]byte
	copy(b[:], s)
	return b
}

func buildVectors(t *testing.T) vectorFile {
	vf := vectorFile{Note: "Joule Proof of Compute v1 test vectors; see docs/network-spec.md. Seeds are ASCII strings zero-padded to 32 bytes, then hex."}
	type in struct {
		p     Params
		seed  string
		host  string
		nonce uint64
	}
	ins := []in{
		{DefaultParams(), "epoch-1", "host-a", 0},
		{DefaultParams(), "epoch-1", "host-a", 1},
		{DefaultParams(), "epoch-1", "host-b", 0},
		{DefaultParams(), "epoch-2", "host-a", 0},
		{DefaultParams(), "epoch-1", "host-a", 1 << 40},
		{tinyParams, "epoch-1", "host-a", 0},
		{tinyParams, "epoch-1", "host-a", 7},
	}
	for _, c := range ins {
		seed := seedOf(c.seed)
		d, err := Compute(c.p, seed, []byte(c.host), c.nonce)
		if err != nil {
			t.Fatal(err)
		}
		l := Leaf(c.nonce, d)
		vf.Compute = append(vf.Compute, computeCase{c.p, hex.EncodeToString(seed[:]), hex.EncodeToString([]byte(c.host)), c.nonce, hex.EncodeToString(d[:]), hex.EncodeToString(l[:])})
	}
	for _, n := range []int{0, 1, 2, 3, 5, 8, 13} {
		tr := Build(fakeLeaves(n))
		r := tr.Root()
		mc := merkleCase{Leaves: n, Root: hex.EncodeToString(r[:])}
		if n > 3 {
			for _, h := range tr.Prove(3) {
				mc.Proof3 = append(mc.Proof3, hex.EncodeToString(h[:]))
			}
		}
		vf.Merkle = append(vf.Merkle, mc)
	}
	for _, c := range []struct {
		count   uint64
		n, v, k int
	}{{1000, 8, 10, 3}, {16384, 32, 100, 3}, {5, 8, 2, 3}} {
		rs := seedOf("reveal")
		sc := sampleCase{RevealSeed: hex.EncodeToString(rs[:]), Host: hex.EncodeToString([]byte("host-a")), Validator: hex.EncodeToString([]byte("val-1")), Count: c.count, N: c.n, Validators: c.v, K: c.k}
		sc.Indices = SampleLeaves(rs, []byte("host-a"), []byte("val-1"), c.count, c.n)
		sc.Assigned = AssignValidators(rs, []byte("host-a"), byteKeys(c.v), c.k)
		vf.Sample = append(vf.Sample, sc)
	}
	return vf
}

func fakeLeaves(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		var d Digest
		for j := range d {
			d[j] = byte(i)
		}
		out[i] = Leaf(uint64(i), d)
	}
	return out
}

func byteKeys(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte{byte(i)}
	}
	return out
}

func TestVectors(t *testing.T) {
	got, err := json.MarshalIndent(buildVectors(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "vectors.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("test vectors changed: the workload is no longer v1 (diff %s against a run with -update)", path)
	}
}

func TestWorkerMatchesCompute(t *testing.T) {
	seed := seedOf("s")
	w, err := NewWeights(tinyParams, seed)
	if err != nil {
		t.Fatal(err)
	}
	wk := w.Worker([]byte("h"))
	seen := map[Digest]uint64{}
	for n := range uint64(50) {
		d := wk.Compute(n)
		fresh, err := Compute(tinyParams, seed, []byte("h"), n)
		if err != nil {
			t.Fatal(err)
		}
		if d != fresh {
			t.Fatalf("nonce %d: worker %x, fresh %x", n, d, fresh)
		}
		if prev, ok := seen[d]; ok {
			t.Fatalf("nonces %d and %d share digest %x", prev, n, d)
		}
		seen[d] = n
	}
	other, _ := Compute(tinyParams, seed, []byte("h2"), 0)
	if other == wk.Compute(0) {
		t.Fatal("different hosts gave the same digest")
	}
}

var badParams = []struct {
	name string
	edit func(*Params)
}{
	{"zero layers", func(p *Params) { p.Layers = 0 }},
	{"dim not multiple of 8", func(p *Params) { p.Dim = 12 }},
	{"heads not dividing dim", func(p *Params) { p.Heads = 3 }},
	{"seq too long", func(p *Params) { p.Seq = 129 }},
	{"ffn too small", func(p *Params) { p.FFN = 4 }},
	{"zero shift", func(p *Params) { p.ShiftUp = 0 }},
}

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("default params: %v", err)
	}
	for _, c := range badParams {
		p := DefaultParams()
		c.edit(&p)
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("%s: err = %v, want ErrParams", c.name, err)
		}
		if _, err := NewWeights(p, [32]byte{}); err == nil {
			t.Errorf("%s: NewWeights accepted bad params", c.name)
		}
	}
}

func TestMerkleProofs(t *testing.T) {
	for n := 1; n <= 40; n++ {
		leaves := fakeLeaves(n)
		tr := Build(leaves)
		root := tr.Root()
		for i := range uint64(n) {
			path := tr.Prove(i)
			if !Verify(root, uint64(n), i, leaves[i], path) {
				t.Fatalf("n=%d i=%d: valid proof rejected", n, i)
			}
			// Tampering: wrong leaf, wrong index, wrong count, altered or
			// truncated or extended path, wrong root.
			bad := leaves[(i+1)%uint64(n)]
			if n > 1 && Verify(root, uint64(n), i, bad, path) {
				t.Fatalf("n=%d i=%d: wrong leaf accepted", n, i)
			}
			if n > 1 && Verify(root, uint64(n), (i+1)%uint64(n), leaves[i], path) {
				t.Fatalf("n=%d i=%d: wrong index accepted", n, i)
			}
			if len(path) > 0 {
				p2 := append([][32]byte(nil), path...)
				p2[len(p2)-1][0] ^= 1
				if Verify(root, uint64(n), i, leaves[i], p2) {
					t.Fatalf("n=%d i=%d: altered path accepted", n, i)
				}
				if Verify(root, uint64(n), i, leaves[i], path[:len(path)-1]) {
					t.Fatalf("n=%d i=%d: truncated path accepted", n, i)
				}
			}
			if Verify(root, uint64(n), i, leaves[i], append(append([][32]byte(nil), path...), root)) {
				t.Fatalf("n=%d i=%d: extended path accepted", n, i)
			}
		}
		if Verify(root, uint64(n), uint64(n), leaves[0], nil) {
			t.Fatalf("n=%d: index beyond count accepted", n)
		}
	}
	if Build(nil).Root() != ([32]byte{}) {
		t.Fatal("empty tree root not zero")
	}
}

// A tree over leaves that duplicate the last node must not share a root with
// the shorter list (the Bitcoin CVE-2012-2459 shape).
func TestMerkleNoDuplicateMutation(t *testing.T) {
	l := fakeLeaves(3)
	if Build(l).Root() == Build(append(l, l[2])).Root() {
		t.Fatal("[a b c] and [a b c c] share a root")
	}
}

func TestSampleLeaves(t *testing.T) {
	rs := seedOf("r")
	a := SampleLeaves(rs, []byte("h"), []byte("v"), 1000, 50)
	b := SampleLeaves(rs, []byte("h"), []byte("v"), 1000, 50)
	if len(a) != 50 {
		t.Fatalf("got %d indices, want 50", len(a))
	}
	seen := map[uint64]bool{}
	for i, x := range a {
		if x != b[i] {
			t.Fatal("sampling is not deterministic")
		}
		if x >= 1000 || seen[x] {
			t.Fatalf("index %d out of range or repeated", x)
		}
		seen[x] = true
	}
	if c := SampleLeaves(rs, []byte("h"), []byte("v2"), 1000, 50); c[0] == a[0] && c[1] == a[1] {
		t.Fatal("different validators drew the same sample")
	}
	if all := SampleLeaves(rs, []byte("h"), []byte("v"), 5, 8); len(all) != 5 {
		t.Fatalf("n ≥ count gave %d indices, want all 5", len(all))
	}
	if SampleLeaves(rs, []byte("h"), []byte("v"), 0, 8) != nil {
		t.Fatal("count 0 gave indices")
	}
	// Uniformity: 20 000 draws into 10 buckets; chi-square with 9 degrees
	// of freedom stays under 27.9 (p = 0.001) for a uniform sampler.
	var buckets [10]int
	for i := range 1000 {
		var s [32]byte
		s[0], s[1] = byte(i), byte(i>>8)
		for _, x := range SampleLeaves(s, []byte("h"), []byte("v"), 100, 20) {
			buckets[x/10]++
		}
	}
	chi := 0.0
	for _, c := range buckets {
		d := float64(c) - 2000
		chi += d * d / 2000
	}
	if chi > 27.9 {
		t.Fatalf("sample buckets %v: chi-square %.1f > 27.9", buckets, chi)
	}
}

func TestAssignValidators(t *testing.T) {
	keys := byteKeys(20)
	load := make([]int, 20)
	for i := range 2000 {
		var s [32]byte
		s[0], s[1] = byte(i), byte(i>>8)
		host := keys[i%20]
		got := AssignValidators(s, host, keys, 3)
		if len(got) != 3 {
			t.Fatalf("assigned %d, want 3", len(got))
		}
		seen := map[int]bool{}
		for _, v := range got {
			if bytes.Equal(keys[v], host) || seen[v] {
				t.Fatalf("host %x assigned itself or a duplicate: %v", host, got)
			}
			seen[v] = true
			load[v]++
		}
	}
	// Each validator expects 2000·3/20 = 300 checks.
	for v, n := range load {
		if n < 220 || n > 380 {
			t.Fatalf("validator %d checks %d hosts, want ≈300: %v", v, n, load)
		}
	}
	if got := AssignValidators(seedOf("x"), keys[0], keys[:3], 5); len(got) != 2 {
		t.Fatalf("with 2 eligible validators got %d", len(got))
	}
}

func TestOpenings(t *testing.T) {
	w, _ := NewWeights(tinyParams, seedOf("e"))
	host := []byte("host")
	tr, err := Sprint(context.Background(), w, host, 37, 2)
	if err != nil {
		t.Fatal(err)
	}
	wk := w.Worker(host)
	root := tr.Root()
	for _, i := range SampleLeaves(seedOf("r"), host, []byte("v"), 37, 8) {
		op, err := Open(tr, wk, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyOpening(wk, root, 37, op); err != nil {
			t.Fatalf("honest opening %d: %v", i, err)
		}
		if err := CheckOpening(root, 37, op); err != nil {
			t.Fatalf("path check of honest opening %d: %v", i, err)
		}
		bad := op
		bad.Digest[0] ^= 1
		if err := CheckOpening(root, 37, bad); !errors.Is(err, ErrBadPath) {
			t.Fatalf("path check of a vote with a wrong digest: err = %v, want ErrBadPath", err)
		}
		if err := VerifyOpening(wk, root, 37, bad); !errors.Is(err, ErrBadPath) {
			t.Fatalf("altered digest: err = %v, want ErrBadPath", err)
		}
		if err := VerifyOpening(w.Worker([]byte("other")), root, 37, op); !errors.Is(err, ErrWrongDigest) {
			t.Fatalf("opening checked for another host: err = %v, want ErrWrongDigest", err)
		}
		if err := VerifyOpening(wk, root, 37, Opening{Index: 40}); !errors.Is(err, ErrIndex) {
			t.Fatalf("index 40: err = %v, want ErrIndex", err)
		}
		enc, err := op.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Opening
		if err := dec.UnmarshalBinary(enc); err != nil || dec.Index != op.Index || dec.Digest != op.Digest || len(dec.Path) != len(op.Path) {
			t.Fatalf("round trip: %+v, %v", dec, err)
		}
	}
	// A host that commits a fake leaf is caught when that leaf is sampled.
	leaves := make([][32]byte, 37)
	for i := range leaves {
		leaves[i] = tr.Leaf(uint64(i))
	}
	leaves[5] = Leaf(5, Digest{1, 2, 3})
	fake := Build(leaves)
	op := Opening{Index: 5, Digest: Digest{1, 2, 3}, Path: fake.Prove(5)}
	if err := VerifyOpening(wk, fake.Root(), 37, op); !errors.Is(err, ErrWrongDigest) {
		t.Fatalf("fake leaf: err = %v, want ErrWrongDigest", err)
	}
}

func TestSprintCancel(t *testing.T) {
	w, _ := NewWeights(tinyParams, seedOf("e"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Sprint(ctx, w, []byte("h"), 1000, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDetectionProbability(t *testing.T) {
	// 10 % fake, 96 samples: 1 − 0.9^96 ≈ 0.99996 (without replacement a
	// little higher).
	if p := DetectionProbability(16384, 1638, 96); p < 0.9999 {
		t.Fatalf("p = %v, want > 0.9999", p)
	}
	if DetectionProbability(100, 0, 10) != 0 || DetectionProbability(10, 5, 6) != 1 {
		t.Fatal("edge cases wrong")
	}
}

func FuzzOpeningUnmarshal(f *testing.F) {
	good, _ := Opening{Index: 3, Digest: Digest{9}, Path: make([][32]byte, 2)}.MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add(make([]byte, 25))
	f.Add(append(make([]byte, 24), 200))
	fuzzRoundTrip[Opening](f)
}

// fuzzRoundTrip checks that T's decoder either rejects input with an error
// wrapping ErrEncoding or accepts only what T's encoder writes back
// byte for byte.
func fuzzRoundTrip[T encoding.BinaryMarshaler, P interface {
	*T
	encoding.BinaryUnmarshaler
}](f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var o T
		if err := P(&o).UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("error %v does not wrap ErrEncoding", err)
			}
			return
		}
		again, err := o.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x (%v)", again, b, err)
		}
	})
}

// TestLeafOpenings: a host's blinded opening (leaf hash, no digest) checks
// by path, verifies against a recomputation, proves fraud for a fake leaf,
// and turns into the vote's full opening with the validator's digest.
func TestLeafOpenings(t *testing.T) {
	w, _ := NewWeights(tinyParams, seedOf("e"))
	host := []byte("host")
	tr, err := Sprint(context.Background(), w, host, 37, 2)
	if err != nil {
		t.Fatal(err)
	}
	wk := w.Worker(host)
	root := tr.Root()
	op, err := Open(tr, wk, 11)
	if err != nil {
		t.Fatal(err)
	}
	lo := op.Blind()
	if err := CheckLeafOpening(root, 37, lo); err != nil {
		t.Fatalf("path check: %v", err)
	}
	if err := VerifyLeafOpening(wk, root, 37, lo); err != nil {
		t.Fatalf("honest leaf: %v", err)
	}
	if err := CheckOpening(root, 37, lo.WithDigest(wk.Compute(11))); err != nil {
		t.Fatalf("vote with the recomputed digest: %v", err)
	}
	if err := CheckOpening(root, 37, lo.WithDigest(Digest{})); !errors.Is(err, ErrBadPath) {
		t.Fatalf("vote with a guessed digest: err = %v, want ErrBadPath", err)
	}
	bad := lo
	bad.Leaf[0] ^= 1
	if err := VerifyLeafOpening(wk, root, 37, bad); !errors.Is(err, ErrBadPath) {
		t.Fatalf("altered leaf: err = %v, want ErrBadPath", err)
	}
	leaves := make([][32]byte, 37)
	for i := range leaves {
		leaves[i] = tr.Leaf(uint64(i))
	}
	leaves[5] = Leaf(5, Digest{1, 2, 3})
	fake := Build(leaves)
	flo := Opening{Index: 5, Digest: Digest{1, 2, 3}, Path: fake.Prove(5)}.Blind()
	if err := VerifyLeafOpening(wk, fake.Root(), 37, flo); !errors.Is(err, ErrWrongDigest) {
		t.Fatalf("fake leaf: err = %v, want ErrWrongDigest", err)
	}
	enc, _ := flo.MarshalBinary()
	var dec LeafOpening
	if err := dec.UnmarshalBinary(enc); err != nil || dec.Index != 5 || dec.Leaf != flo.Leaf || len(dec.Path) != len(flo.Path) {
		t.Fatalf("round trip: %+v, %v", dec, err)
	}
}

func FuzzLeafOpeningUnmarshal(f *testing.F) {
	good, _ := LeafOpening{Index: 3, Leaf: [32]byte{9}, Path: make([][32]byte, 2)}.MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add(append(make([]byte, 40), 200))
	fuzzRoundTrip[LeafOpening](f)
}
