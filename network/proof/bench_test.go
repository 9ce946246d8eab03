package proof

import (
	"context"
	"testing"
	"time"
)

// Reference figures for the verification-cost benchmark: a sprint of
// ReferenceSprint nonces, checked by DefaultValidators validators sampling
// DefaultSamples leaves each.
func BenchmarkNonce(b *testing.B) {
	w, err := NewWeights(DefaultParams(), seedOf("bench"))
	if err != nil {
		b.Fatal(err)
	}
	wk := w.Worker([]byte("host"))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		wk.Compute(uint64(i))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "nonces/s")
	b.ReportMetric(float64(DefaultParams().MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

func BenchmarkWeights(b *testing.B) {
	for b.Loop() {
		if _, err := NewWeights(DefaultParams(), seedOf("bench")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRatio measures what one validator spends checking a host
// (DefaultSamples openings: recompute + Merkle path) against what the host
// spends producing a ReferenceSprint-nonce commitment (every nonce + leaf
// hashing + tree). Each iteration times a 64-nonce sprint and the 32
// verifications back to back, so machine load affects both alike;
// production is scaled linearly to ReferenceSprint since its cost is per
// nonce.
func BenchmarkVerifyRatio(b *testing.B) {
	const produced = 64
	w, err := NewWeights(DefaultParams(), seedOf("bench"))
	if err != nil {
		b.Fatal(err)
	}
	host := []byte("host")
	wk := w.Worker(host)
	var prodTime, verifyTime time.Duration
	var openings int
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		tr, err := Sprint(context.Background(), w, host, produced, 1)
		if err != nil {
			b.Fatal(err)
		}
		prodTime += time.Since(start)
		root := tr.Root()
		idx := SampleLeaves(seedOf("reveal"), host, []byte{byte(i)}, produced, DefaultSamples)
		ops := make([]Opening, len(idx))
		for j, x := range idx {
			// The host's side (recorded digests) is not the validator's cost.
			ops[j] = Opening{Index: x, Digest: wk.Compute(x), Path: tr.Prove(x)}
		}
		start = time.Now()
		for _, op := range ops {
			if err := VerifyOpening(wk, root, produced, op); err != nil {
				b.Fatal(err)
			}
		}
		verifyTime += time.Since(start)
		openings += len(ops)
	}
	perNonce := float64(prodTime) / float64(b.N*produced)
	perOpening := float64(verifyTime) / float64(openings)
	production := perNonce * ReferenceSprint
	verify := perOpening * DefaultSamples
	b.ReportMetric(perNonce/1e3, "µs/nonce-produced")
	b.ReportMetric(perOpening/1e3, "µs/opening-verified")
	b.ReportMetric(100*verify/production, "%verify/produce-per-validator")
	b.ReportMetric(100*verify*DefaultValidators/production, "%verify/produce-all-validators")
}
