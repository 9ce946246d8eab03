package reward

import (
	"errors"
	"math"
	"testing"
)

func TestScheduleMint(t *testing.T) {
	s := Schedule{Initial: 1000, HalvingEpochs: 10}
	cases := []struct{ e, want uint64 }{
		{0, 1000}, {5, 750}, {9, 550}, {10, 500}, {15, 375}, {20, 250}, {10 * 70, 0},
	}
	for _, c := range cases {
		if got := s.Mint(c.e); got != c.want {
			t.Errorf("Mint(%d) = %d, want %d", c.e, got, c.want)
		}
	}
	for e := uint64(1); e < 200; e++ {
		if s.Mint(e) > s.Mint(e-1) {
			t.Fatalf("mint rises at epoch %d", e)
		}
	}
	if (Schedule{Initial: 7}).Mint(1e9) != 7 {
		t.Fatal("HalvingEpochs 0 should be a flat mint")
	}
}

func TestWeight(t *testing.T) {
	cases := []struct {
		w    Work
		cap  uint64
		want uint64
	}{
		{Work{VerifiedNonces: 1000, AvailabilityPPM: PPM}, 0, 1000},
		{Work{VerifiedNonces: 1000, AvailabilityPPM: PPM / 2}, 0, 500},
		{Work{VerifiedNonces: 1000, AvailabilityPPM: PPM}, 600, 600},
		{Work{VerifiedNonces: 1000, AvailabilityPPM: 2 * PPM}, 0, 1000},
		{Work{VerifiedNonces: 1000, AvailabilityPPM: PPM, Excluded: true}, 0, 0},
		{Work{VerifiedNonces: math.MaxUint64, AvailabilityPPM: PPM}, 0, math.MaxUint64},
	}
	for i, c := range cases {
		if got := Weight(c.w, c.cap); got != c.want {
			t.Errorf("case %d: Weight = %d, want %d", i, got, c.want)
		}
	}
}

func TestSplitConserves(t *testing.T) {
	cases := []struct {
		amount  uint64
		weights []uint64
	}{
		{100, []uint64{1, 1, 1}},
		{1_000_000_007, []uint64{3, 5, 7, 11, 0}},
		{math.MaxUint64, []uint64{1 << 60, 1 << 61, 12345}},
		{5, nil},
		{5, []uint64{0, 0}},
	}
	for i, c := range cases {
		shares, dust, err := Split(c.amount, c.weights)
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, s := range shares {
			sum += s
		}
		if sum+dust != c.amount || dust > uint64(len(c.weights)) && len(c.weights) > 0 && sum > 0 {
			t.Errorf("case %d: shares %v + dust %d != %d", i, shares, dust, c.amount)
		}
	}
	// Proportionality: 2:1 weights get 2:1 shares.
	s, _, _ := Split(300, []uint64{2, 1})
	if s[0] != 200 || s[1] != 100 {
		t.Fatalf("shares %v, want [200 100]", s)
	}
	if _, _, err := Split(1, []uint64{math.MaxUint64, 1}); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow: err = %v", err)
	}
}

// A convicted (excluded) host's weight goes to zero and everyone else's
// share rises: exclusion never raises the cheater's share.
func TestExclusionNeverHelpsCheater(t *testing.T) {
	hosts := []Work{{VerifiedNonces: 100, AvailabilityPPM: PPM}, {VerifiedNonces: 100, AvailabilityPPM: PPM}}
	before, _, _ := SplitMint(1000, hosts, 0)
	hosts[1].Excluded = true
	after, _, _ := SplitMint(1000, hosts, 0)
	if after[1] != 0 || after[0] <= before[0] {
		t.Fatalf("before %v after %v", before, after)
	}
}

func TestFeeAndSlash(t *testing.T) {
	f := DefaultFeeSplit()
	exec, each, dust := f.Fee(1001, 3)
	if exec+3*each+dust != 1001 || exec != 901 || each != 33 || dust != 1 {
		t.Fatalf("Fee(1001, 3) = %d, %d, %d", exec, each, dust)
	}
	if e, v, d := f.Fee(50, 0); e != 50 || v != 0 || d != 0 {
		t.Fatalf("unvalidated fee split %d %d %d", e, v, d)
	}
	burned, pool, rest := Slash(1000, 5000, 5000)
	if burned != 250 || pool != 250 || rest != 500 {
		t.Fatalf("Slash = %d %d %d", burned, pool, rest)
	}
	if b, p, r := Slash(1000, 20000, 20000); b != 1000 || p != 0 || r != 0 {
		t.Fatalf("over-100%% slash = %d %d %d", b, p, r)
	}
}

func TestValidationShare(t *testing.T) {
	cases := []struct{ pot, slots, units, want, got uint64 }{
		{1000, 4, 32, 32, 250}, // full vote: an equal slot share
		{1000, 4, 16, 32, 125}, // half the leaves answered
		{1000, 4, 0, 32, 0},    // missed or invalid vote
		{1000, 3, 40, 32, 333}, // units capped at want; flooring dust unpaid
		{1000, 0, 1, 1, 0},
		{^uint64(0), 2, 1, 1, ^uint64(0) / 2},
	}
	for _, c := range cases {
		if got := ValidationShare(c.pot, c.slots, c.units, c.want); got != c.got {
			t.Errorf("ValidationShare(%d, %d, %d, %d) = %d, want %d", c.pot, c.slots, c.units, c.want, got, c.got)
		}
	}
}
