package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

func TestParseFaultSpec(t *testing.T) {
	f, err := NewFleet(Config{Count: 3, Mix: "s19jpro:stock", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Hour)
	for _, tc := range []struct {
		spec          string
		kind          physics.FaultKind
		start, failAt float64
		target        int
		mode          physics.NetMode
		err           string
	}{
		{spec: "m00002:fan_wear:48h", kind: physics.FanWear, start: 3600 + 12*3600, failAt: 3600 + 48*3600},
		{spec: "0:chip_drop:2h:1h:2", kind: physics.ChipDrop, start: 3600 + 3600, failAt: 3600 + 7200, target: 2},
		{spec: "2:network_timeout:10m:5m:drop", kind: physics.NetworkTimeout, start: 3600 + 300, failAt: 3600 + 600, mode: physics.NetDrop},
		{spec: "m00001:network_timeout:0s:0s:cut", kind: physics.NetworkTimeout, start: 3600, failAt: 3600, mode: physics.NetCut},
		{spec: "m00009:fan_wear:1h", err: `no such miner`},
		{spec: "1:fan_war:1h", err: `unknown fault "fan_war"`},
		{spec: "1:psu_failure:soon", err: `fail-in "soon"`},
		{spec: "1:psu_failure:1h:x", err: `lead-up "x"`},
		{spec: "1:chip_drop:1h:1h:9", err: `target "9"`},
		{spec: "1:chip_drop", err: "want miner:kind:fail-in"},
	} {
		fs, err := ParseFaultSpec(tc.spec)
		if err == nil {
			err = f.Schedule(fs)
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want containing %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		i, _ := f.indexOf(fs.Miner)
		got := f.Faults(i)
		last := got[len(got)-1]
		if last.Kind != tc.kind || last.Start != tc.start || last.FailAt != tc.failAt || last.Target != tc.target || last.Mode != tc.mode {
			t.Errorf("%q scheduled %+v, want kind %s start %.0f fail %.0f target %d mode %d", tc.spec, last, tc.kind, tc.start, tc.failAt, tc.target, tc.mode)
		}
	}
}

func FuzzParseFaultSpec(f *testing.F) {
	for _, s := range []string{"m00002:fan_wear:48h", "0:chip_drop:2h:1h:2", "2:network_timeout:10m:5m:drop", ":::", "a:b:c:d:e:f", "1:hw_errors:-1h"} {
		f.Add(s)
	}
	fl, err := NewFleet(Config{Count: 2, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFaultSpec(s)
		if err != nil {
			return
		}
		_ = fl.Schedule(fs)
	})
}
