package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/tx"
)

// ErrReceipt means a host's end-of-stream receipt does not cover the
// transcript the gateway relayed: the response cannot be held against the
// host, so the gateway reports it as a host failure.
var ErrReceipt = errors.New("host receipt does not match the relayed transcript")

// settleWatch bounds how long the gateway watches for a host's settlement.
const settleWatch = 5 * time.Minute

// relayed is what the gateway passed from a host to a requester.
type relayed struct {
	key    ed25519.PrivateKey // the requester's account, which signs a dispute
	host   string
	id     string
	req    InferRequest
	tokens []model.Token
}

// audit rebuilds the transcript the gateway relayed, checks the host's
// signed receipt against it and, if it holds, watches the settlement in the
// background: a settled transcript hash other than the relayed one is
// disputed on chain with the receipt as proof.
func (s *Server) audit(r relayed, done *InferDone) error {
	e := s.chain.View().Escrows[r.id]
	if e == nil {
		return fmt.Errorf("%w: escrow %s not in this node's state", errHost, r.id)
	}
	t := Transcript{EscrowID: r.id, Request: r.req, Seed: e.Seed, Completion: model.Completion{
		Model: r.req.Model, Tokens: r.tokens, FinishReason: done.FinishReason,
		PromptTokens: done.PromptTokens, CompletionTokens: done.CompletionTokens,
	}}
	h, err := t.Hash()
	if err != nil {
		return fmt.Errorf("%w: %v", errHost, err)
	}
	sig, err := hex.DecodeString(done.Receipt)
	hostPub, perr := tx.ParsePubKey(r.host)
	if err != nil || perr != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(hostPub), tx.ReceiptBytes(r.id, h[:]), sig) {
		s.log.Warn("host receipt does not cover the relayed transcript", "escrow", r.id, "host", r.host[:8], "relayed", hex.EncodeToString(h[:]), "host_says", done.TranscriptHash)
		return fmt.Errorf("%w: %w (escrow %s)", errHost, ErrReceipt, r.id)
	}
	s.watchers.Go(func() { s.watchSettlement(r, h[:], sig) })
	return nil
}

// watchSettlement waits for the host to settle r's escrow and disputes a
// settlement whose transcript hash is not the relayed one.
func (s *Server) watchSettlement(r relayed, relayedHash, receipt []byte) {
	ctx, cancel := context.WithTimeout(s.ctx, settleWatch)
	defer cancel()
	for {
		ch := s.chain.Changed()
		e := s.chain.View().Escrows[r.id]
		if e == nil || e.State == ledger.EscrowRefunded || e.State == ledger.EscrowDisputed {
			return
		}
		if e.State != ledger.EscrowOpen {
			if bytes.Equal(e.TranscriptHash, relayedHash) {
				return
			}
			s.log.Warn("host settled another transcript than it served; disputing", "escrow", r.id, "host", r.host[:8],
				"settled", hex.EncodeToString(e.TranscriptHash), "relayed", hex.EncodeToString(relayedHash))
			_, err := s.chain.Submit(ctx, r.key, &tx.Tx{Dispute: &tx.DisputeInference{EscrowID: r.id, TranscriptHash: relayedHash, Receipt: receipt}})
			if err != nil {
				s.log.Error("dispute failed", "escrow", r.id, "err", err)
				return
			}
			s.mu.Lock()
			s.disputes++
			s.mu.Unlock()
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// Disputes returns how many disputes this gateway has had accepted on
// chain.
func (s *Server) Disputes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disputes
}
