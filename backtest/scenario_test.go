package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

func scenarioInputs(days int) Inputs {
	sc := market.Generate(1, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), days)
	return Inputs{Prices: sc.Prices, Hashprice: sc.Hashprice, SystemLoad: sc.SystemLoad, Temperature: sc.Temperature}
}

// BenchmarkBacktestYear runs the online policies over a year of the
// built-in scenario on the reference site (no hindsight).
func BenchmarkBacktestYear(b *testing.B) {
	in := scenarioInputs(365)
	for b.Loop() {
		if _, err := Run(context.Background(), site.Reference(), in, Options{Policies: []dispatch.Policy{dispatch.AlwaysOn{}, dispatch.Strike{}, dispatch.Joule{}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJouleYear is BenchmarkBacktestYear for the joule policy alone.
func BenchmarkJouleYear(b *testing.B) {
	in := scenarioInputs(365)
	for b.Loop() {
		if _, err := Run(context.Background(), site.Reference(), in, Options{Policies: []dispatch.Policy{dispatch.Joule{}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHindsightYear solves the hindsight optimum of a year of the
// built-in scenario on the reference site.
func BenchmarkHindsightYear(b *testing.B) {
	in := scenarioInputs(365)
	for b.Loop() {
		if _, err := Run(context.Background(), site.Reference(), in, Options{Hindsight: true}); err != nil {
			b.Fatal(err)
		}
	}
}
