// Package gpu reads GPU telemetry — nvidia-smi CSV and DCGM exporter
// metrics — polls a list of GPU sources, and emulates a pool of H100s whose
// load follows an AI demand profile, for the demo and tests.
package gpu

import (
	"fmt"
	"math"
	"time"

	"github.com/jouleworks/joule/store"
)

// Sample is one reading of one GPU. Float fields are NaN when the source did
// not report them (nvidia-smi's [N/A], a metric the exporter was not
// configured to emit).
type Sample struct {
	Source      string  `json:"source"`
	Index       int     `json:"index"`
	UUID        string  `json:"uuid"`
	Name        string  `json:"name"`
	Host        string  `json:"host,omitempty"`
	UtilPct     float64 `json:"util_pct"`
	PowerW      float64 `json:"power_w"`
	PowerLimitW float64 `json:"power_limit_w"`
	TempC       float64 `json:"temp_c"`
	MemUsedMiB  float64 `json:"mem_used_mib"`
	MemTotalMiB float64 `json:"mem_total_mib"`
}

func blank() Sample {
	n := math.NaN()
	return Sample{Index: -1, UtilPct: n, PowerW: n, PowerLimitW: n, TempC: n, MemUsedMiB: n, MemTotalMiB: n}
}

// ID names the GPU: its UUID, or source/host/index when no UUID was given.
func (s Sample) ID() string {
	if s.UUID != "" {
		return s.UUID
	}
	if s.Host != "" {
		return fmt.Sprintf("%s/%s/%d", s.Source, s.Host, s.Index)
	}
	return fmt.Sprintf("%s/%d", s.Source, s.Index)
}

// Store converts the sample for store.TelemetryWriter.WriteGPUSamples.
func (s Sample) Store(at time.Time) store.GPUSample {
	return store.GPUSample{Time: at, GPUID: s.ID(), Source: s.Source, UtilPct: s.UtilPct, PowerW: s.PowerW,
		TempC: s.TempC, MemUsedMiB: s.MemUsedMiB, MemTotalMiB: s.MemTotalMiB}
}

// TotalPowerW sums the power of the samples that report it.
func TotalPowerW(s []Sample) float64 {
	var w float64
	for _, x := range s {
		if !math.IsNaN(x.PowerW) {
			w += x.PowerW
		}
	}
	return w
}
