package ledger

import (
	"fmt"
	"slices"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// checkVote checks a proof vote's form against the leaves the reveal
// sampled for this validator: openings decode and follow the sample order,
// and evidence, if any, is a sampled leaf whose committed hash every node
// finds differs from the recomputation. Whether the openings' digests hash
// into the root is judged in judgeVote, so a wrong digest is recorded
// against the validator rather than refused.
func (s *State) checkVote(ep *Epoch, c *Commitment, from string, m *tx.ProofVote) *tx.Error {
	if len(m.Openings) > s.Params.SamplesPerValidator {
		return tx.Errf(tx.CodeInvalid, "proof_vote.openings: %d, at most samples_per_validator = %d", len(m.Openings), s.Params.SamplesPerValidator)
	}
	me, _ := tx.ParsePubKey(from)
	sample := proof.SampleLeaves([32]byte(ep.Reveal), m.Host, me, c.Count, s.Params.SamplesPerValidator)
	pos := 0
	var used []uint64
	for i, raw := range m.Openings {
		var o proof.Opening
		if err := o.UnmarshalBinary(raw); err != nil {
			return tx.Errf(tx.CodeInvalid, "proof_vote.openings[%d]: %v", i, err)
		}
		for pos < len(sample) && sample[pos] != o.Index {
			pos++
		}
		if pos == len(sample) {
			return tx.Errf(tx.CodeInvalid, "proof_vote.openings[%d]: leaf %d is not one of this validator's sampled leaves (or out of sample order)", i, o.Index)
		}
		pos++
		used = append(used, o.Index)
	}
	if len(m.Evidence) == 0 {
		return nil
	}
	var lo proof.LeafOpening
	if err := lo.UnmarshalBinary(m.Evidence); err != nil {
		return tx.Errf(tx.CodeInvalid, "proof_vote.evidence: %v", err)
	}
	if !slices.Contains(sample, lo.Index) || slices.Contains(used, lo.Index) {
		return tx.Errf(tx.CodeInvalid, "proof_vote.evidence: leaf %d is not a sampled leaf outside the vote's openings", lo.Index)
	}
	if err := s.Params.fraudProven(ep, m.Host, c, lo); err != nil {
		return tx.Errf(tx.CodeInvalid, "proof_vote.evidence: %v", err)
	}
	return nil
}

// judgeVote records a vote checkVote accepted. Each opening carries the
// digest the validator recomputed on the host's path; proof.CheckOpening
// (hashing only, no recomputation) tells whether it is the committed leaf.
// A validator that voted without computing cannot produce it.
func judgeVote(c *Commitment, m *tx.ProofVote) Vote {
	var v Vote
	for _, raw := range m.Openings {
		var o proof.Opening
		_ = o.UnmarshalBinary(raw) // checkVote decoded it
		if err := proof.CheckOpening([32]byte(c.Root), c.Count, o); err != nil {
			if !v.Bad {
				v.Bad, v.Reason = true, fmt.Sprintf("leaf %d: the vote's digest %x does not hash into the committed root", o.Index, o.Digest)
			}
			continue
		}
		v.Checked++
		v.Leaves = append(v.Leaves, o.Index)
	}
	if len(m.Evidence) > 0 {
		var lo proof.LeafOpening
		_ = lo.UnmarshalBinary(m.Evidence)
		v.Proven, v.FakeLeaf = true, lo.Index
	}
	return v
}
