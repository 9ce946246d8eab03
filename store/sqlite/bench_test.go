package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/sqlite"
)

// BenchmarkPollSweep10k writes one poll sweep of 10,000 miners as one batch,
// the write the controller makes every poll interval.
func BenchmarkPollSweep10k(b *testing.B) {
	s := openB(b)
	const miners = 10000
	sweep := make([]store.MinerSample, miners)
	for i := range sweep {
		sweep[i] = store.MinerSample{MinerID: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			HashrateTHs: 100 + float64(i%40), PowerW: 3250, InletC: 27, ChipC: 71, FanRPM: 4300, State: "hashing"}
	}
	t := time.Date(2025, 7, 14, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := t.Add(time.Duration(i) * 30 * time.Second)
		for j := range sweep {
			sweep[j].Time = at
		}
		if err := s.WriteMinerSamples(b.Context(), sweep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(miners)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRollupSweep10k rolls up one minute holding two 10,000-miner sweeps.
func BenchmarkRollupSweep10k(b *testing.B) {
	s := openB(b)
	t := time.Date(2025, 7, 14, 0, 0, 0, 0, time.UTC)
	sweep := make([]store.MinerSample, 10000)
	for k := range 2 {
		for i := range sweep {
			sweep[i] = store.MinerSample{Time: t.Add(time.Duration(k) * 30 * time.Second), MinerID: fmt.Sprintf("m%05d", i), HashrateTHs: 100, PowerW: 3250, State: "hashing"}
		}
		if err := s.WriteMinerSamples(b.Context(), sweep); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := s.Rollup(b.Context(), t, t.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}

func openB(b *testing.B) store.Store {
	b.Helper()
	ret := store.Retention{}
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Retention: &ret})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
