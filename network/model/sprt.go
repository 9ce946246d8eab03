package model

import (
	"errors"
	"fmt"
)

// ErrSPRTParams is wrapped by NewSPRT's errors.
var ErrSPRTParams = errors.New("invalid sequential test parameters")

const ppm = 1_000_000

// SPRT is Wald's sequential probability ratio test over a host's validation
// outcomes, in fixed point (Q16 bits of log-likelihood ratio) so a ledger
// can store and apply it deterministically. H0: the host fails validations
// at rate p0 (honest: float jitter, outages); H1: at rate p1 (cheating).
// Each outcome adds log2(p1/p0) on a failure and log2((1−p1)/(1−p0)) (< 0)
// on a pass. The host is convicted when the sum reaches Upper =
// log2((1−β)/α) after at least MinSamples outcomes; the sum never falls
// below Lower = log2(β/(1−α)), so a long honest record cannot bank
// unlimited credit for later cheating. Build it with NewSPRT.
type SPRT struct {
	MinSamples uint32
	FailStep   int64 // Q16 bits added on a failed validation
	PassStep   int64 // Q16 bits added on a passed validation (negative)
	Upper      int64 // Q16 bits: convict at or above (after MinSamples)
	Lower      int64 // Q16 bits: floor of the running sum
	// Validation rate bounds in parts per million: MaxRatePPM while a host
	// has fewer than MinSamples outcomes, then falling linearly from
	// MaxRatePPM at Upper to MinRatePPM at Lower.
	MaxRatePPM, MinRatePPM uint32
}

// SPRTConfig are the human-facing parameters of the test; rates are parts
// per million.
type SPRTConfig struct {
	HonestFailPPM uint32 // p0
	CheatFailPPM  uint32 // p1 > p0
	AlphaPPM      uint32 // bound on wrongly convicting an honest host per test run
	BetaPPM       uint32 // bound on clearing a cheater
	MinSamples    uint32 // no conviction before this many outcomes
	MaxRatePPM    uint32 // validation rate of new or suspect hosts
	MinRatePPM    uint32 // validation rate of hosts with the best record
}

// DefaultSPRTConfig: honest hosts fail 1 % of validations, cheaters 20 %;
// α = 10⁻⁶, β = 10⁻³; at least 8 samples; validate every request of a new
// host, down to 2 % for a host with a long clean record.
func DefaultSPRTConfig() SPRTConfig {
	return SPRTConfig{
		HonestFailPPM: 10_000, CheatFailPPM: 200_000,
		AlphaPPM: 1, BetaPPM: 1_000, MinSamples: 8,
		MaxRatePPM: ppm, MinRatePPM: 20_000,
	}
}

// NewSPRT derives the integer test from cfg with integer logarithms only.
func NewSPRT(cfg SPRTConfig) (SPRT, error) {
	bad := func(f string, v uint32, why string) (SPRT, error) {
		return SPRT{}, fmt.Errorf("%w: %s = %d: %s", ErrSPRTParams, f, v, why)
	}
	switch {
	case cfg.HonestFailPPM == 0 || cfg.HonestFailPPM >= ppm:
		return bad("HonestFailPPM", cfg.HonestFailPPM, "want 1..999999")
	case cfg.CheatFailPPM <= cfg.HonestFailPPM || cfg.CheatFailPPM >= ppm:
		return bad("CheatFailPPM", cfg.CheatFailPPM, "want above HonestFailPPM and below 1000000")
	case cfg.AlphaPPM == 0 || cfg.AlphaPPM >= ppm/2:
		return bad("AlphaPPM", cfg.AlphaPPM, "want 1..499999")
	case cfg.BetaPPM == 0 || cfg.BetaPPM >= ppm/2:
		return bad("BetaPPM", cfg.BetaPPM, "want 1..499999")
	case cfg.MaxRatePPM > ppm || cfg.MinRatePPM > cfg.MaxRatePPM:
		return bad("MinRatePPM", cfg.MinRatePPM, "want MinRatePPM ≤ MaxRatePPM ≤ 1000000")
	}
	p0, p1 := uint64(cfg.HonestFailPPM), uint64(cfg.CheatFailPPM)
	a, b := uint64(cfg.AlphaPPM), uint64(cfg.BetaPPM)
	return SPRT{
		MinSamples: cfg.MinSamples,
		FailStep:   log2Ratio(p1, p0),
		PassStep:   log2Ratio(ppm-p1, ppm-p0),
		Upper:      log2Ratio(ppm-b, a),
		Lower:      log2Ratio(b, ppm-a),
		MaxRatePPM: cfg.MaxRatePPM, MinRatePPM: cfg.MinRatePPM,
	}, nil
}

// DefaultSPRT is NewSPRT(DefaultSPRTConfig()).
func DefaultSPRT() SPRT {
	s, err := NewSPRT(DefaultSPRTConfig())
	if err != nil {
		panic(err) // the defaults are valid by construction; tests cover them
	}
	return s
}

// log2Ratio returns log2(a/b) in Q16 for a, b > 0.
func log2Ratio(a, b uint64) int64 { return log2Q16(a) - log2Q16(b) }

// Tracker is one host's state in the test: plain integers, so the ledger
// can store it and apply SPRT.Observe as a pure transition.
type Tracker struct {
	Samples   uint32 // outcomes observed
	Failures  uint32 // failed outcomes observed
	LLR       int64  // running log-likelihood ratio, Q16 bits, ≥ Lower
	Convicted bool   // reached Upper; stays true
}

// Observe returns t after one validation outcome. A convicted tracker does
// not change.
func (s SPRT) Observe(t Tracker, passed bool) Tracker {
	if t.Convicted {
		return t
	}
	t.Samples++
	if passed {
		t.LLR += s.PassStep
	} else {
		t.Failures++
		t.LLR += s.FailStep
	}
	t.LLR = max(t.LLR, s.Lower)
	if t.LLR >= s.Upper && t.Samples >= s.MinSamples {
		t.Convicted = true
	}
	return t
}

// RatePPM returns the share of a host's requests to validate, in parts per
// million: MaxRatePPM until MinSamples outcomes, then linear in the LLR from
// MinRatePPM at Lower (long clean record) to MaxRatePPM at Upper.
func (s SPRT) RatePPM(t Tracker) uint32 {
	if t.Samples < s.MinSamples || t.Convicted || s.Upper <= s.Lower {
		return s.MaxRatePPM
	}
	span := s.Upper - s.Lower
	pos := min(max(t.LLR-s.Lower, 0), span)
	return s.MinRatePPM + uint32(int64(s.MaxRatePPM-s.MinRatePPM)*pos/span)
}

// ShouldValidate reports whether a request whose unpredictable draw (a
// uniform 32-bit value, e.g. from a block hash and the request id) is draw
// gets validated at t's current rate.
func (s SPRT) ShouldValidate(t Tracker, draw uint32) bool {
	return uint64(draw)*ppm < uint64(s.RatePPM(t))<<32
}

// DutySPRTConfig is the sequential test the ledger and the simulator apply
// per epoch to a host's proof openings (withheld or answered) and to a
// validator's duty (valid vote or a missed/invalid one): an honest party
// misses 2 % of epochs (outages), a withholder or lazy validator at least
// half; α = 10⁻⁶, β = 10⁻³, at least 3 outcomes. A miss adds log2(25) ≈
// 4.64 bits against a 19.93-bit threshold, so five misses in a row convict
// and a single one never does.
func DutySPRTConfig() SPRTConfig {
	return SPRTConfig{
		HonestFailPPM: 20_000, CheatFailPPM: 500_000,
		AlphaPPM: 1, BetaPPM: 1_000, MinSamples: 3,
		MaxRatePPM: ppm, MinRatePPM: ppm,
	}
}
