package plan

import (
	"context"
	"testing"
)

// BenchmarkMonteCarlo is the performance goal: 10,000 paths × 15
// years monthly, every strategy, on all cores (goal < 1 s on 2 cores).
func BenchmarkMonteCarlo(b *testing.B) {
	cfg := Defaults()
	cfg.HorizonYears = 15
	ctx := context.Background()
	for b.Loop() {
		if _, err := Run(ctx, cfg, nil, Options{Paths: 10_000, Seed: 1, SensitivityPaths: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefaultRun is what `joule plan` does with no flags: 5,000 paths
// plus the tornado and breakeven tables.
func BenchmarkDefaultRun(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := Run(ctx, Defaults(), nil, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
