package eval

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/health"
)

// BenchmarkAssess10k assesses 10,000 miners' last 6 h of telemetry, polled
// every 5 min (72 samples each). The histories come from 250 emulated
// miners of every model, a third with a fault in its lead-up, each history
// shared by 40 miners to keep memory at a few MB:
//
//	go test ./health/eval/ -run XXX -bench Assess10k -benchtime 5x -benchmem
func BenchmarkAssess10k(b *testing.B) {
	const distinct, miners = 250, 10000
	hist := make([][]health.Sample, distinct)
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range hist {
		r := rand.New(rand.NewPCG(7, uint64(i)))
		pick := fleetModels[i%len(fleetModels)]
		spec, _ := physics.LookupModel(pick.key)
		m := physics.New(spec, pick.fw, 25, uint64(i))
		if i%3 == 0 {
			k := physics.FaultKinds[(i/3)%len(physics.FaultKinds)]
			if k == physics.FanWear && spec.Fans == 0 {
				k = physics.ChipDrop
			}
			fa := 6*3600 + physics.LeadUp[k]/2
			if err := m.AddFault(physics.Fault{Kind: k, FailAt: fa, Start: fa - physics.LeadUp[k]}); err != nil {
				b.Fatal(err)
			}
		}
		var tl physics.Telemetry
		for t := 300.0; t <= 6*3600; t += 300 {
			m.Step(300)
			m.Telemetry(&tl)
			hist[i] = append(hist[i], sample(&tl, m, pick.fw, epoch.Add(time.Duration(t)*time.Second), r, 0.005))
		}
	}
	b.ResetTimer()
	alarms := 0
	for b.Loop() {
		alarms = 0
		for j := range miners {
			a, err := health.Assess(hist[j%distinct])
			if err != nil {
				b.Fatal(err)
			}
			if a.Alarm {
				alarms++
			}
		}
	}
	b.ReportMetric(float64(alarms), "alarms")
}
