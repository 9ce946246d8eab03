package market

// ERCOT real-time price statistics the built-in scenario is calibrated to,
// measured from HB_HUBAVG 2024-01..2025-11 (67,200 15-minute intervals of
// shared/data/ercot_rt_spp_hb_hubavg_15min_2024_2025.csv, no gaps) with
// DescribePrices; percentiles are nearest-rank, hours and months are
// Central Prevailing Time. $/MWh unless noted.
const (
	TargetMean          = 29.40
	TargetMedian        = 22.34
	TargetStd           = 68.39
	TargetP5            = 3.70
	TargetP95           = 71.02
	TargetP99           = 138.11
	TargetMin           = -37.65
	TargetMax           = 4964.84
	TargetNegativeShare = 0.02482  // share of intervals below $0
	TargetAbove100      = 0.02054  // share of intervals above $100/MWh
	TargetAbove1000     = 0.000625 // share of intervals above $1,000/MWh (42 intervals)
	TargetAutocorr1     = 0.784    // lag-1 (15-minute) autocorrelation
)

// TargetHourMean is the mean price by hour of day (Central, hour 0 =
// 00:00–01:00), measured from HB_HUBAVG 2024-01..2025-11.
var TargetHourMean = [24]float64{
	23.61, 21.98, 21.08, 21.03, 22.29, 25.68, 32.87, 30.91, 20.89, 16.97, 16.98, 17.98,
	19.99, 22.01, 22.56, 26.39, 29.82, 39.33, 49.44, 69.70, 59.98, 39.48, 29.69, 24.89,
}

// TargetHourMedian is the median price by hour of day (Central), measured
// from HB_HUBAVG 2024-01..2025-11.
var TargetHourMedian = [24]float64{
	22.15, 20.93, 20.24, 20.37, 21.16, 22.57, 25.16, 22.90, 17.92, 15.70, 16.20, 17.51,
	19.34, 20.60, 20.88, 21.78, 23.39, 27.66, 32.50, 40.08, 36.40, 30.06, 25.58, 23.06,
}

// TargetMonthMean is the mean price by calendar month (Central, index 0 =
// January), measured from HB_HUBAVG 2024-01..2025-11 (two years pooled,
// December from 2024 only).
var TargetMonthMean = [12]float64{
	32.31, 22.75, 23.79, 27.75, 36.84, 28.82, 27.99, 36.29, 27.78, 28.63, 31.79, 25.52,
}

// Temperature and load shape of the scenario, measured from the shared ERCOT
// load-weighted temperature and day-ahead load forecast files
// (2024-01..2025-11, hourly).
var (
	// tempMonthMean is the mean temperature by month, °C.
	tempMonthMean = [12]float64{7.7, 13.3, 17.8, 21.4, 25.3, 28.5, 28.8, 29.9, 26.2, 23.2, 17.5, 13.2}
	// tempHourMean is the mean temperature by Central hour of day, °C
	// (overall mean 21.44).
	tempHourMean = [24]float64{
		19.4, 18.9, 18.4, 17.9, 17.4, 17.0, 16.7, 16.8, 17.5, 19.2, 21.0, 22.8,
		24.2, 25.4, 26.2, 26.7, 26.7, 26.4, 25.6, 24.5, 23.2, 21.9, 20.8, 20.0,
	}
	// loadHourEffect is the hour-of-day term (MW, hour 0 = 0) of the least
	// squares fit load = loadBase + loadCool·max(T−18,0) + loadHeat·max(14−T,0)
	// + loadHourEffect[h]; residual sd 3,659 MW, hourly lag-1 autocorrelation 0.95.
	loadHourEffect = [24]float64{
		0, -1404, -2242, -2642, -2405, -1117, 915, 2076, 3343, 4388, 4461, 4219,
		3992, 3965, 3971, 4053, 4362, 4748, 4919, 4710, 5146, 5188, 3831, 1899,
	}
)

// Load and temperature fit constants (see loadHourEffect).
const (
	tempMean     = 21.44 // °C, mean of tempHourMean
	loadBase     = 40627 // MW
	loadCool     = 1815  // MW per °C above 18 °C
	loadHeat     = 1387  // MW per °C below 14 °C
	loadResidSD  = 3659  // MW
	loadResidAR1 = 0.95
)

// System load targets, measured from the shared ERCOT day-ahead demand
// forecast 2024-01..2025-11 (16,800 hours).
const (
	// TargetLoadMean is the mean system load, MW.
	TargetLoadMean = 54800.56
	// TargetLoadMax is the highest hourly system load, MW.
	TargetLoadMax = 87054.55
)
