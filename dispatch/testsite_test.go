package dispatch

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/jouleworks/joule/site"
)

var t0 = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

// tinySite is a two-tier site small enough to check by hand and with GLPK.
func tinySite() *site.Site {
	return &site.Site{
		Name: "tiny", InterconnectMW: 1,
		Tiers: []site.Tier{
			{Name: "old", Count: 200, SleepW: 10, SleepLatency: time.Minute,
				Profiles: []site.Profile{{Name: "stock", THs: 100, W: 3000}, {Name: "eco", THs: 80, W: 2200}}},
			{Name: "new", Count: 150, SleepW: 20, SleepLatency: 20 * time.Minute, Cooling: site.CoolingHydro,
				Profiles: []site.Profile{{Name: "stock", THs: 200, W: 3500}, {Name: "oc", THs: 230, W: 4400}}},
		},
	}
}

// wavyPrices returns n prices around mean with a daily swing, noise and,
// every so often, spikes and negative prices.
func wavyPrices(n int, seed uint64, mean float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	p := make([]float64, n)
	for i := range p {
		p[i] = mean + 0.6*mean*math.Sin(float64(i)/4) + r.NormFloat64()*mean/3
		switch r.IntN(12) {
		case 0:
			p[i] = 400 + r.Float64()*2000
		case 1:
			p[i] = -20 * r.Float64()
		}
	}
	return p
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
