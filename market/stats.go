package market

import (
	"math"
	"slices"
)

// PriceStats summarises a price series the way the scenario is calibrated:
// level, spread, tails and the daily and seasonal shape.
type PriceStats struct {
	N                   int
	Mean, Median, Std   float64 // $/MWh; Std is the population standard deviation
	P5, P95, P99        float64 // percentiles, nearest-rank
	Min, Max            float64
	NegativeShare       float64     // share of intervals below $0
	Above100, Above1000 float64     // share of intervals above $100 and $1,000
	HourMean            [24]float64 // mean by hour of day, Central Prevailing Time
	MonthMean           [12]float64 // mean by calendar month (index 0 = January), Central; NaN when absent
	HourMedian          [24]float64 // median by hour of day, Central
}

// DescribePrices computes PriceStats of s. Interval times are read on the
// Central Prevailing Time clock for the hour and month profiles.
func DescribePrices(s Series) PriceStats {
	var st PriceStats
	st.N = len(s.Values)
	for i := range st.MonthMean {
		st.MonthMean[i] = math.NaN()
	}
	if st.N == 0 {
		return st
	}
	sorted := slices.Clone(s.Values)
	slices.Sort(sorted)
	var sum float64
	for _, v := range s.Values {
		sum += v
		if v < 0 {
			st.NegativeShare++
		}
		if v > 100 {
			st.Above100++
		}
		if v > 1000 {
			st.Above1000++
		}
	}
	n := float64(st.N)
	st.Mean = sum / n
	var ss float64
	for _, v := range s.Values {
		ss += (v - st.Mean) * (v - st.Mean)
	}
	st.Std = math.Sqrt(ss / n)
	st.NegativeShare /= n
	st.Above100 /= n
	st.Above1000 /= n
	st.Median = percentile(sorted, 50)
	st.P5 = percentile(sorted, 5)
	st.P95 = percentile(sorted, 95)
	st.P99 = percentile(sorted, 99)
	st.Min, st.Max = sorted[0], sorted[len(sorted)-1]

	var hourSum [24]float64
	var hourN [24]int
	var monthSum [12]float64
	var monthN [12]int
	var byHour [24][]float64
	for i, v := range s.Values {
		lt := s.At(i).In(Central)
		h, m := lt.Hour(), int(lt.Month())-1
		hourSum[h] += v
		hourN[h]++
		monthSum[m] += v
		monthN[m]++
		byHour[h] = append(byHour[h], v)
	}
	for h := range hourSum {
		if hourN[h] > 0 {
			st.HourMean[h] = hourSum[h] / float64(hourN[h])
			slices.Sort(byHour[h])
			st.HourMedian[h] = percentile(byHour[h], 50)
		}
	}
	for m := range monthSum {
		if monthN[m] > 0 {
			st.MonthMean[m] = monthSum[m] / float64(monthN[m])
		}
	}
	return st
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}
