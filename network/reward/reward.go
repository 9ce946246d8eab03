// Package reward holds the network's payout rules as pure integer
// functions, so the ledger (in consensus) and the simulator (in reports)
// apply exactly the same arithmetic: the decaying mint schedule, the split
// of each epoch's mint by verified proof weight × confirmed availability,
// the split of a requester's fee between executor and validators, and
// slashing. Amounts are in the ledger's smallest unit. Every split returns
// its rounding dust explicitly so nothing is created or lost.
package reward

import (
	"errors"
	"fmt"
	"math/bits"
)

// PPM is one million parts per million (availability, rates).
const PPM = 1_000_000

// BPS is ten thousand basis points (fee and slash shares).
const BPS = 10_000

// ErrOverflow means a sum of weights does not fit in 64 bits.
var ErrOverflow = errors.New("reward weights overflow uint64")

// Schedule is the per-epoch mint: Initial in epoch 0, halving every
// HalvingEpochs epochs, falling linearly within each halving period so there
// is no cliff: Mint(e) = I·2^-h − (I·2^-(h+1))·r/H where h = e div H and
// r = e mod H, all in integer division.
type Schedule struct {
	Initial       uint64
	HalvingEpochs uint64
}

// Mint returns the amount minted in epoch e.
func (s Schedule) Mint(e uint64) uint64 {
	if s.HalvingEpochs == 0 {
		return s.Initial
	}
	h, r := e/s.HalvingEpochs, e%s.HalvingEpochs
	if h >= 64 {
		return 0
	}
	base := s.Initial >> h
	drop := mulDiv(base>>1, r, s.HalvingEpochs)
	return base - drop
}

// Work is one host's verified contribution in an epoch.
type Work struct {
	VerifiedNonces  uint64 // nonces proven by passed sampling, 0 if it failed
	AvailabilityPPM uint32 // share of the epoch's probes answered, ≤ PPM
	Excluded        bool   // convicted or slashed: weight 0
}

// Weight returns a host's mint weight: min(VerifiedNonces, capNonces) ×
// AvailabilityPPM / PPM (integer division), 0 when excluded. capNonces = 0
// means no cap.
func Weight(w Work, capNonces uint64) uint64 {
	if w.Excluded {
		return 0
	}
	n := w.VerifiedNonces
	if capNonces > 0 {
		n = min(n, capNonces)
	}
	return mulDiv(n, uint64(min(w.AvailabilityPPM, PPM)), PPM)
}

// Split divides amount in proportion to weights: share_i = ⌊amount·w_i/W⌋
// with W = Σw, computed in 128-bit intermediate precision. dust = amount −
// Σshare_i (< len(weights)) is returned for the caller to send to the pool.
// With W = 0 every share is 0 and all of amount is dust.
func Split(amount uint64, weights []uint64) (shares []uint64, dust uint64, err error) {
	var total uint64
	for i, w := range weights {
		var c uint64
		total, c = bits.Add64(total, w, 0)
		if c != 0 {
			return nil, 0, fmt.Errorf("split %d ways: sum overflows at weight %d: %w", len(weights), i, ErrOverflow)
		}
	}
	shares = make([]uint64, len(weights))
	if total == 0 {
		return shares, amount, nil
	}
	paid := uint64(0)
	for i, w := range weights {
		shares[i] = mulDiv(amount, w, total)
		paid += shares[i]
	}
	return shares, amount - paid, nil
}

// SplitMint is Split over Weight of each host.
func SplitMint(amount uint64, hosts []Work, capNonces uint64) (shares []uint64, dust uint64, err error) {
	w := make([]uint64, len(hosts))
	for i, h := range hosts {
		w[i] = Weight(h, capNonces)
	}
	return Split(amount, w)
}

// FeeSplit is how a validated request's fee is divided.
type FeeSplit struct {
	// ValidatorBPS is the share of the fee for the request's validators
	// together (split equally); the executor gets the rest.
	ValidatorBPS uint32
}

// DefaultFeeSplit pays 10 % of a validated request's fee to its validators.
func DefaultFeeSplit() FeeSplit { return FeeSplit{ValidatorBPS: 1_000} }

// Fee splits fee between the executor and n validators: the validators'
// pool is ⌊fee·ValidatorBPS/BPS⌋ divided equally; the executor gets
// fee − pool; the pool's remainder after equal division is dust. With n = 0
// (the request was not validated) the executor gets everything.
func (f FeeSplit) Fee(fee uint64, n int) (executor, perValidator, dust uint64) {
	if n <= 0 {
		return fee, 0, 0
	}
	pool := mulDiv(fee, uint64(min(f.ValidatorBPS, BPS)), BPS)
	perValidator = pool / uint64(n)
	dust = pool - perValidator*uint64(n)
	return fee - pool, perValidator, dust
}

// Slash takes ⌊stake·slashBPS/BPS⌋ from a convicted host; burnBPS of that
// (⌊·⌋) is burned and the rest goes to the community pool. Nothing goes to
// any party that could be the cheater, so a penalty never raises a
// cheater's share. It returns what remains of the stake.
func Slash(stake uint64, slashBPS, burnBPS uint32) (burned, pool, remaining uint64) {
	taken := mulDiv(stake, uint64(min(slashBPS, BPS)), BPS)
	burned = mulDiv(taken, uint64(min(burnBPS, BPS)), BPS)
	return burned, taken - burned, stake - taken
}

// mulDiv returns ⌊a·b/c⌋ for c > 0 with a 128-bit intermediate; the result
// must fit in 64 bits, which holds whenever b ≤ c.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		// Only reachable when b > c; saturate rather than panic.
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// ValidationShare is one assigned validator slot's pay from an epoch's
// validation pot: the pot is divided equally over slots (every host's k
// assigned validators), and a slot whose vote verified units of want
// sampled leaves earns ⌊pot·units/(slots·want)⌋ (units capped at want). A
// missed or invalid vote has units 0. What a slot does not earn is paid to
// no one, so a lazy validator's loss never raises another party's share.
func ValidationShare(pot, slots, units, want uint64) uint64 {
	if slots == 0 || want == 0 {
		return 0
	}
	if hi, _ := bits.Mul64(slots, want); hi != 0 {
		return 0
	}
	hi, lo := bits.Mul64(pot, min(units, want))
	d := slots * want
	if hi >= d {
		return 0 // unreachable: pot·units/(slots·want) ≤ pot
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}
