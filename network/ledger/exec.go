package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"net/url"
	"slices"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// Field limits: a transaction within MaxTxBytes can still be rejected for an
// unreasonable field, so state stays small.
const (
	maxModelsPerHost = 16
	maxEndpointLen   = 256
	maxEscrowIDLen   = 64
	maxTokensLimit   = 1 << 20
	// maxProofCount bounds a commitment so a Merkle path has at most
	// maxProofLevels nodes and a vote's openings fit in one transaction.
	// 2^24 nonces is far above WeightCap.
	maxProofLevels = 24
	maxProofCount  = 1 << maxProofLevels
	// maxVoteSamples is how many openings (hex in JSON, each with a full
	// path) fit in a proof_vote next to its evidence and envelope.
	maxVoteSamples = (tx.MaxTxBytes - 4096) / (2*(8+proof.DigestSize+1+32*maxProofLevels) + 3)
)

// block is what a transaction may read about the block including it.
type block struct {
	Height int64
	Hash   []byte
}

// check validates t against s without changing it. s is the committed state
// for CheckTx and the in-block state for FinalizeBlock.
func (s *State) check(t *tx.Tx, b block) *tx.Error {
	if t.ChainID != s.ChainID {
		return tx.Errf(tx.CodeWrongChain, "chain_id %q, this chain is %q", t.ChainID, s.ChainID)
	}
	from := t.From.String()
	if a := s.Accounts[from]; a != nil && t.Nonce <= a.Nonce {
		return tx.Errf(tx.CodeBadNonce, "nonce %d already used: account %s is at nonce %d (replayed tx?)", t.Nonce, short(from), a.Nonce)
	}
	if t.Nonce == 0 {
		return tx.Errf(tx.CodeBadNonce, "nonce must be at least 1")
	}
	bal := uint64(0)
	if a := s.Accounts[from]; a != nil {
		bal = a.Balance
	}
	epoch, phase, _ := s.Params.EpochAt(b.Height)
	switch t.Type() {
	case tx.TypeTransfer:
		m := t.Transfer
		if len(m.To) != ed25519.PublicKeySize {
			return tx.Errf(tx.CodeInvalid, "transfer.to: %d bytes, want %d", len(m.To), ed25519.PublicKeySize)
		}
		if m.Amount == 0 {
			return tx.Errf(tx.CodeInvalid, "transfer.amount must be positive")
		}
		if bal < m.Amount {
			return tx.Errf(tx.CodeInsufficientFunds, "transfer.amount %d exceeds balance %d", m.Amount, bal)
		}
	case tx.TypeRegisterHost:
		m := t.RegisterHost
		if h := s.Hosts[from]; h != nil && h.Excluded {
			return tx.Errf(tx.CodeExcluded, "host %s was excluded: %s", short(from), h.Reason)
		}
		if len(m.Models) == 0 || len(m.Models) > maxModelsPerHost {
			return tx.Errf(tx.CodeInvalid, "register_host.models: %d models, want 1..%d", len(m.Models), maxModelsPerHost)
		}
		for i, id := range m.Models {
			if _, ok := s.Models[id]; !ok {
				return tx.Errf(tx.CodeUnknownModel, "register_host.models[%d]: unknown model %q (known: %v)", i, id, sortedKeys(s.Models))
			}
		}
		if len(m.Endpoint) > maxEndpointLen {
			return tx.Errf(tx.CodeTooLarge, "register_host.endpoint: %d bytes, limit %d", len(m.Endpoint), maxEndpointLen)
		}
		if u, err := url.Parse(m.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return tx.Errf(tx.CodeInvalid, "register_host.endpoint %q: want an http(s) base URL", m.Endpoint)
		}
		bond := m.Bond
		if h := s.Hosts[from]; h != nil {
			bond += h.Bond
		}
		if bond < s.Params.MinBond {
			return tx.Errf(tx.CodeInvalid, "register_host.bond: total bond %d below min_bond %d", bond, s.Params.MinBond)
		}
		if bal < m.Bond {
			return tx.Errf(tx.CodeInsufficientFunds, "register_host.bond %d exceeds balance %d", m.Bond, bal)
		}
	case tx.TypeCommitProof:
		m := t.CommitProof
		h := s.Hosts[from]
		if h == nil {
			return tx.Errf(tx.CodeUnknownAccount, "commit_proof: %s is not a registered host", short(from))
		}
		if h.Excluded {
			return tx.Errf(tx.CodeExcluded, "host %s was excluded: %s", short(from), h.Reason)
		}
		if m.Epoch != epoch || phase != PhaseSprint {
			return tx.Errf(tx.CodeWrongPhase, "commit_proof for epoch %d at height %d (epoch %d, phase %s): commitments close at the end of the sprint", m.Epoch, b.Height, epoch, phase)
		}
		ep := s.Epoch(epoch)
		if ep == nil {
			return tx.Errf(tx.CodeWrongPhase, "epoch %d has not started", epoch)
		}
		if _, dup := ep.Commitments[from]; dup {
			return tx.Errf(tx.CodeDuplicate, "host %s already committed for epoch %d", short(from), epoch)
		}
		if len(m.Root) != sha256.Size {
			return tx.Errf(tx.CodeInvalid, "commit_proof.root: %d bytes, want %d", len(m.Root), sha256.Size)
		}
		if m.Count == 0 || m.Count > maxProofCount {
			return tx.Errf(tx.CodeInvalid, "commit_proof.count %d out of range 1..%d", m.Count, uint64(maxProofCount))
		}
	case tx.TypeProofVote:
		m := t.ProofVote
		if !s.isValidator(from) {
			return tx.Errf(tx.CodeUnauthorized, "proof_vote: %s is not a validator", short(from))
		}
		ep := s.Epoch(m.Epoch)
		if ep == nil || m.Epoch != epoch || phase != PhaseValidation || len(ep.Reveal) == 0 {
			return tx.Errf(tx.CodeWrongPhase, "proof_vote for epoch %d at height %d (epoch %d, phase %s): votes are taken in the validation phase", m.Epoch, b.Height, epoch, phase)
		}
		c := ep.Commitments[m.Host.String()]
		if c == nil {
			return tx.Errf(tx.CodeUnknownAccount, "proof_vote.host %s has no commitment in epoch %d", short(m.Host.String()), m.Epoch)
		}
		if !slices.Contains(c.Validators, from) {
			return tx.Errf(tx.CodeUnauthorized, "proof_vote: %s is not assigned to host %s", short(from), short(m.Host.String()))
		}
		if _, dup := c.Votes[from]; dup {
			return tx.Errf(tx.CodeDuplicate, "proof_vote: %s already voted on host %s", short(from), short(m.Host.String()))
		}
		if err := s.checkVote(ep, c, from, m); err != nil {
			return err
		}
	case tx.TypeOpenEscrow:
		m := t.OpenEscrow
		if !validID(m.ID) {
			return tx.Errf(tx.CodeInvalid, "open_escrow.id %q: want 1..%d of [A-Za-z0-9_-]", m.ID, maxEscrowIDLen)
		}
		if _, dup := s.Escrows[m.ID]; dup {
			return tx.Errf(tx.CodeDuplicate, "open_escrow.id %q already used", m.ID)
		}
		model, ok := s.Models[m.Model]
		if !ok {
			return tx.Errf(tx.CodeUnknownModel, "open_escrow.model: unknown model %q", m.Model)
		}
		h := s.Hosts[m.Host.String()]
		if h == nil {
			return tx.Errf(tx.CodeUnknownAccount, "open_escrow.host %s is not a registered host", short(m.Host.String()))
		}
		if h.Excluded || h.Weight == 0 || !slices.Contains(h.Models, m.Model) {
			return tx.Errf(tx.CodeUnauthorized, "open_escrow.host %s is not an active host for %q", short(m.Host.String()), m.Model)
		}
		if m.MaxTokens == 0 || m.MaxTokens > maxTokensLimit {
			return tx.Errf(tx.CodeInvalid, "open_escrow.max_tokens %d out of range 1..%d", m.MaxTokens, maxTokensLimit)
		}
		if len(m.RequestHash) != sha256.Size {
			return tx.Errf(tx.CodeInvalid, "open_escrow.request_hash: %d bytes, want %d", len(m.RequestHash), sha256.Size)
		}
		lock, ok := mulOK(model.PricePerToken, m.MaxTokens)
		if !ok || bal < lock {
			return tx.Errf(tx.CodeInsufficientFunds, "open_escrow: %d tokens × price %d exceeds balance %d", m.MaxTokens, model.PricePerToken, bal)
		}
	case tx.TypeSettleInference:
		m := t.SettleInference
		e := s.Escrows[m.EscrowID]
		if e == nil {
			return tx.Errf(tx.CodeUnknownAccount, "settle_inference.escrow_id %q does not exist", m.EscrowID)
		}
		if e.Host != from {
			return tx.Errf(tx.CodeUnauthorized, "settle_inference: escrow %q belongs to host %s, not %s", m.EscrowID, short(e.Host), short(from))
		}
		if e.State != EscrowOpen {
			return tx.Errf(tx.CodeDuplicate, "settle_inference: escrow %q is %s", m.EscrowID, e.State)
		}
		if len(m.TranscriptHash) != sha256.Size {
			return tx.Errf(tx.CodeInvalid, "settle_inference.transcript_hash: %d bytes, want %d", len(m.TranscriptHash), sha256.Size)
		}
		if m.PromptTokens+m.CompletionTokens > e.MaxTokens || m.PromptTokens > maxTokensLimit || m.CompletionTokens > maxTokensLimit {
			return tx.Errf(tx.CodeInvalid, "settle_inference: %d+%d tokens exceed the escrow's max_tokens %d", m.PromptTokens, m.CompletionTokens, e.MaxTokens)
		}
	case tx.TypeInferenceVote:
		m := t.InferenceVote
		e := s.Escrows[m.EscrowID]
		if e == nil {
			return tx.Errf(tx.CodeUnknownAccount, "inference_vote.escrow_id %q does not exist", m.EscrowID)
		}
		if e.State != EscrowSettled {
			return tx.Errf(tx.CodeWrongPhase, "inference_vote: escrow %q is %s, not settled", m.EscrowID, e.State)
		}
		if !slices.Contains(e.Validators, from) {
			return tx.Errf(tx.CodeUnauthorized, "inference_vote: %s is not assigned to escrow %q", short(from), m.EscrowID)
		}
		if _, dup := e.Votes[from]; dup {
			return tx.Errf(tx.CodeDuplicate, "inference_vote: %s already voted on escrow %q", short(from), m.EscrowID)
		}
	case tx.TypeDispute:
		return s.checkDispute(from, t.Dispute)
	default:
		return tx.Errf(tx.CodeMalformed, "no transaction body")
	}
	return nil
}

// exec applies t, which check accepted, to s.
func (s *State) exec(t *tx.Tx, b block) {
	from := t.From.String()
	acc := s.account(from)
	acc.Nonce = t.Nonce
	epoch, _, _ := s.Params.EpochAt(b.Height)
	switch t.Type() {
	case tx.TypeTransfer:
		acc.Balance -= t.Transfer.Amount
		s.account(t.Transfer.To.String()).Balance += t.Transfer.Amount
	case tx.TypeRegisterHost:
		m := t.RegisterHost
		h := s.Hosts[from]
		if h == nil {
			h = &Host{}
			s.Hosts[from] = h
		}
		models := slices.Clone(m.Models)
		slices.Sort(models)
		h.Models = slices.Compact(models)
		h.Endpoint = m.Endpoint
		acc.Balance -= m.Bond
		h.Bond += m.Bond
	case tx.TypeCommitProof:
		s.Epoch(epoch).Commitments[from] = &Commitment{Root: t.CommitProof.Root, Count: t.CommitProof.Count}
	case tx.TypeProofVote:
		c := s.Epoch(t.ProofVote.Epoch).Commitments[t.ProofVote.Host.String()]
		if c.Votes == nil {
			c.Votes = map[string]Vote{}
		}
		c.Votes[from] = judgeVote(c, t.ProofVote)
	case tx.TypeOpenEscrow:
		m := t.OpenEscrow
		lock, _ := mulOK(s.Models[m.Model].PricePerToken, m.MaxTokens)
		acc.Balance -= lock
		s.Escrows[m.ID] = &Escrow{
			Requester: from, Host: m.Host.String(), Model: m.Model, MaxTokens: m.MaxTokens,
			Locked: lock, RequestHash: m.RequestHash, State: EscrowOpen, Opened: b.Height,
			Seed: escrowSeed(b.Hash, m.ID),
		}
	case tx.TypeSettleInference:
		s.settle(t.SettleInference, b)
	case tx.TypeInferenceVote:
		m := t.InferenceVote
		e := s.Escrows[m.EscrowID]
		if e.Votes == nil {
			e.Votes = map[string]bool{}
		}
		e.Votes[from] = m.OK
		if len(e.Votes) == len(e.Validators) {
			s.closeValidation(m.EscrowID, e, b)
		}
	case tx.TypeDispute:
		s.dispute(t.Dispute, b)
	}
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > maxEscrowIDLen {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func mulOK(a, b uint64) (uint64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a
}

func short(addr string) string {
	if len(addr) > 12 {
		return addr[:12]
	}
	return addr
}
