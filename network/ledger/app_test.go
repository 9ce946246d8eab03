package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

func key(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func addr(k ed25519.PrivateKey) string { return tx.PubKey(k.Public().(ed25519.PublicKey)).String() }

var (
	alice, bob, val = key(1), key(2), key(3)
	tinyProof       = proof.Params{Layers: 1, Dim: 16, Heads: 2, Seq: 4, FFN: 16, ShiftQKV: 7, ShiftAttn: 7, ShiftOut: 7, ShiftUp: 7, ShiftDown: 8}
)

func testGenesis() []byte {
	p := DefaultParams()
	p.EpochBlocks, p.SprintBlocks, p.ValidationBlocks = 10, 3, 3
	p.ValidatorsPerHost, p.SamplesPerValidator = 1, 4
	p.MinBond = 100
	p.Proof = tinyProof
	g := Genesis{
		Params:     p,
		Models:     map[string]Model{"joule-ref-1": {PricePerToken: 2}},
		Balances:   map[string]uint64{addr(alice): 1_000_000, addr(bob): 1000, addr(val): 10_000},
		Validators: []string{addr(val)},
	}
	b, _ := json.Marshal(g)
	return b
}

func newTestApp(t *testing.T, dir string) *App {
	t.Helper()
	a, err := NewApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func initApp(t *testing.T) *App {
	a := newTestApp(t, t.TempDir())
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "test", AppStateBytes: testGenesis()}); err != nil {
		t.Fatal(err)
	}
	return a
}

func sign(t *testing.T, k ed25519.PrivateKey, nonce uint64, body func(*tx.Tx)) []byte {
	t.Helper()
	tt := &tx.Tx{ChainID: "test", Nonce: nonce}
	body(tt)
	if err := tt.Sign(k); err != nil {
		t.Fatal(err)
	}
	raw, err := tt.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// block finalizes and commits one block, returning its results.
func nextBlock(t *testing.T, a *App, txs ...[]byte) *abci.ResponseFinalizeBlock {
	t.Helper()
	h := a.View().Height + 1
	hash := sha256.Sum256([]byte{byte(h), byte(h >> 8)})
	res, err := a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: h, Hash: hash[:], Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return res
}

func transfer(to ed25519.PrivateKey, amount uint64) func(*tx.Tx) {
	return func(t *tx.Tx) {
		t.Transfer = &tx.Transfer{To: tx.PubKey(to.Public().(ed25519.PublicKey)), Amount: amount}
	}
}

func TestCheckTxCodes(t *testing.T) {
	a := initApp(t)
	good := sign(t, alice, 1, transfer(bob, 10))
	if res := nextBlock(t, a, good); res.TxResults[0].Code != 0 {
		t.Fatalf("transfer: code %d %s", res.TxResults[0].Code, res.TxResults[0].Log)
	}
	tampered := bytes.Replace(sign(t, alice, 2, transfer(bob, 10)), []byte(`"amount":10`), []byte(`"amount":99`), 1)
	cases := []struct {
		name string
		raw  []byte
		code tx.Code
	}{
		{"malformed", []byte(`{"chain_id":`), tx.CodeMalformed},
		{"oversized", bytes.Repeat([]byte{' '}, tx.MaxTxBytes+1), tx.CodeTooLarge},
		{"bad signature", tampered, tx.CodeBadSignature},
		{"replayed", good, tx.CodeBadNonce},
		{"insufficient funds", sign(t, alice, 2, transfer(bob, 5_000_000)), tx.CodeInsufficientFunds},
		{"unknown model", sign(t, alice, 2, func(t *tx.Tx) {
			t.RegisterHost = &tx.RegisterHost{Models: []string{"gpt-9"}, Endpoint: "http://127.0.0.1:1", Bond: 100}
		}), tx.CodeUnknownModel},
		{"wrong chain", func() []byte {
			tt := &tx.Tx{ChainID: "other", Nonce: 2}
			transfer(bob, 1)(tt)
			_ = tt.Sign(alice)
			b, _ := tt.Encode()
			return b
		}(), tx.CodeWrongChain},
		{"escrow to unknown host", sign(t, alice, 2, func(t *tx.Tx) {
			t.OpenEscrow = &tx.OpenEscrow{ID: "x", Model: "joule-ref-1", Host: tx.PubKey(bob.Public().(ed25519.PublicKey)), MaxTokens: 10, RequestHash: make([]byte, 32)}
		}), tx.CodeUnknownAccount},
		{"vote by non-validator", sign(t, alice, 2, func(t *tx.Tx) {
			t.ProofVote = &tx.ProofVote{Epoch: 0, Host: tx.PubKey(bob.Public().(ed25519.PublicKey))}
		}), tx.CodeUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: c.raw})
			if err != nil {
				t.Fatal(err)
			}
			if tx.Code(res.Code) != c.code || res.Codespace != Codespace || res.Log == "" {
				t.Fatalf("CheckTx = code %d (%s) %q, want %d (%s)", res.Code, tx.Code(res.Code), res.Log, c.code, c.code)
			}
		})
	}
	// The mempool counts a pending nonce: the same nonce twice before a
	// commit is a replay too.
	next := sign(t, alice, 2, transfer(bob, 1))
	if res, _ := a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: next}); res.Code != 0 {
		t.Fatalf("first CheckTx: %s", res.Log)
	}
	if res, _ := a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: sign(t, alice, 2, transfer(bob, 2))}); tx.Code(res.Code) != tx.CodeBadNonce {
		t.Fatalf("second tx with a pending nonce: code %d, want bad_nonce", res.Code)
	}
}

func TestRestartResumesAndHashIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	b := initApp(t)
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "test", AppStateBytes: testGenesis()}); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for i := range 12 {
		txs := [][]byte{sign(t, alice, uint64(i+1), transfer(bob, 1))}
		ra, rb := nextBlock(t, a, txs...), nextBlock(t, b, txs...)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("height %d: app hashes differ between two replicas", i+1)
		}
		last = ra.AppHash
	}
	again := newTestApp(t, dir)
	info, err := again.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != 12 || !bytes.Equal(info.LastBlockAppHash, last) {
		t.Fatalf("after restart Info = height %d hash %x, want 12 %x", info.LastBlockHeight, info.LastBlockAppHash, last)
	}
	if got := again.View().Accounts[addr(bob)].Balance; got != 1012 {
		t.Fatalf("bob after restart = %d, want 1012", got)
	}
}

// TestEscrowMoney follows the money of two requests: one settled and
// validated (fee split executor/validator, rest refunded), one never settled
// (refunded in full after the timeout).
func TestEscrowMoney(t *testing.T) {
	a := initApp(t)
	verifiedHost(t, a)
	st := a.View()
	// The validation pot is 5 % of the mint; the one validator's one full
	// vote earns all of it, the host the rest.
	mint := st.Params.Mint.Mint(0)
	pot := mint * 500 / 10_000
	if h := st.Hosts[addr(alice)]; h.Weight != 8 || h.Earned != mint-pot {
		t.Fatalf("host weight %d earned %d, want 8 and the mint less the validation pot, %d", h.Weight, h.Earned, mint-pot)
	}
	if r := st.Duty[addr(val)]; r == nil || r.Earned != pot || r.Votes != 1 {
		t.Fatalf("validator record %+v, want 1 vote earning the pot %d", r, pot)
	}
	bob0, alice0, val0 := st.Accounts[addr(bob)].Balance, st.Accounts[addr(alice)].Balance, st.Accounts[addr(val)].Balance
	host := tx.PubKey(alice.Public().(ed25519.PublicKey))
	open := func(nonce uint64, id string) []byte {
		return sign(t, bob, nonce, func(t *tx.Tx) {
			t.OpenEscrow = &tx.OpenEscrow{ID: id, Model: "joule-ref-1", Host: host, MaxTokens: 100, RequestHash: make([]byte, 32)}
		})
	}
	r := nextBlock(t, a, open(1, "paid"), open(2, "dropped"))
	for i, res := range r.TxResults {
		if res.Code != 0 {
			t.Fatalf("open escrow %d: %s", i, res.Log)
		}
	}
	if got, want := a.View().Accounts[addr(bob)].Balance, bob0-2*200; got != want {
		t.Fatalf("bob after locking 2 × 100 tokens × price 2 = %d, want %d", got, want)
	}
	settle := sign(t, alice, 3, func(t *tx.Tx) {
		t.SettleInference = &tx.SettleInference{EscrowID: "paid", PromptTokens: 30, CompletionTokens: 25, TranscriptHash: make([]byte, 32)}
	})
	if r := nextBlock(t, a, settle); r.TxResults[0].Code != 0 {
		t.Fatalf("settle: %s", r.TxResults[0].Log)
	}
	e := a.View().Escrows["paid"]
	if e.State != EscrowSettled || e.Fee != 110 || len(e.Validators) != 1 {
		t.Fatalf("escrow after settle: %+v, want settled, fee 2 × 55 = 110, one validator", e)
	}
	vote := sign(t, val, 2, func(t *tx.Tx) { t.InferenceVote = &tx.InferenceVote{EscrowID: "paid", OK: true} })
	if r := nextBlock(t, a, vote); r.TxResults[0].Code != 0 {
		t.Fatalf("vote: %s", r.TxResults[0].Log)
	}
	for a.View().Height < 9+st.Params.EscrowTimeoutBlocks+1 {
		nextBlock(t, a)
	}
	st = a.View()
	if e := st.Escrows["paid"]; e.State != EscrowValidated {
		t.Fatalf("paid escrow state %s, want validated", e.State)
	}
	if e := st.Escrows["dropped"]; e.State != EscrowRefunded {
		t.Fatalf("dropped escrow state %s, want refunded", e.State)
	}
	// Fee 110: validators ⌊110 × 1000/10000⌋ = 11, executor 99; bob pays
	// only the fee once the unsettled escrow is refunded.
	if got := bob0 - st.Accounts[addr(bob)].Balance; got != 110 {
		t.Errorf("bob paid %d, want 110", got)
	}
	if got := st.Accounts[addr(alice)].Balance - alice0; got != 99 {
		t.Errorf("host got %d, want 99", got)
	}
	if got := st.Accounts[addr(val)].Balance - val0; got != 11 {
		t.Errorf("validator got %d, want 11", got)
	}
}
