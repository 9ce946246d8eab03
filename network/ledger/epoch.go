package ledger

import (
	"fmt"
	"slices"

	"github.com/jouleworks/joule/network/model"
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
// committed host from the unjailed validators: O(N·k) checks, not every
// validator checking everyone.
func (s *State) reveal(ep *Epoch, hash []byte) {
	ep.Reveal = clone(hash)
	seed := seed32(hash)
	pool := s.assignable()
	vals := make([][]byte, len(pool))
	for i, v := range pool {
		pk, _ := tx.ParsePubKey(v)
		vals[i] = pk
	}
	for _, host := range sortedKeys(ep.Commitments) {
		pk, _ := tx.ParsePubKey(host)
		c := ep.Commitments[host]
		c.Validators = nil
		for _, i := range proof.AssignValidators(seed, pk, vals, s.Params.ValidatorsPerHost) {
			c.Validators = append(c.Validators, pool[i])
		}
	}
}

// dutyTest is the sequential test on hosts' withholding and validators' votes.
var dutyTest = func() model.SPRT {
	t, err := model.NewSPRT(model.DutySPRTConfig())
	if err != nil {
		panic(err) // constant configuration, covered by tests
	}
	return t
}()

// tally turns votes into outcomes (see tallyHost), pays the validators'
// share of the mint per valid vote and penalises bad ones (see
// tallyValidators), then mints the hosts' share pro rata to weight ×
// availability.
func (s *State) tally(ep *Epoch) {
	ep.Tallied = true
	rep := EpochReport{Epoch: ep.Number}
	mint := s.Params.Mint.Mint(ep.Number)
	pot := mulBPS(mint, s.Params.ValidationBPS)
	var hosts []string
	var work []reward.Work
	for _, addr := range sortedKeys(s.Hosts) {
		h := s.Hosts[addr]
		c := ep.Commitments[addr]
		if c == nil {
			h.Weight = 0
			continue
		}
		if w, ok := s.tallyHost(ep, addr, h, c, &rep); ok {
			hosts = append(hosts, addr)
			work = append(work, w)
		}
	}
	rep.ToValidators += s.tallyValidators(ep, pot, &rep)
	paid, dust, err := reward.SplitMint(mint-pot, work, s.Params.WeightCap)
	if err != nil {
		// Weights are capped nonce counts; a sum overflowing 64 bits
		// would need 2^64/cap hosts. Mint nothing rather than diverge.
		paid, dust = make([]uint64, len(hosts)), 0
	}
	var toHosts uint64
	for i, addr := range hosts {
		s.account(addr).Balance += paid[i]
		s.Hosts[addr].Earned += paid[i]
		toHosts += paid[i]
	}
	// Dust is not minted: paying it to the pool would mint from nothing.
	_ = dust
	rep.Minted = toHosts + rep.ToValidators
	s.Minted += rep.Minted
	rep.ToHosts = toHosts + s.FeesToHosts
	rep.ToValidators += s.FeesToValidators
	s.FeesToHosts, s.FeesToValidators = 0, 0
	s.Reports = append(s.Reports, rep)
	if len(s.Reports) > 64 {
		s.Reports = s.Reports[len(s.Reports)-64:]
	}
}

// tallyHost decides one commitment:
//
//   - convicted if any vote carries evidence every node verified (one wrong
//     leaf, re-verified by the ledger): bond slashed, host excluded;
//   - verified if clean full votes come from more than half of the
//     assigned validators: weight = min(count, cap);
//   - otherwise unverified, weight 0. If a quorum (more than half) of the
//     assigned validators voted validly and still could not verify it, the
//     host withheld openings: a failure in its Withholding test, which
//     convicts on repetition (five in a row; a single one never). If the
//     validators were silent, nothing is recorded: a network fault is not
//     the host's.
//
// Votes that vouched for a leaf another vote proved fake are marked bad.
// It returns the host's mint work when verified.
func (s *State) tallyHost(ep *Epoch, addr string, h *Host, c *Commitment, rep *EpochReport) (reward.Work, bool) {
	want := min(uint64(s.Params.SamplesPerValidator), c.Count)
	var fakes []uint64
	for _, v := range sortedKeys(c.Votes) {
		if vote := c.Votes[v]; vote.Proven {
			fakes = append(fakes, vote.FakeLeaf)
		}
	}
	var pass, valid uint64
	for _, v := range sortedKeys(c.Votes) {
		vote := c.Votes[v]
		for _, l := range vote.Leaves {
			if !vote.Bad && slices.Contains(fakes, l) {
				vote.Bad, vote.Reason = true, fmt.Sprintf("vouched for leaf %d, which another vote proved fake", l)
				c.Votes[v] = vote
			}
		}
		if vote.Bad {
			continue
		}
		valid++
		if !vote.Proven && vote.Checked == want {
			pass++
		}
	}
	assigned := uint64(max(len(c.Validators), 1))
	switch {
	case h.Excluded:
		// Convicted earlier in the epoch (inference, dispute): no weight.
		c.Outcome = OutcomeConvicted
		h.Weight = 0
	case len(fakes) > 0:
		c.Outcome = OutcomeConvicted
		rep.Convicted++
		burned, pool := s.slash(h, fmt.Sprintf("proof of compute failed in epoch %d: %d of %d votes proved wrong digests", ep.Number, len(fakes), len(c.Votes)))
		rep.Burned += burned
		rep.ToPool += pool
	case 2*pass > assigned:
		c.Outcome = OutcomeVerified
		rep.Verified++
		h.Weight = min(c.Count, s.Params.WeightCap)
		h.WeightEpoch = ep.Number
		h.Withholding = dutyTest.Observe(h.Withholding, true)
		// Availability: the share of validly voting validators the host
		// answered in full, so withholding openings costs reward but a
		// silent or lazy validator does not.
		return reward.Work{VerifiedNonces: c.Count, AvailabilityPPM: uint32(pass * reward.PPM / valid)}, true
	default:
		c.Outcome = OutcomeUnverified
		h.Weight = 0
		if 2*valid > assigned {
			rep.Withheld++
			h.Withholding = dutyTest.Observe(h.Withholding, false)
			if h.Withholding.Convicted {
				rep.Convicted++
				burned, pool := s.slash(h, fmt.Sprintf("withheld proof openings from its validators in %d of %d epochs (sequential test)", h.Withholding.Failures, h.Withholding.Samples))
				rep.Burned += burned
				rep.ToPool += pool
			}
		}
	}
	return reward.Work{}, false
}

// tallyValidators settles every assigned validator slot of the epoch: a
// valid vote earns its reward.ValidationShare of pot and passes the
// validator's duty test; a missed vote earns nothing and fails it; a bad
// vote (a digest that does not hash into the root, or vouching for a
// proven-fake leaf) earns nothing, fails it and costs ValidatorSlashBPS of
// the validator's balance. A validator the duty test convicts is jailed:
// no longer assigned. It returns the validation rewards paid.
func (s *State) tallyValidators(ep *Epoch, pot uint64, rep *EpochReport) uint64 {
	var slots uint64
	for _, host := range sortedKeys(ep.Commitments) {
		slots += uint64(len(ep.Commitments[host].Validators))
	}
	var paid uint64
	for _, host := range sortedKeys(ep.Commitments) {
		c := ep.Commitments[host]
		want := min(uint64(s.Params.SamplesPerValidator), c.Count)
		for _, v := range c.Validators {
			r := s.duty(v)
			vote, voted := c.Votes[v]
			switch {
			case !voted:
				r.Missed++
				rep.MissedVotes++
				r.Duty = dutyTest.Observe(r.Duty, false)
			case vote.Bad:
				r.BadVotes++
				rep.BadVotes++
				r.Duty = dutyTest.Observe(r.Duty, false)
				a := s.account(v)
				burned, pool, rest := reward.Slash(a.Balance, s.Params.ValidatorSlashBPS, s.Params.BurnBPS)
				a.Balance = rest
				r.Slashed += burned + pool
				s.Burned += burned
				s.Pool += pool
				rep.Burned += burned
				rep.ToPool += pool
				r.Reason = fmt.Sprintf("epoch %d, host %s: %s", ep.Number, short(host), vote.Reason) // the last bad vote
			default:
				r.Votes++
				r.Duty = dutyTest.Observe(r.Duty, true)
				units := vote.Checked
				if vote.Proven {
					units = want // a fraud proof is the whole job done
				}
				pay := reward.ValidationShare(pot, slots, units, want)
				s.account(v).Balance += pay
				r.Earned += pay
				paid += pay
			}
			if r.Duty.Convicted && !r.Jailed {
				r.Jailed = true
				r.Reason = fmt.Sprintf("jailed in epoch %d: missed or bad votes in %d of %d assigned slots (sequential test); last bad vote: %s", ep.Number, r.Duty.Failures, r.Duty.Samples, r.Reason)
			}
		}
	}
	return paid
}

// mulBPS returns ⌊a·bps/10⁴⌋ without overflow.
func mulBPS(a uint64, bps uint32) uint64 {
	return reward.ValidationShare(a, 1, uint64(min(bps, reward.BPS)), reward.BPS)
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
