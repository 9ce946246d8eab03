package controller

import (
	"math"
	"testing"

	"github.com/jouleworks/joule/site"
)

// Each case is a spreadsheet row: the expected values are computed by hand
// from the formulas in docs/controller.md.
func TestRatesAt(t *testing.T) {
	pool := site.GPUPool{Count: 32, Firm: site.FirmLease{GPUs: 4, PricePerGPUHour: 2.10},
		Batch:     []site.BatchJob{{PricePerGPUHour: 1.60}},
		Inference: site.Inference{PricePerGPUHour: 2.50}}
	spot := &site.Site{Contract: site.Contract{Kind: site.ContractSpot}, GPUPools: []site.GPUPool{pool}, Ancillary: site.Ancillary{PricePerMWh: 5}}
	ppa := &site.Site{InterconnectMW: 10, Contract: site.Contract{Kind: site.ContractPPA, PricePerMWh: 40, MW: 2}}
	cases := []struct {
		name                                        string
		s                                           *site.Site
		ths, hp, price, loadMW, ancMW               float64
		inf, batch                                  int
		mining, ai, anc, resale, energy, profitRate float64
	}{
		// 28,880 TH/s × 0.055 / 24 = 66.18; AI 20×2.5 + 6×1.6 + 4×2.1 = 68.0;
		// ancillary 0.5 × 5 = 2.5; energy 0.662 × 40 = 26.48.
		{"spot", spot, 28880, 0.055, 40, 0.662, 0.5, 20, 6, 66.18333, 68.0, 2.5, 0, 26.48, 110.20333},
		// Negative price: energy is income.
		{"negative price", spot, 1000, 0.05, -20, 1, 0, 0, 0, 2.083333, 8.4, 0, 0, -20, 30.483333},
		// PPA below volume: 2 × 40 = 80 paid; (2 − 1.5) × 60 = 30 resold.
		{"ppa under", ppa, 0, 0.05, 60, 1.5, 0, 0, 0, 0, 0, 0, 30, 80, -50},
		// PPA above volume: 80 + (3 − 2) × 60 = 140.
		{"ppa over", ppa, 0, 0.05, 60, 3, 0, 0, 0, 0, 0, 0, 0, 140, -140},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-4 }
	for _, c := range cases {
		r := RatesAt(c.s, c.ths, c.hp, c.price, c.loadMW, c.ancMW, c.inf, c.batch)
		if !near(r.MiningUSD, c.mining) || !near(r.AIUSD, c.ai) || !near(r.AncillaryUSD, c.anc) || !near(r.ResaleUSD, c.resale) ||
			!near(r.EnergyCostUSD, c.energy) || !near(r.Profit(), c.profitRate) {
			t.Errorf("%s: rates %+v profit %.5f, want mining %.5f ai %.2f anc %.2f resale %.2f energy %.2f profit %.5f",
				c.name, r, r.Profit(), c.mining, c.ai, c.anc, c.resale, c.energy, c.profitRate)
		}
	}
}
