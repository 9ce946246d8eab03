package store

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// MinerSample is one poll of one miner. NaN in a float field means the miner
// did not report it; it is stored as NULL and skipped by rollups.
type MinerSample struct {
	Time        time.Time
	MinerID     string
	HashrateTHs float64
	PowerW      float64
	InletC      float64
	ChipC       float64 // hottest chip or board
	FanRPM      float64 // mean of the fans that report
	State       string  // e.g. hashing, sleeping, waking, offline, fault
	Errors      string  // decoded error codes, comma-separated; empty when healthy
}

// GPUSample is one poll of one GPU.
type GPUSample struct {
	Time        time.Time
	GPUID       string // UUID when known, else source/index
	Source      string
	UtilPct     float64
	PowerW      float64
	TempC       float64
	MemUsedMiB  float64
	MemTotalMiB float64
}

// SiteSample is the site-level state at one instant: power by workload
// against the interconnect cap, and the prices the decision used.
type SiteSample struct {
	Time         time.Time
	MiningMW     float64
	AIMW         float64
	GridMW       float64 // energy resold to the grid (PPA sites)
	CurtailedMW  float64 // capacity deliberately left idle
	CapMW        float64
	PriceUSDMWh  float64
	HashpriceUSD float64 // $/TH/day
}

// Resolution selects raw samples or a rollup.
type Resolution string

// Resolutions a SeriesQuery accepts.
const (
	Raw    Resolution = "raw"
	Minute Resolution = "1m"
	Hour   Resolution = "1h"
)

// Kind is what a series is about.
type Kind string

// Kinds of series.
const (
	KindSite  Kind = "site"
	KindMiner Kind = "miner"
	KindGPU   Kind = "gpu"
)

// SeriesQuery asks for one metric over [From, To). ID names the miner or GPU
// (ignored for site series). For rollups the value is the bucket mean (the
// maximum for temperatures); Point.N is the number of raw samples behind it.
type SeriesQuery struct {
	Kind       Kind
	ID         string
	Metric     string
	Resolution Resolution
	From, To   time.Time
	Limit      int // 0: MaxLimit points
}

// Point is one value of a series.
type Point struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
	N     int64     `json:"n,omitempty"`
}

// metricSpec maps a public metric name to its column and how a rollup
// combines it (mean or max).
type metricSpec struct {
	Column string
	Max    bool
}

var metrics = map[Kind]map[string]metricSpec{
	KindSite: {
		"mining_mw":    {Column: "mining_mw"},
		"ai_mw":        {Column: "ai_mw"},
		"grid_mw":      {Column: "grid_mw"},
		"curtailed_mw": {Column: "curtailed_mw"},
		"cap_mw":       {Column: "cap_mw"},
		"price":        {Column: "price"},
		"hashprice":    {Column: "hashprice"},
	},
	KindMiner: {
		"hashrate_ths": {Column: "hashrate_ths"},
		"power_w":      {Column: "power_w"},
		"inlet_c":      {Column: "inlet_c", Max: true},
		"chip_c":       {Column: "chip_c", Max: true},
		"fan_rpm":      {Column: "fan_rpm"},
	},
	KindGPU: {
		"util_pct": {Column: "util_pct"},
		"power_w":  {Column: "power_w"},
		"temp_c":   {Column: "temp_c", Max: true},
		"mem_used": {Column: "mem_used_mib"},
	},
}

// Metrics lists the metric names a kind of series offers, sorted.
func Metrics(k Kind) []string {
	var out []string
	for m := range metrics[k] {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// MetricColumn validates q and returns the column holding its metric. It is
// exported for the implementations; the mapping is a whitelist, so user input
// never reaches SQL text.
func MetricColumn(q SeriesQuery) (string, error) {
	ms, ok := metrics[q.Kind]
	if !ok {
		return "", fmt.Errorf("%w: kind %q (want site, miner or gpu)", ErrInvalid, q.Kind)
	}
	spec, ok := ms[q.Metric]
	if !ok {
		return "", fmt.Errorf("%w: metric %q for kind %s (want one of %v)", ErrInvalid, q.Metric, q.Kind, Metrics(q.Kind))
	}
	switch q.Resolution {
	case Raw, Minute, Hour:
	default:
		return "", fmt.Errorf("%w: resolution %q (want raw, 1m or 1h)", ErrInvalid, q.Resolution)
	}
	if q.Kind != KindSite && q.ID == "" {
		return "", fmt.Errorf("%w: id is required for %s series", ErrInvalid, q.Kind)
	}
	if !q.To.IsZero() && !q.From.IsZero() && q.To.Before(q.From) {
		return "", fmt.Errorf("%w: to %s is before from %s", ErrInvalid, q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	if q.Resolution == Raw {
		return spec.Column, nil
	}
	if spec.Max {
		return spec.Column + "_max", nil
	}
	return spec.Column + "_avg", nil
}

// Millis converts a time to the integer milliseconds the schemas store.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis is the inverse of Millis, in UTC.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Nullable turns NaN and ±Inf into nil so they are stored as NULL.
func Nullable(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}
