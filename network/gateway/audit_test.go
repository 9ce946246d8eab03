package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/tx"
)

// fakeChain serves a fixed escrow whose state the test moves, and records
// submitted transactions.
type fakeChain struct {
	mu      sync.Mutex
	st      *ledger.State
	changed chan struct{}
	sent    []*tx.Tx
}

func (c *fakeChain) View() *ledger.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

func (c *fakeChain) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

func (c *fakeChain) Submit(_ context.Context, _ ed25519.PrivateKey, t *tx.Tx) (ledger.TxResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, t)
	return ledger.TxResult{}, nil
}

// settle replaces the escrow's state as a new block would.
func (c *fakeChain) settle(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := *c.st.Escrows["e1"]
	e.State, e.TranscriptHash = ledger.EscrowSettled, hash
	c.st = &ledger.State{Escrows: map[string]*ledger.Escrow{"e1": &e}}
	close(c.changed)
	c.changed = make(chan struct{})
}

// TestAudit: the gateway accepts a receipt for exactly what it relayed,
// refuses one for anything else, and disputes a settlement of another
// transcript with the receipt as proof.
func TestAudit(t *testing.T) { synctest.Test(t, testAudit) }

func testAudit(t *testing.T) {
	hostKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	host := tx.PubKey(hostKey.Public().(ed25519.PublicKey)).String()
	chain := &fakeChain{changed: make(chan struct{}), st: &ledger.State{Escrows: map[string]*ledger.Escrow{
		"e1": {Host: host, State: ledger.EscrowOpen, Seed: 42},
	}}}
	s := New(chain, nil, nil)
	req := InferRequest{Model: model.RefModel, Messages: []model.Message{{Role: "user", Content: "hi"}}, MaxTokens: 2}
	tokens := []model.Token{{Text: "a", Logprob: -3, Top: []model.Candidate{{Text: "a", Logprob: -3}}}, {Text: "b", Logprob: -5}}
	done := &InferDone{FinishReason: model.FinishLength, PromptTokens: 5, CompletionTokens: 2}
	served := Transcript{EscrowID: "e1", Request: req, Seed: 42, Completion: model.Completion{
		Model: req.Model, Tokens: tokens, FinishReason: done.FinishReason, PromptTokens: 5, CompletionTokens: 2}}
	h, _ := served.Hash()
	sign := func(hash []byte) {
		done.Receipt = hex.EncodeToString(ed25519.Sign(hostKey, tx.ReceiptBytes("e1", hash)))
	}
	rel := relayed{host: host, id: "e1", req: req, tokens: tokens}

	other := bytes.Repeat([]byte{1}, 32)
	sign(other)
	if err := s.audit(rel, done); !errors.Is(err, ErrReceipt) {
		t.Fatalf("receipt for another transcript: err = %v, want ErrReceipt", err)
	}
	sign(h[:])
	if err := s.audit(rel, done); err != nil {
		t.Fatalf("receipt for the relayed transcript: %v", err)
	}
	chain.settle(other) // the host settles something else
	synctest.Wait()     // the watcher has disputed and returned
	if s.Disputes() != 1 {
		t.Fatalf("disputes = %d, want 1", s.Disputes())
	}
	chain.mu.Lock()
	defer chain.mu.Unlock()
	if len(chain.sent) != 1 || chain.sent[0].Dispute == nil {
		t.Fatalf("sent %+v, want one dispute", chain.sent)
	}
	d := chain.sent[0].Dispute
	if d.EscrowID != "e1" || !bytes.Equal(d.TranscriptHash, h[:]) || !ed25519.Verify(hostKey.Public().(ed25519.PublicKey), tx.ReceiptBytes("e1", d.TranscriptHash), d.Receipt) {
		t.Fatalf("dispute %+v does not carry the relayed hash and the host's receipt", d)
	}
}

// TestCloseEndsWatchers: a watcher still waiting for a settlement must not
// outlive the gateway.
func TestCloseEndsWatchers(t *testing.T) { synctest.Test(t, testCloseEndsWatchers) }

func testCloseEndsWatchers(t *testing.T) {
	hostKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	host := tx.PubKey(hostKey.Public().(ed25519.PublicKey)).String()
	chain := &fakeChain{changed: make(chan struct{}), st: &ledger.State{Escrows: map[string]*ledger.Escrow{
		"e1": {Host: host, State: ledger.EscrowOpen, Seed: 42},
	}}}
	s := New(chain, nil, nil)
	req := InferRequest{Model: model.RefModel, Messages: []model.Message{{Role: "user", Content: "hi"}}, MaxTokens: 1}
	tokens := []model.Token{{Text: "a", Logprob: -3}}
	done := &InferDone{FinishReason: model.FinishLength, PromptTokens: 5, CompletionTokens: 1}
	served := Transcript{EscrowID: "e1", Request: req, Seed: 42, Completion: model.Completion{
		Model: req.Model, Tokens: tokens, FinishReason: done.FinishReason, PromptTokens: 5, CompletionTokens: 1}}
	h, _ := served.Hash()
	done.Receipt = hex.EncodeToString(ed25519.Sign(hostKey, tx.ReceiptBytes("e1", h[:])))
	if err := s.audit(relayed{host: host, id: "e1", req: req, tokens: tokens}, done); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Close() // the escrow is still open: only Close can end the watcher
	if waited := time.Since(start); waited >= settleWatch {
		t.Fatalf("Close waited %s, the whole settlement window: the watcher ignored it", waited)
	}
	if s.Disputes() != 0 {
		t.Fatalf("disputes = %d, want 0", s.Disputes())
	}
}
