package market

import (
	"math"
	"math/rand/v2"
	"time"
)

// Scenario is a synthetic but ERCOT-like year (or any number of days) of
// every market input a site needs, so Joule runs with no files at all.
type Scenario struct {
	// Seed reproduces the scenario with Generate.
	Seed int64
	// Prices is the 15-minute real-time price, $/MWh, named "SCENARIO".
	Prices Series
	// Hashprice is the daily hashprice, $/TH/day, from BTC.
	Hashprice Series
	// SystemLoad is hourly ERCOT system load, MW (for 4CP, see FourCP).
	SystemLoad Series
	// Temperature is hourly ambient temperature, °C.
	Temperature Series
	// BTC is the daily Bitcoin price, difficulty and fee path.
	BTC []BTCDay
}

// MaxScenarioDays bounds Generate (100 years, about 60 MB of series) so a
// mistyped day count cannot exhaust memory.
const MaxScenarioDays = 36_525

// Scenario BTC path parameters: starting points representative of 2025.
const (
	// ScenarioBTCStartUSD is the BTC price on the first scenario day.
	ScenarioBTCStartUSD = 95_000
	// ScenarioDifficultyStart is the difficulty on the first scenario day
	// (early-2025 level).
	ScenarioDifficultyStart = 1.10e14
	// scenarioBTCDailyVol is the daily log-return sd (about 50 %/year).
	scenarioBTCDailyVol = 0.026
	// scenarioDifficultyEpochGrowth is the mean difficulty change per
	// 14-day retarget: +1.2 %, about 35 %/year as in 2024–25.
	scenarioDifficultyEpochGrowth = 0.012
	scenarioDifficultyEpochSD     = 0.02
	// scenarioFeeMedian is the median fee per block, BTC (2025 median 0.031).
	scenarioFeeMedian = 0.031
)

// Generate builds the scenario for seed: days whole UTC days from start
// (truncated to 00:00 UTC). The same seed, start and days give the same
// scenario on every machine for a given Go release (math/rand/v2 PCG). Its
// price statistics match the Target constants within the tolerances stated
// in docs/market.md. days <= 0 gives empty series; days above
// MaxScenarioDays are cut to it.
func Generate(seed int64, start time.Time, days int) Scenario {
	start = start.UTC().Truncate(24 * time.Hour)
	days = min(max(days, 0), MaxScenarioDays)
	g := &scenarioGen{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x4a6f756c65)), // "Joule"
		start: start,
		days:  days,
	}
	sc := Scenario{Seed: seed}
	sc.Temperature = g.temperature()
	sc.SystemLoad = g.load(sc.Temperature)
	sc.Prices = g.prices(sc.SystemLoad)
	sc.BTC = g.btc()
	sc.Hashprice = HashpriceSeries(sc.BTC, DefaultFeeBTCPerBlock)
	sc.Hashprice.Start = start
	return sc
}

type scenarioGen struct {
	rng   *rand.Rand
	start time.Time
	days  int
}

// clock returns, for each of n intervals of step from the start, the
// Central hour of day and the fractional Central month (0 = mid-January).
func (g *scenarioGen) clock(n int, step time.Duration) (hour []int8, month []float32) {
	hour = make([]int8, n)
	month = make([]float32, n)
	per := int(time.Hour / step)
	for i := 0; i < n; i += per {
		lt := g.start.Add(time.Duration(i) * step).In(Central)
		m := float32(lt.Month()-1) + float32(lt.Day()-1)/float32(daysIn(lt.Year(), int(lt.Month()))) - 0.5
		for j := i; j < i+per && j < n; j++ {
			hour[j] = int8(lt.Hour())
			month[j] = m
		}
	}
	return hour, month
}

// monthly interpolates a by-month table at fractional month m (0 =
// mid-January), wrapping December to January.
func monthly(t *[12]float64, m float32) float64 {
	f := float64(m)
	if f < 0 {
		f += 12
	}
	i := int(f) % 12
	frac := f - math.Floor(f)
	return t[i]*(1-frac) + t[(i+1)%12]*frac
}

// temperature is the monthly mean plus the diurnal profile plus a weather
// anomaly: a daily AR(1) (persistence 0.8, sd 3.3 °C) and hourly noise.
func (g *scenarioGen) temperature() Series {
	n := g.days * 24
	hour, month := g.clock(n, time.Hour)
	vals := make([]float64, n)
	var anom, fast float64
	for i := range vals {
		if i%24 == 0 {
			anom = 0.8*anom + 2.0*g.rng.NormFloat64()
		}
		fast = 0.7*fast + 0.5*g.rng.NormFloat64()
		// Summer anomalies are narrower than winter ones in Texas.
		season := 1.0 - 0.5*math.Cos(2*math.Pi*(float64(month[i])+0.5)/12-2*math.Pi*6.5/12)
		vals[i] = monthly(&tempMonthMean, month[i]) + (tempHourMean[hour[i]] - tempMean) + season*anom + fast
	}
	return Series{Name: "temperature", Unit: "°C", Start: g.start, Step: time.Hour, Values: vals}
}

// load applies the measured regression of system load on temperature and
// hour of day, plus an AR(1) residual.
func (g *scenarioGen) load(temp Series) Series {
	n := len(temp.Values)
	hour, _ := g.clock(n, time.Hour)
	vals := make([]float64, n)
	var res float64
	innov := loadResidSD * math.Sqrt(1-loadResidAR1*loadResidAR1)
	for i, T := range temp.Values {
		res = loadResidAR1*res + innov*g.rng.NormFloat64()
		vals[i] = loadBase + loadCool*max(T-18, 0) + loadHeat*max(14-T, 0) + loadHourEffect[hour[i]] + res
	}
	return Series{Name: "system load", Unit: "MW", Start: g.start, Step: time.Hour, Values: vals}
}

// priceParams shapes the scenario's price model.
type priceParams struct {
	sigma      float64 // sd of the log body
	shift      float64 // body = level·(e^{σX} − shift)/(1 − shift): lets quiet intervals go below $0
	dayWeight  float64 // share of body variance from the daily factor
	dayAR      float64 // day-to-day persistence of the daily factor
	fastAR     float64 // 15-minute persistence of the intraday factor
	spikeRate  float64 // spike starts per interval at hour weight 1 and mean load
	spikeLen   float64 // mean spike length, intervals
	spikeDecay float64 // per-interval decay of a spike's adder
	spikeScale float64 // Pareto scale of the spike adder, $/MWh
	spikeAlpha float64 // Pareto tail index of the spike adder
	spikeLoad  float64 // log spike rate per sd of system load above its mean
	negRate    float64 // oversupply (negative price) event starts per interval at mean load
	negLen     float64 // mean oversupply event length, intervals
	negMedian  float64 // median negative price in an event, $/MWh (positive number)
	negLoad    float64 // log negative-event rate per sd of load below its mean
}

// scenarioPrice holds the price model parameters, tuned by hand so that
// Generate reproduces the Target statistics (TestScenarioCalibration
// checks it across seeds).
var scenarioPrice = priceParams{
	sigma: 0.5, shift: 0.25, dayWeight: 0.45, dayAR: 0.6, fastAR: 0.96,
	spikeRate: 0.0019, spikeLen: 6, spikeDecay: 0.88, spikeScale: 65, spikeAlpha: 1.3, spikeLoad: 1.0,
	negRate: 0.0024, negLen: 8, negMedian: 4, negLoad: 1.0,
}

// priceCap is ERCOT's high system-wide offer cap, $/MWh, since 2022-01-01;
// real-time prices can exceed it only through adders the scenario omits.
const priceCap = 5000

// prices builds 15-minute prices: an hour- and month-shaped body driven by
// a daily and an intraday Ornstein–Uhlenbeck factor, shifted so quiet
// intervals can go negative, plus Pareto spikes whose rate follows the
// measured evening shape and system load, capped at $5,000/MWh.
func (g *scenarioGen) prices(load Series) Series {
	p := scenarioPrice
	n := g.days * 96
	hour, month := g.clock(n, 15*time.Minute)
	vals := make([]float64, n)
	var loadMean, loadSD float64
	for _, v := range load.Values {
		loadMean += v
	}
	if len(load.Values) > 0 {
		loadMean /= float64(len(load.Values))
	}
	for _, v := range load.Values {
		loadSD += (v - loadMean) * (v - loadMean)
	}
	if len(load.Values) > 0 {
		loadSD = math.Sqrt(loadSD / float64(len(load.Values)))
	}
	// Spikes follow the measured gap between hourly mean and median: that
	// gap is what spikes add, and it peaks at 19:00 Central.
	var spikeW [24]float64
	var wsum float64
	for h := range spikeW {
		spikeW[h] = max(TargetHourMean[h]-TargetHourMedian[h], 0.5)
		wsum += spikeW[h]
	}
	for h := range spikeW {
		spikeW[h] *= 24 / wsum
	}
	var day, fast float64
	dayInnov := math.Sqrt(1 - p.dayAR*p.dayAR)
	fastInnov := math.Sqrt(1 - p.fastAR*p.fastAR)
	var spike, neg float64
	spikeLeft, negLeft := 0, 0
	for i := range vals {
		if i%96 == 0 {
			day = p.dayAR*day + dayInnov*g.rng.NormFloat64()
		}
		fast = p.fastAR*fast + fastInnov*g.rng.NormFloat64()
		x := math.Sqrt(p.dayWeight)*day + math.Sqrt(1-p.dayWeight)*fast
		h := hour[i]
		level := TargetHourMedian[h] * monthly(&TargetMonthMean, month[i]) / TargetMean
		v := level * (math.Exp(p.sigma*x) - p.shift) / (1 - p.shift)
		z := 0.0
		if loadSD > 0 {
			z = (load.Values[i/4] - loadMean) / loadSD
		}
		if spikeLeft == 0 && g.rng.Float64() < p.spikeRate*spikeW[h]*math.Exp(p.spikeLoad*z) {
			spikeLeft = 1 + int(g.rng.ExpFloat64()*(p.spikeLen-1))
			spike = p.spikeScale * math.Pow(1-g.rng.Float64(), -1/p.spikeAlpha)
		}
		if negLeft == 0 && spikeLeft == 0 && g.rng.Float64() < p.negRate*math.Exp(-p.negLoad*z) {
			negLeft = 1 + int(g.rng.ExpFloat64()*(p.negLen-1))
			neg = p.negMedian * math.Exp(0.8*g.rng.NormFloat64())
		}
		switch {
		case spikeLeft > 0:
			v += spike
			spike *= p.spikeDecay
			spikeLeft--
		case negLeft > 0:
			v = -neg * (0.7 + 0.6*g.rng.Float64())
			negLeft--
		}
		vals[i] = math.Min(v, priceCap)
	}
	return Series{Name: "SCENARIO", Unit: "$/MWh", Start: g.start, Step: 15 * time.Minute, Values: vals}
}

// btc builds the daily BTC path: a driftless log-normal price, difficulty
// retargeting every 14 days, and log-normal fees.
func (g *scenarioGen) btc() []BTCDay {
	out := make([]BTCDay, g.days)
	price := float64(ScenarioBTCStartUSD)
	diff := ScenarioDifficultyStart
	var feeX float64
	for d := range out {
		if d > 0 {
			price *= math.Exp(scenarioBTCDailyVol*g.rng.NormFloat64() - scenarioBTCDailyVol*scenarioBTCDailyVol/2)
			if d%14 == 0 {
				diff *= 1 + scenarioDifficultyEpochGrowth + scenarioDifficultyEpochSD*g.rng.NormFloat64()
			}
		}
		feeX = 0.8*feeX + 0.6*0.4*g.rng.NormFloat64()
		out[d] = BTCDay{
			Date:       g.start.AddDate(0, 0, d),
			CloseUSD:   price,
			Difficulty: diff,
			FeesBTC:    scenarioFeeMedian * math.Exp(feeX),
			HasFees:    true,
		}
	}
	return out
}
