package proof

import (
	"math/rand/v2"
	"testing"
)

// TestDotKernel checks that the kernel in use (portable, or AVX2 under
// GOEXPERIMENT=simd) gives the same int32 as the portable reference, on
// extreme values (all −128, mixed ±127/−128) and random vectors of every
// length up to 300 (covering SIMD tails).
func TestDotKernel(t *testing.T) {
	skipPortable(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		a, b := make([]int8, n), make([]int8, n)
		for trial := range 4 {
			for i := range a {
				switch trial {
				case 0:
					a[i], b[i] = -128, -128
				case 1:
					a[i], b[i] = 127, -128
				default:
					a[i], b[i] = int8(rng.Uint32()), int8(rng.Uint32())
				}
			}
			if got, want := dot(a, b), dotPortable(a, b); got != want {
				t.Fatalf("n=%d trial %d: kernel %s gives %d, portable %d", n, trial, Kernel(), got, want)
			}
		}
	}
}

// TestMatmulKernel checks the kernel's matrix product against the portable
// one on random weights, including all-extreme rows, for every shape the
// kernel specialises (in multiple of 32, of 16 only, and neither).
func TestMatmulKernel(t *testing.T) {
	skipPortable(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, in := range []int{8, 16, 24, 48, 64, 256} {
		p := Params{Layers: 1, Dim: in, Heads: 1, Seq: 3, FFN: 40, ShiftQKV: 7, ShiftAttn: 7, ShiftOut: 7, ShiftUp: 7, ShiftDown: 7}
		w, err := NewWeights(p, seedOf("k"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			w.m[0][matQ][i] = -128
		}
		prepareWeights(w)
		x := make([]int8, p.Seq*in)
		for i := range x {
			x[i] = int8(int(rng.Uint32()%255) - 127)
		}
		for i := range in {
			x[i] = -127
		}
		got, want := make([]int8, p.Seq*in), make([]int8, p.Seq*in)
		for _, shift := range []int{1, 7, 12} {
			w.matmul(got, x, 0, matQ, p.Seq, in, in, shift)
			matmulPortable(want, x, w.m[0][matQ], p.Seq, in, in, shift)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("in=%d shift=%d: kernel %s y[%d] = %d, portable %d", in, shift, Kernel(), i, got[i], want[i])
				}
			}
		}
	}
}

// skipPortable skips kernel comparisons when the kernel is the portable one
// itself (there is nothing to compare); run them with
// GOEXPERIMENT=simd go test ./network/proof/ on amd64.
func skipPortable(t *testing.T) {
	t.Helper()
	if Kernel() == "portable" {
		t.Skip("portable kernel in use; run with GOEXPERIMENT=simd on amd64 to compare the SIMD kernel")
	}
	t.Logf("kernel: %s", Kernel())
}
