package ledger

import (
	"bytes"
	"crypto/ed25519"
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
	pool := s.assignable()
	vals := make([][]byte, len(pool))
	for i, v := range pool {
		vals[i], _ = tx.ParsePubKey(v)
	}
	hostPub, _ := tx.ParsePubKey(e.Host)
	for _, i := range proof.AssignValidators(draw, hostPub, vals, inferenceValidators) {
		e.Validators = append(e.Validators, pool[i])
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

// checkDispute accepts a requester's dispute only with proof: the host's
// receipt signature over a transcript hash other than the one it settled.
func (s *State) checkDispute(from string, m *tx.DisputeInference) *tx.Error {
	e := s.Escrows[m.EscrowID]
	switch {
	case e == nil:
		return tx.Errf(tx.CodeUnknownAccount, "dispute_inference.escrow_id %q does not exist", m.EscrowID)
	case e.Requester != from:
		return tx.Errf(tx.CodeUnauthorized, "dispute_inference: escrow %q belongs to requester %s, not %s", m.EscrowID, short(e.Requester), short(from))
	case e.State == EscrowDisputed:
		return tx.Errf(tx.CodeDuplicate, "dispute_inference: escrow %q is already disputed", m.EscrowID)
	case e.State == EscrowOpen || e.State == EscrowRefunded:
		return tx.Errf(tx.CodeWrongPhase, "dispute_inference: escrow %q is %s: nothing settled to dispute", m.EscrowID, e.State)
	case len(m.TranscriptHash) != sha256.Size:
		return tx.Errf(tx.CodeInvalid, "dispute_inference.transcript_hash: %d bytes, want %d", len(m.TranscriptHash), sha256.Size)
	case len(m.Receipt) != ed25519.SignatureSize:
		return tx.Errf(tx.CodeInvalid, "dispute_inference.receipt: %d bytes, want a %d-byte ed25519 signature", len(m.Receipt), ed25519.SignatureSize)
	case bytes.Equal(m.TranscriptHash, e.TranscriptHash):
		return tx.Errf(tx.CodeInvalid, "dispute_inference: the receipt's transcript hash is the settled one: nothing to dispute")
	}
	host, _ := tx.ParsePubKey(e.Host)
	if !ed25519.Verify(ed25519.PublicKey(host), tx.ReceiptBytes(m.EscrowID, m.TranscriptHash), m.Receipt) {
		return tx.Errf(tx.CodeInvalid, "dispute_inference.receipt: signature does not verify against host %s for escrow %q and that transcript hash", short(e.Host), m.EscrowID)
	}
	return nil
}

// dispute applies a proven dispute: the host signed a receipt for one
// transcript and settled another, so it is slashed and excluded. A fee
// not yet paid out is refunded; one already paid (validated or unsampled)
// is compensated from the pool's part of the slash, never from anyone
// else.
func (s *State) dispute(m *tx.DisputeInference, b block) {
	e := s.Escrows[m.EscrowID]
	h := s.Hosts[e.Host]
	var pool uint64
	if h != nil && !h.Excluded {
		_, pool = s.slash(h, fmt.Sprintf("settled escrow %s with transcript %x but signed a receipt for %x", m.EscrowID, []byte(e.TranscriptHash), []byte(m.TranscriptHash)))
	}
	switch e.State {
	case EscrowSettled:
		s.account(e.Requester).Balance += e.Fee
	case EscrowValidated, EscrowPaid:
		comp := min(e.Fee, pool)
		s.Pool -= comp
		s.account(e.Requester).Balance += comp
	}
	e.State = EscrowDisputed
	e.Closed = b.Height
}
