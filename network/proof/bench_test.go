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
// spent producing a ReferenceSprint-nonce commitment (every nonce + leaf
// hashing + tree). Production is timed on a 256-nonce sprint and scaled
// linearly to ReferenceSprint, since its cost is per nonce.
func BenchmarkVerifyRatio(b *testing.B) {
	const produced = 256
	w, err := NewWeights(DefaultParams(), seedOf("bench"))
	if err != nil {
		b.Fatal(err)
	}
	host := []byte("host")
	start := time.Now()
	tr, err := Sprint(context.Background(), w, host, produced, 1)
	if err != nil {
		b.Fatal(err)
	}
	perNonce := time.Since(start) / produced
	wk := w.Worker(host)
	root := tr.Root()
	idx := SampleLeaves(seedOf("reveal"), host, []byte("validator"), produced, DefaultSamples)
	ops := make([]Opening, len(idx))
	for i, x := range idx {
		ops[i] = Opening{Index: x, Digest: wk.Compute(x), Path: tr.Prove(x)}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, op := range ops {
			if err := VerifyOpening(wk, root, produced, op); err != nil {
				b.Fatal(err)
			}
		}
	}
	verify := b.Elapsed() / time.Duration(b.N)
	production := perNonce * ReferenceSprint
	b.ReportMetric(float64(perNonce.Microseconds()), "µs/nonce-produced")
	b.ReportMetric(float64(verify.Microseconds())/float64(len(ops)), "µs/opening-verified")
	b.ReportMetric(100*float64(verify)/float64(production), "%verify/produce-per-validator")
	b.ReportMetric(100*float64(verify*DefaultValidators)/float64(production), "%verify/produce-all-validators")
}
