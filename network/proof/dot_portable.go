//go:build !(goexperiment.simd && amd64)

package proof

// dot is the portable kernel; build with GOEXPERIMENT=simd on amd64 for the
// AVX2 one in dot_simd.go.
func dot(a, b []int8) int32 { return dotPortable(a, b) }

func prepareWeights(*Weights) {}

// matmul applies matrix id of layer l; see matmulPortable.
func (w *Weights) matmul(y, x []int8, l, id, rows, in, out, shift int) {
	matmulPortable(y, x, w.m[l][id], rows, in, out, shift)
}

// Kernel names the dot-product kernel in use, for benchmarks and logs.
func Kernel() string { return "portable" }
