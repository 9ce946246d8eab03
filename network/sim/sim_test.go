package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func small() Config {
	c := DefaultConfig()
	c.Hosts, c.Epochs, c.CalibrationRequests = 120, 12, 6
	return c
}

func run(t *testing.T, c Config) *Result {
	t.Helper()
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeterministicBySeed(t *testing.T) {
	enc := func(r *Result) []byte {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := enc(run(t, small())), enc(run(t, small()))
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with one seed differ")
	}
	c := small()
	c.Seed = 2
	if bytes.Equal(a, enc(run(t, c))) {
		t.Fatal("another seed gave the same report")
	}
}

func TestCatchesCheaters(t *testing.T) {
	for _, seed := range []uint64{1, 7, 42} {
		c := small()
		c.Seed = seed
		r := run(t, c)
		if r.DetectionRate < 0.9 {
			t.Errorf("seed %d: detection rate %.2f, want ≥ 0.9", seed, r.DetectionRate)
		}
		if r.FalseConvictions != 0 {
			t.Errorf("seed %d: %d honest hosts convicted", seed, r.FalseConvictions)
		}
		// Honest hosts earn at least their share of the real compute
		// (lazy validators keep the pay for their own real proof work,
		// as in the ledger, so 1 − honest share is not all cheating).
		honest := r.Behaviours[0]
		if r.Joule.HonestComputeShare < honest.ComputeShare || r.Joule.HonestComputeShare <= r.Baseline.HonestComputeShare {
			t.Errorf("seed %d: honest reward share %.3f for %.3f of compute (baseline %.3f), want ≥ its compute share and above baseline",
				seed, r.Joule.HonestComputeShare, honest.ComputeShare, r.Baseline.HonestComputeShare)
		}
		// The baseline pays miners 41 % of each pot, less the split's
		// rounding dust (which goes to the owner).
		if c := r.Baseline.ComputeShare; c > 0.41 || c < 0.409 || r.Baseline.HonestComputeShare > c {
			t.Errorf("seed %d: baseline compute share %.4f (honest %.4f), want in [0.409, 0.41] and ≥ honest",
				seed, c, r.Baseline.HonestComputeShare)
		}
		for _, b := range r.Behaviours {
			if b.Behaviour != "honest" && b.RewardShare > b.ComputeShare+0.005 {
				t.Errorf("seed %d: %s earned %.3f of rewards for %.3f of compute", seed, b.Behaviour, b.RewardShare, b.ComputeShare)
			}
		}
	}
}

// TestAccounting: every unit minted or paid by requesters ends up paid to a
// host, in the pool or refunded; slashing adds burned + pool from stakes.
func TestAccounting(t *testing.T) {
	r := run(t, small())
	tt := r.Totals
	in := tt.Minted + tt.FeesRequested
	out := tt.PaidToHosts + (tt.Pool - tt.SlashedToPool) + tt.RefundedFees
	if in != out {
		t.Fatalf("minted %d + fees %d = %d, but paid %d + pool %d + refunded %d = %d",
			tt.Minted, tt.FeesRequested, in, tt.PaidToHosts, tt.Pool-tt.SlashedToPool, tt.RefundedFees, out)
	}
	if tt.Burned == 0 || tt.SlashedToPool == 0 {
		t.Fatal("convictions slashed nothing")
	}
}

func TestNoCheaters(t *testing.T) {
	c := small()
	c.CheaterPPM = 0
	r := run(t, c)
	if r.Cheaters != 0 || r.FalseConvictions != 0 || r.DetectionRate != 0 {
		t.Fatalf("cheaters %d, false convictions %d, detection %.2f", r.Cheaters, r.FalseConvictions, r.DetectionRate)
	}
	if r.Joule.HonestComputeShare != 1 {
		t.Fatalf("honest share %.4f, want 1", r.Joule.HonestComputeShare)
	}
}

var badConfigs = []struct {
	name string
	edit func(*Config)
}{
	{"too few hosts", func(c *Config) { c.Hosts = 5 }},
	{"no epochs", func(c *Config) { c.Epochs = 0 }},
	{"all cheaters", func(c *Config) { c.CheaterPPM = 950_000 }},
	{"no samples", func(c *Config) { c.Samples = 0 }},
	{"bad test", func(c *Config) { c.Inference.AlphaPPM = 0 }},
}

func TestConfigValidate(t *testing.T) {
	for _, b := range badConfigs {
		c := small()
		b.edit(&c)
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", b.name, err)
		}
	}
}

func TestGini(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want float64
	}{
		{[]float64{1, 1, 1, 1}, 0},
		{[]float64{0, 0, 0, 4}, 0.75},
		{[]float64{1, 2, 3, 4}, 0.25},
	} {
		if got := gini(c.v); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("gini(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestSubtleCheaters: cautious cheaters are caught more slowly, but honest
// hosts are still never convicted, and no cheating behaviour out-earns its
// compute share.
func TestSubtleCheaters(t *testing.T) {
	c := small()
	c.Subtle = true
	r := run(t, c)
	if r.FalseConvictions != 0 {
		t.Fatalf("%d honest hosts convicted", r.FalseConvictions)
	}
	for _, b := range r.Behaviours {
		if b.Behaviour == "fake_nonces" && b.Convicted != b.Hosts {
			t.Errorf("only %d of %d subtle nonce fakers caught in %d epochs", b.Convicted, b.Hosts, c.Epochs)
		}
		if b.Behaviour != "honest" && b.RewardShare > b.ComputeShare+0.005 {
			t.Errorf("%s earned %.3f of rewards for %.3f of compute", b.Behaviour, b.RewardShare, b.ComputeShare)
		}
	}
}
