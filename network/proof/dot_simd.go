//go:build goexperiment.simd && amd64

package proof

import "simd/archsimd"

var (
	haveAVX2   = archsimd.X86.AVX2()
	haveAVX512 = archsimd.X86.AVX512()
)

// The SIMD kernels sign-extend int8 to int16 (weights once per epoch,
// activations once per row), then multiply and add adjacent pairs into
// int32 lanes (VPMADDWD — exact here, since 2·|int8·int8| < 2³¹) and
// accumulate. Integer sums without overflow do not depend on order, so the
// result is bit-identical to the portable kernel; dot_test.go checks that on
// extreme and random inputs and TestVectors checks whole digests. No
// saturating instruction is used: saturation would break exactness.

// dot is used for attention scores (short vectors).
func dot(a, b []int8) int32 {
	if !haveAVX2 || len(a) < 16 {
		return dotPortable(a, b)
	}
	b = b[:len(a)]
	var acc archsimd.Int32x8
	i := 0
	for ; i+16 <= len(a); i += 16 {
		x := archsimd.LoadInt8x16Slice(a[i : i+16]).ExtendToInt16()
		y := archsimd.LoadInt8x16Slice(b[i : i+16]).ExtendToInt16()
		acc = acc.Add(x.DotProductPairs(y))
	}
	s := sum8(acc)
	if i < len(a) {
		s += dotPortable(a[i:], b[i:])
	}
	return s
}

func sum8(v archsimd.Int32x8) int32 {
	var l [8]int32
	v.Store(&l)
	return l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7]
}

func prepareWeights(w *Weights) {
	if !haveAVX2 {
		return
	}
	w.m16 = make([][numMats][]int16, len(w.m))
	for l := range w.m {
		for id, m := range w.m[l] {
			m16 := make([]int16, len(m))
			for i, v := range m {
				m16[i] = int16(v)
			}
			w.m16[l][id] = m16
		}
	}
}

// matmul applies matrix id of layer l: rq(x·Wᵀ, shift) as matmulPortable.
func (w *Weights) matmul(y, x []int8, l, id, rows, in, out, shift int) {
	if w.m16 == nil || in%16 != 0 {
		matmulPortable(y, x, w.m[l][id], rows, in, out, shift)
		return
	}
	w16 := w.m16[l][id]
	xs := make([]int16, in)
	round := int32(1) << (shift - 1)
	wide := haveAVX512 && in%32 == 0
	for t := range rows {
		for i, v := range x[t*in : (t+1)*in] {
			xs[i] = int16(v)
		}
		yt := y[t*out : (t+1)*out]
		for o := range out {
			row := w16[o*in : (o+1)*in]
			var acc int32
			if wide {
				acc = dot16x32(xs, row)
			} else {
				acc = dot16x16(xs, row)
			}
			yt[o] = clamp127((acc + round) >> shift)
		}
	}
}

// dot16x16 is the AVX2 int16 dot product; len(a) is a multiple of 16.
func dot16x16(a, b []int16) int32 {
	b = b[:len(a)]
	var acc0, acc1 archsimd.Int32x8
	i := 0
	for ; i+32 <= len(a); i += 32 {
		acc0 = acc0.Add(archsimd.LoadInt16x16Slice(a[i : i+16]).DotProductPairs(archsimd.LoadInt16x16Slice(b[i : i+16])))
		acc1 = acc1.Add(archsimd.LoadInt16x16Slice(a[i+16 : i+32]).DotProductPairs(archsimd.LoadInt16x16Slice(b[i+16 : i+32])))
	}
	if i < len(a) {
		acc0 = acc0.Add(archsimd.LoadInt16x16Slice(a[i : i+16]).DotProductPairs(archsimd.LoadInt16x16Slice(b[i : i+16])))
	}
	return sum8(acc0.Add(acc1))
}

// dot16x32 is the AVX-512 int16 dot product; len(a) is a multiple of 32.
func dot16x32(a, b []int16) int32 {
	b = b[:len(a)]
	var acc archsimd.Int32x16
	for i := 0; i < len(a); i += 32 {
		acc = acc.Add(archsimd.LoadInt16x32Slice(a[i : i+32]).DotProductPairs(archsimd.LoadInt16x32Slice(b[i : i+32])))
	}
	var l [16]int32
	acc.Store(&l)
	var s int32
	for _, v := range l {
		s += v
	}
	return s
}

// Kernel names the dot-product kernel in use, for benchmarks and logs.
func Kernel() string {
	switch {
	case haveAVX512:
		return "avx512"
	case haveAVX2:
		return "avx2"
	}
	return "portable"
}
