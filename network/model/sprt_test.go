package model

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestSPRTDefaults(t *testing.T) {
	s := DefaultSPRT()
	if s.FailStep <= 0 || s.PassStep >= 0 || s.Upper <= 0 || s.Lower >= 0 {
		t.Fatalf("signs wrong: %+v", s)
	}
	// log2(0.2/0.01) = log2 20 ≈ 4.32 bits.
	if got := float64(s.FailStep) / LPOne; got < 4.31 || got > 4.33 {
		t.Fatalf("FailStep = %.4f bits, want ≈ 4.32", got)
	}
}

func TestSPRTConfigErrors(t *testing.T) {
	for _, edit := range []func(*SPRTConfig){
		func(c *SPRTConfig) { c.HonestFailPPM = 0 },
		func(c *SPRTConfig) { c.CheatFailPPM = c.HonestFailPPM },
		func(c *SPRTConfig) { c.AlphaPPM = 0 },
		func(c *SPRTConfig) { c.BetaPPM = 600_000 },
		func(c *SPRTConfig) { c.MinRatePPM = c.MaxRatePPM + 1 },
	} {
		c := DefaultSPRTConfig()
		edit(&c)
		if _, err := NewSPRT(c); !errors.Is(err, ErrSPRTParams) {
			t.Fatalf("%+v: err = %v", c, err)
		}
	}
}

func TestSPRTMinimumSamples(t *testing.T) {
	s := DefaultSPRT()
	var tr Tracker
	for range s.MinSamples - 1 {
		tr = s.Observe(tr, false)
	}
	if tr.Convicted {
		t.Fatalf("convicted after %d samples, minimum is %d", tr.Samples, s.MinSamples)
	}
	tr = s.Observe(tr, false)
	if !tr.Convicted {
		t.Fatalf("not convicted after %d failures", tr.Samples)
	}
	if s.Observe(tr, true) != tr {
		t.Fatal("conviction is not sticky")
	}
}

// TestSPRTErrorRates runs many honest and cheating hosts through the test:
// honest hosts (1 % failures) are essentially never convicted over 2000
// validations; cheaters (30 % failures) are convicted, quickly.
func TestSPRTErrorRates(t *testing.T) {
	s := DefaultSPRT()
	rng := rand.New(rand.NewPCG(1, 2))
	run := func(failRate float64, n int) (convicted bool, at uint32) {
		var tr Tracker
		for range n {
			tr = s.Observe(tr, rng.Float64() >= failRate)
			if tr.Convicted {
				return true, tr.Samples
			}
		}
		return false, 0
	}
	honestConv := 0
	for range 500 {
		if c, _ := run(0.01, 2000); c {
			honestConv++
		}
	}
	if honestConv > 2 {
		t.Fatalf("%d of 500 honest hosts convicted", honestConv)
	}
	var total uint32
	for i := range 500 {
		c, at := run(0.3, 2000)
		if !c {
			t.Fatalf("cheater %d never convicted", i)
		}
		total += at
	}
	if mean := float64(total) / 500; mean > 60 {
		t.Fatalf("cheaters convicted after %.1f validations on average, want ≤ 60", mean)
	}
}

func TestSPRTRateFallsWithReputation(t *testing.T) {
	s := DefaultSPRT()
	var tr Tracker
	if s.RatePPM(tr) != s.MaxRatePPM {
		t.Fatal("new host not validated at the max rate")
	}
	prev := s.MaxRatePPM
	for range 100 {
		tr = s.Observe(tr, true)
	}
	if r := s.RatePPM(tr); r != s.MinRatePPM {
		t.Fatalf("rate after 100 passes = %d, want floor %d", r, s.MinRatePPM)
	}
	tr = s.Observe(tr, false)
	if r := s.RatePPM(tr); r <= s.MinRatePPM || r >= prev {
		t.Fatalf("rate after a failure = %d, want between floor and max", r)
	}
	if !s.ShouldValidate(Tracker{}, 0xffffffff) || s.ShouldValidate(Tracker{Samples: 100, LLR: s.Lower}, 0xffffffff) {
		t.Fatal("ShouldValidate boundaries wrong")
	}
}
