package gpu

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// DCGM field names as exported by NVIDIA's dcgm-exporter.
const (
	DCGMUtil       = "DCGM_FI_DEV_GPU_UTIL"         // %
	DCGMPower      = "DCGM_FI_DEV_POWER_USAGE"      // W
	DCGMPowerLimit = "DCGM_FI_DEV_POWER_MGMT_LIMIT" // W
	DCGMTemp       = "DCGM_FI_DEV_GPU_TEMP"         // °C
	DCGMFBUsed     = "DCGM_FI_DEV_FB_USED"          // MiB
	DCGMFBFree     = "DCGM_FI_DEV_FB_FREE"          // MiB
	DCGMFBReserved = "DCGM_FI_DEV_FB_RESERVED"      // MiB
)

// ParseDCGM reads a dcgm-exporter /metrics page (Prometheus text format) and
// returns one sample per GPU, keyed by its UUID label (or gpu index), in
// index order. Metric families it does not use are ignored. Memory total is
// FB used + free (+ reserved when exported).
func ParseDCGM(r io.Reader, source string) ([]Sample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, &ParseError{File: source, Err: err}
	}
	byKey := map[string]*Sample{}
	var fbFree, fbRes = map[string]float64{}, map[string]float64{}
	for _, name := range []string{DCGMUtil, DCGMPower, DCGMPowerLimit, DCGMTemp, DCGMFBUsed, DCGMFBFree, DCGMFBReserved} {
		fam, ok := fams[name]
		if !ok {
			continue
		}
		for _, m := range fam.GetMetric() {
			v, ok := value(m)
			if !ok {
				continue
			}
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			idx := -1
			if g, ok := labels["gpu"]; ok {
				n, err := strconv.Atoi(g)
				if err != nil || n < 0 {
					return nil, &ParseError{File: source, Field: name + `{gpu}`, Value: g, Err: fmt.Errorf("want a GPU index ≥ 0")}
				}
				idx = n
			}
			uuid := labels["UUID"]
			if uuid == "" && idx < 0 {
				return nil, &ParseError{File: source, Field: name, Err: fmt.Errorf("%w: sample has neither a gpu nor a UUID label", ErrFormat)}
			}
			key := labels["Hostname"] + "/" + uuid
			if uuid == "" {
				key = labels["Hostname"] + "/#" + strconv.Itoa(idx)
			}
			s := byKey[key]
			if s == nil {
				b := blank()
				b.Source, b.Index, b.UUID, b.Name, b.Host = source, idx, uuid, labels["modelName"], labels["Hostname"]
				s = &b
				byKey[key] = s
			}
			switch name {
			case DCGMUtil:
				s.UtilPct = v
			case DCGMPower:
				s.PowerW = v
			case DCGMPowerLimit:
				s.PowerLimitW = v
			case DCGMTemp:
				s.TempC = v
			case DCGMFBUsed:
				s.MemUsedMiB = v
			case DCGMFBFree:
				fbFree[key] = v
			case DCGMFBReserved:
				fbRes[key] = v
			}
		}
	}
	out := make([]Sample, 0, len(byKey))
	for key, s := range byKey {
		if free, ok := fbFree[key]; ok && !math.IsNaN(s.MemUsedMiB) {
			s.MemTotalMiB = s.MemUsedMiB + free + fbRes[key]
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		if out[i].Index != out[j].Index {
			return out[i].Index < out[j].Index
		}
		return out[i].UUID < out[j].UUID
	})
	return out, nil
}

func value(m *dto.Metric) (float64, bool) {
	var v float64
	switch {
	case m.Gauge != nil:
		v = m.Gauge.GetValue()
	case m.Counter != nil:
		v = m.Counter.GetValue()
	case m.Untyped != nil:
		v = m.Untyped.GetValue()
	default:
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
