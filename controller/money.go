package controller

import (
	"fmt"
	"math"
	"time"

	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/gpu"
	"github.com/jouleworks/joule/site"
)

// snapshot is the last tick's measurements, for the API.
type snapshot struct {
	time        time.Time
	price, hp   float64
	verdict     feed.Verdict
	miningW     float64
	gpuW        float64
	hashrateTHs float64
	curtailedMW float64
	gpuTotal    int
	gpuInf      int
	gpuBatch    int
	gpuIdle     int
	rates       Rates
}

// money is revenue since local midnight, integrated tick by tick.
type money struct {
	day                                 time.Time // local midnight the sums started at
	mining, ai, ancillary, resale, cost float64
}

// Rates are the site's money flows at one instant, $/h. See
// docs/controller.md for the formulas.
type Rates struct {
	MiningUSD, AIUSD, AncillaryUSD, ResaleUSD, EnergyCostUSD float64
}

// Profit is the net rate.
func (r Rates) Profit() float64 {
	return r.MiningUSD + r.AIUSD + r.AncillaryUSD + r.ResaleUSD - r.EnergyCostUSD
}

// RatesAt computes the money rates from measured load and prices:
//
//	mining     = hashrate_TH/s × hashprice_$/TH/day ÷ 24
//	AI         = inference GPUs × inference $/GPU-h + batch GPUs × batch $/GPU-h
//	             (+ firm GPUs × firm $/GPU-h), prices of the first GPU pool
//	ancillary  = offered MW × ancillary $/MW-h
//	energy     = spot: load_MW × price;  PPA: volume × contract price
//	resale     = PPA only: (volume − load)⁺ × price;  spot: 0
//	PPA load above the volume is bought at spot and added to energy.
//
// It is pure.
func RatesAt(s *site.Site, hashrateTHs, hashprice, price, loadMW, ancillaryMW float64, inference, batch int) Rates {
	r := Rates{MiningUSD: hashrateTHs * hashprice / 24, AncillaryUSD: ancillaryMW * s.Ancillary.PricePerMWh}
	if len(s.GPUPools) > 0 {
		p := s.GPUPools[0]
		r.AIUSD = float64(inference)*p.Inference.PricePerGPUHour + float64(p.Firm.GPUs)*p.Firm.PricePerGPUHour
		if len(p.Batch) > 0 {
			r.AIUSD += float64(batch) * p.Batch[0].PricePerGPUHour
		}
	}
	if s.Contract.Kind == site.ContractPPA {
		vol := s.Volume()
		r.EnergyCostUSD = vol * s.Contract.PricePerMWh
		if loadMW > vol {
			r.EnergyCostUSD += (loadMW - vol) * price
		} else {
			r.ResaleUSD = (vol - loadMW) * price
		}
	} else {
		r.EnergyCostUSD = loadMW * price
	}
	return r
}

// account integrates the money rates over the time since the last tick
// (at most one Interval's worth of clock time is trusted after a pause of
// more than 10 minutes) and refreshes the snapshot.
func (c *Controller) account(now time.Time, obs map[string]Observation, gpus []gpu.Sample, v feed.Verdict) {
	miningW, aiW := c.siteLoad(obs, gpus)
	hashrate := 0.0
	for _, u := range c.units {
		if o := obs[u.ID]; o.Reachable() {
			hashrate += o.HashrateTHs
		}
	}
	total, inf, batch, idle, _ := gpuSummary(gpus)
	price, hp := prices(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	rates := RatesAt(c.cfg.Site, hashrate, hp, price, (miningW+aiW)/1e6, c.lastAnc, inf, batch)
	loc := c.cfg.Site.Location()
	lt := now.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	if !c.today.day.Equal(midnight) {
		c.today = money{day: midnight}
	} else if !c.lastTick.IsZero() {
		dt := now.Sub(c.lastTick)
		if dt > 10*time.Minute {
			dt = 10 * time.Minute
		}
		h := math.Max(0, dt.Hours())
		c.today.mining += rates.MiningUSD * h
		c.today.ai += rates.AIUSD * h
		c.today.ancillary += rates.AncillaryUSD * h
		c.today.resale += rates.ResaleUSD * h
		c.today.cost += rates.EnergyCostUSD * h
	}
	c.lastTick = now
	c.snap = snapshot{time: now, price: price, hp: hp, verdict: v, miningW: miningW, gpuW: aiW, hashrateTHs: hashrate,
		curtailedMW: round3(c.curtailedW(obs) / 1e6), gpuTotal: total, gpuInf: inf, gpuBatch: batch, gpuIdle: idle, rates: rates}
	if v.Active {
		c.raise("failsafe", "critical", v.Reason)
	} else {
		c.clear("failsafe")
	}
	offline := 0
	for _, o := range obs {
		if !o.Reachable() {
			offline++
		}
	}
	if offline > 0 {
		c.raise("miners-offline", "warning", pluralize(offline, "miner does", "miners do")+" not answer")
	} else {
		c.clear("miners-offline")
	}
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
