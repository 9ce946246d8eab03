package site

import (
	"math"
	"testing"
	"time"
)

var coolingCases = []struct {
	name  string
	c     Cooling
	tempC float64
	want  float64
}{
	{"no derate configured", Cooling{AboveC: 30}, 45, 1},
	{"temperature unknown", Cooling{AboveC: 30, DeratePerC: 0.1, MinFraction: 0.2}, math.NaN(), 1},
	{"at the threshold", Cooling{AboveC: 30, DeratePerC: 0.1, MinFraction: 0.2}, 30, 1},
	{"5 °C above at 10 %/°C", Cooling{AboveC: 30, DeratePerC: 0.1, MinFraction: 0.2}, 35, 0.5},
	{"floored at min_fraction", Cooling{AboveC: 30, DeratePerC: 0.1, MinFraction: 0.2}, 45, 0.2},
}

func TestCoolingFraction(t *testing.T) {
	for _, tc := range coolingCases {
		if got := tc.c.Fraction(tc.tempC); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: Fraction(%v) = %v, want %v", tc.name, tc.tempC, got, tc.want)
		}
	}
}

func TestVolume(t *testing.T) {
	for _, tc := range []struct {
		c    Contract
		want float64
	}{
		{Contract{Kind: ContractSpot, MW: 5}, 0},
		{Contract{Kind: ContractPPA, MW: 5}, 5},
		{Contract{Kind: ContractPPA}, 20}, // zero volume means the interconnect
	} {
		s := &Site{InterconnectMW: 20, Contract: tc.c}
		if got := s.Volume(); got != tc.want {
			t.Errorf("Volume of %+v = %v, want %v", tc.c, got, tc.want)
		}
	}
}

// TestFixedAndMaxMW: 10 miners (20 W asleep, up to 3,500 W) and 4 GPUs
// (1 firm at 1,000 W, 3 idle at 100 W) draw 0.0005 MW at rest and
// 0.039 MW flat out.
func TestFixedAndMaxMW(t *testing.T) {
	s := &Site{
		Tiers: []Tier{{Name: "a", Count: 10, SleepW: 20,
			Profiles: []Profile{{Name: "stock", THs: 100, W: 3000}, {Name: "oc", THs: 110, W: 3500}}}},
		GPUPools: []GPUPool{{Name: "g", Count: 4, LoadW: 1000, IdleW: 100, Firm: FirmLease{GPUs: 1}}},
	}
	if got, want := s.FixedMW(), (10*20+1*1000+3*100)/1e6; math.Abs(got-want) > 1e-15 {
		t.Errorf("FixedMW = %v, want %v", got, want)
	}
	if got, want := s.MaxMW(), (10*3500+4*1000)/1e6; math.Abs(got-want) > 1e-15 {
		t.Errorf("MaxMW = %v, want %v", got, want)
	}
}

func TestInferenceDemandIsLocalHour(t *testing.T) {
	in := Inference{GPUsByHour: make([]float64, 24)}
	for h := range in.GPUsByHour {
		in.GPUsByHour[h] = float64(h)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 7, 1, 20, 0, 0, 0, time.UTC) // 15:00 CDT
	if got := in.Demand(at, chicago); got != 15 {
		t.Errorf("Demand at 20:00Z in Chicago = %v, want hour 15's 15 GPUs", got)
	}
	if got := (Inference{GPUsByHour: []float64{1, 2}}).Demand(at, time.UTC); got != 0 {
		t.Errorf("Demand with a malformed profile = %v, want 0", got)
	}
}
