package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// inferenceValidators is how many validators re-execute a sampled inference.
const inferenceValidators = 1

// settle records the executor's receipt: the fee is fixed on actual tokens,
// the rest of the escrow goes back to the requester, and a seeded draw
// (block hash, escrow id) decides, at the rate the host's sequential test
// sets, whether and by whom it is re-executed.
func (s *State) settle(m *tx.SettleInference, b block) {
	e := s.Escrows[m.EscrowID]
	price := s.Models[e.Model].PricePerToken
	e.Fee = price * (m.PromptTokens + m.CompletionTokens) // ≤ Locked: tokens ≤ MaxTokens
	s.account(e.Requester).Balance += e.Locked - e.Fee
	e.PromptTokens, e.CompletionTokens = m.PromptTokens, m.CompletionTokens
	e.TranscriptHash = clone(m.TranscriptHash)
	e.State = EscrowSettled
	e.Settled = b.Height
	h := s.Hosts[e.Host]
	draw := sha256.Sum256(append(clone(b.Hash), []byte("joule/inference/v1/"+m.EscrowID)...))
	if !sprt.ShouldValidate(h.Inference, binary.LittleEndian.Uint32(draw[:4])) {
		s.payFee(e, b)
		e.State = EscrowPaid
		return
	}
	vals := make([][]byte, len(s.Validators))
	for i, v := range s.Validators {
		vals[i], _ = tx.ParsePubKey(v)
	}
	hostPub, _ := tx.ParsePubKey(e.Host)
	for _, i := range proof.AssignValidators(draw, hostPub, vals, inferenceValidators) {
		e.Validators = append(e.Validators, s.Validators[i])
	}
	if len(e.Validators) == 0 {
		s.payFee(e, b)
		e.State = EscrowPaid
	}
}

// escrowSeed is the sampling seed of an escrow opened in the block with
// this hash.
func escrowSeed(blockHash []byte, id string) uint64 {
	d := sha256.Sum256(append(clone(blockHash), []byte("joule/seed/v1/"+id)...))
	return binary.LittleEndian.Uint64(d[:8])
}

// sprt is the ledger's sequential test on inference validations.
var sprt = model.DefaultSPRT()

// closeValidation ends an inference's validation with the votes cast: more
// failing than passing votes rejects it (fee refunded, failure recorded in
// the host's sequential test); otherwise the fee is paid.
func (s *State) closeValidation(id string, e *Escrow, b block) {
	var ok, bad int
	for _, v := range sortedKeys(e.Votes) {
		if e.Votes[v] {
			ok++
		} else {
			bad++
		}
	}
	h := s.Hosts[e.Host]
	e.Closed = b.Height
	if ok+bad == 0 {
		// Validators silent: no evidence against the host.
		s.payFee(e, b)
		e.State = EscrowPaid
		return
	}
	if bad > ok {
		e.State = EscrowRejected
		s.account(e.Requester).Balance += e.Fee
		h.Inference = sprt.Observe(h.Inference, false)
		if !h.Excluded && h.Inference.Convicted {
			s.slash(h, fmt.Sprintf("inference re-execution failed %d of %d checks (escrow %s)", h.Inference.Failures, h.Inference.Samples, id))
		}
		return
	}
	h.Inference = sprt.Observe(h.Inference, true)
	s.payFee(e, b)
	e.State = EscrowValidated
}

// payFee splits an inference fee with reward.FeeSplit: the validators who
// voted share their part equally, the executor gets the rest, and the
// division's dust goes to the pool.
func (s *State) payFee(e *Escrow, b block) {
	voters := sortedKeys(e.Votes)
	exec, each, dust := s.Params.Fees.Fee(e.Fee, len(voters))
	for _, v := range voters {
		s.account(v).Balance += each
	}
	s.account(e.Host).Balance += exec
	if h := s.Hosts[e.Host]; h != nil {
		h.Earned += exec
	}
	s.Pool += dust
	s.FeesToHosts += exec
	s.FeesToValidators += each * uint64(len(voters))
	e.Closed = b.Height
}

// endBlock expires escrows: unsettled ones are refunded, validations whose
// validators stayed silent are closed, and closed ones are pruned.
func (s *State) endBlock(b block) {
	timeout := s.Params.EscrowTimeoutBlocks
	for _, id := range sortedKeys(s.Escrows) {
		e := s.Escrows[id]
		switch e.State {
		case EscrowOpen:
			if b.Height-e.Opened > timeout {
				s.account(e.Requester).Balance += e.Locked
				e.State = EscrowRefunded
				e.Closed = b.Height
			}
		case EscrowSettled:
			if b.Height-e.Settled > timeout {
				s.closeValidation(id, e, b)
			}
		default:
			if b.Height-e.Closed > 4*timeout {
				delete(s.Escrows, id)
			}
		}
	}
}
