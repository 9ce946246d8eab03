package ledger

import (
	"fmt"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/reward"
	"github.com/jouleworks/joule/network/tx"
)

// Commitment outcomes set at the tally.
const (
	OutcomeVerified   = "verified"
	OutcomeConvicted  = "convicted"
	OutcomeUnverified = "unverified"
)

// keepEpochs is how many past epoch records stay in state (for queries).
const keepEpochs = 3

// beginBlock runs the epoch schedule before the block's transactions: open
// the epoch at its first block, reveal at the first block after the commit
// deadline, tally at the first block of the inference phase.
func (s *State) beginBlock(b block) {
	e, _, off := s.Params.EpochAt(b.Height)
	switch off {
	case 0:
		s.Epochs[epochKey(e)] = &Epoch{Number: e, Seed: clone(b.Hash), Commitments: map[string]*Commitment{}}
		if e >= keepEpochs {
			delete(s.Epochs, epochKey(e-keepEpochs))
		}
	case s.Params.SprintBlocks:
		if ep := s.Epoch(e); ep != nil {
			s.reveal(ep, b.Hash)
		}
	case s.Params.SprintBlocks + s.Params.ValidationBlocks:
		if ep := s.Epoch(e); ep != nil && !ep.Tallied {
			s.tally(ep)
		}
	}
}

// reveal fixes the epoch's reveal seed and assigns k validators per
// committed host: O(N·k) checks, not every validator checking everyone.
func (s *State) reveal(ep *Epoch, hash []byte) {
	ep.Reveal = clone(hash)
	seed := seed32(hash)
	vals := make([][]byte, len(s.Validators))
	for i, v := range s.Validators {
		pk, _ := tx.ParsePubKey(v)
		vals[i] = pk
	}
	for _, host := range sortedKeys(ep.Commitments) {
		pk, _ := tx.ParsePubKey(host)
		c := ep.Commitments[host]
		c.Validators = nil
		for _, i := range proof.AssignValidators(seed, pk, vals, s.Params.ValidatorsPerHost) {
			c.Validators = append(c.Validators, s.Validators[i])
		}
	}
}

// tally turns votes into outcomes: one vote with verified evidence of a
// wrong digest convicts (bond slashed, host excluded); clean full votes from
// a majority of the assigned validators verify, and the host's weight for
// routing and rewards becomes its nonce count, capped. Anything else (a
// host withholding openings, validators offline) leaves the host unverified
// with no weight. It then mints the epoch's reward pro rata to weight ×
// availability.
func (s *State) tally(ep *Epoch) {
	ep.Tallied = true
	rep := EpochReport{Epoch: ep.Number}
	var hosts []string
	var work []reward.Work
	for _, addr := range sortedKeys(s.Hosts) {
		h := s.Hosts[addr]
		c := ep.Commitments[addr]
		if c == nil {
			h.Weight = 0
			continue
		}
		// A pass is a vote that opened every sampled leaf cleanly; a
		// failure needs verified evidence of a wrong digest.
		want := min(uint64(s.Params.SamplesPerValidator), c.Count)
		var pass, proven uint64
		for _, v := range sortedKeys(c.Votes) {
			vote := c.Votes[v]
			switch {
			case vote.Proven:
				proven++
			case vote.Failed == 0 && vote.Checked == want:
				pass++
			}
		}
		assigned := uint64(max(len(c.Validators), 1))
		switch {
		case proven > 0:
			c.Outcome = OutcomeConvicted
			rep.Convicted++
			burned, pool := s.slash(h, fmt.Sprintf("proof of compute failed in epoch %d: %d of %d votes proved wrong digests", ep.Number, proven, len(c.Votes)))
			rep.Burned += burned
			rep.ToPool += pool
		case 2*pass > assigned:
			c.Outcome = OutcomeVerified
			rep.Verified++
			h.Weight = min(c.Count, s.Params.WeightCap)
			h.WeightEpoch = ep.Number
			// Availability: the share of assigned validators the host
			// answered in full, so withholding openings costs reward.
			hosts = append(hosts, addr)
			work = append(work, reward.Work{VerifiedNonces: c.Count, AvailabilityPPM: uint32(pass * reward.PPM / assigned)})
		default:
			c.Outcome = OutcomeUnverified
			h.Weight = 0
		}
	}
	paid, dust, err := reward.SplitMint(s.Params.Mint.Mint(ep.Number), work, s.Params.WeightCap)
	if err != nil {
		// Weights are capped nonce counts; a sum overflowing 64 bits
		// would need 2^64/cap hosts. Mint nothing rather than diverge.
		paid, dust = make([]uint64, len(hosts)), 0
	}
	for i, addr := range hosts {
		s.account(addr).Balance += paid[i]
		s.Hosts[addr].Earned += paid[i]
		rep.Minted += paid[i]
	}
	// Dust is not minted: paying it to the pool would mint from nothing.
	_ = dust
	s.Minted += rep.Minted
	rep.ToHosts = rep.Minted + s.FeesToHosts
	rep.ToValidators = s.FeesToValidators
	s.FeesToHosts, s.FeesToValidators = 0, 0
	s.Reports = append(s.Reports, rep)
	if len(s.Reports) > 64 {
		s.Reports = s.Reports[len(s.Reports)-64:]
	}
}

// slash takes SlashBPS of h's bond (burning BurnBPS of it, the rest to the
// community pool), excludes h and drops its weight. Penalties go to no
// party that could be the cheater, so slashing never raises its share.
func (s *State) slash(h *Host, reason string) (burned, pool uint64) {
	burned, pool, h.Bond = reward.Slash(h.Bond, s.Params.SlashBPS, s.Params.BurnBPS)
	h.Slashed += burned + pool
	h.Excluded = true
	h.Weight = 0
	h.Reason = reason
	s.Burned += burned
	s.Pool += pool
	return burned, pool
}

func seed32(b []byte) [32]byte {
	var s [32]byte
	copy(s[:], b)
	return s
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
