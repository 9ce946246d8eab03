package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/jouleworks/joule/network/tx"
)

// Codespace tags every result code this application returns.
const Codespace = "joule"

// stateFile is the committed state's file name in the app's data directory.
const stateFile = "joule-ledger.json"

// App is the ABCI++ application. CometBFT serialises its ABCI calls; View,
// Changed and WaitTx are safe to call from any goroutine (the node's agents
// and gateway use them).
type App struct {
	abci.BaseApplication

	dir string
	log *slog.Logger

	mu        sync.Mutex
	committed []byte // encoding of the last committed state
	working   *State // state of the block being finalized
	workBytes []byte
	pending   []txResult
	checkNonc map[string]uint64 // highest nonce admitted to the mempool per account

	view    atomic.Pointer[State]
	changed atomic.Pointer[chan struct{}]

	resMu   sync.Mutex
	results map[[32]byte]TxResult
	order   [][32]byte
	waiters map[[32]byte][]chan TxResult
}

// TxResult is a committed transaction's outcome.
type TxResult struct {
	Height int64
	Code   tx.Code
	Log    string
}

type txResult struct {
	hash [32]byte
	res  TxResult
}

// maxResults bounds the in-memory index of recent transaction results.
const maxResults = 100_000

var _ abci.Application = (*App)(nil)

// NewApp opens the application whose state lives in dir, resuming from the
// committed state there if any.
func NewApp(dir string, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	a := &App{dir: dir, log: log, checkNonc: map[string]uint64{}, results: map[[32]byte]TxResult{}, waiters: map[[32]byte][]chan TxResult{}}
	ch := make(chan struct{})
	a.changed.Store(&ch)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case err == nil:
		s, err := decodeState(b)
		if err != nil {
			return nil, fmt.Errorf("ledger: %s: %w", filepath.Join(dir, stateFile), err)
		}
		a.committed = b
		a.view.Store(s)
	case os.IsNotExist(err):
		a.view.Store(&State{})
	default:
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return a, nil
}

// View returns the last committed state. Callers must not modify it.
func (a *App) View() *State { return a.view.Load() }

// Changed returns a channel closed at the next commit. Take it before
// reading View to never miss a block.
func (a *App) Changed() <-chan struct{} { return *a.changed.Load() }

// WaitTx waits until the transaction with this hash is committed and returns
// its result.
func (a *App) WaitTx(ctx context.Context, hash [32]byte) (TxResult, error) {
	a.resMu.Lock()
	if r, ok := a.results[hash]; ok {
		a.resMu.Unlock()
		return r, nil
	}
	ch := make(chan TxResult, 1)
	a.waiters[hash] = append(a.waiters[hash], ch)
	a.resMu.Unlock()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		a.resMu.Lock()
		ws := a.waiters[hash]
		for i, w := range ws {
			if w == ch {
				a.waiters[hash] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(a.waiters[hash]) == 0 {
			delete(a.waiters, hash)
		}
		a.resMu.Unlock()
		return TxResult{}, fmt.Errorf("wait for tx %x: %w", hash[:6], ctx.Err())
	}
}

// Info tells CometBFT the last committed height and app hash so it replays
// only the blocks the application has not yet seen.
func (a *App) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.view.Load()
	res := &abci.ResponseInfo{Data: "joule-ledger", Version: "1", AppVersion: 1, LastBlockHeight: s.Height}
	if a.committed != nil && s.Height > 0 {
		res.LastBlockAppHash = appHash(a.committed)
	}
	return res, nil
}

// InitChain builds the genesis state from the genesis app_state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var g Genesis
	dec := json.NewDecoder(strings.NewReader(string(req.AppStateBytes)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("ledger: genesis app_state: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	s := newState(req.ChainId, &g)
	b, err := s.encode()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.committed = b
	a.view.Store(s)
	return &abci.ResponseInitChain{AppHash: appHash(b)}, nil
}

// CheckTx admits a transaction to the mempool if it decodes, verifies, and
// passes every check against the committed state, with nonces counted
// against transactions already admitted since the last commit.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	if err := a.checkTx(req.Tx); err != nil {
		return &abci.ResponseCheckTx{Code: uint32(err.Code), Log: err.Error(), Codespace: Codespace}, nil
	}
	return &abci.ResponseCheckTx{Code: 0}, nil
}

func (a *App) checkTx(raw []byte) *tx.Error {
	t, err := decodeVerify(raw)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.view.Load()
	from := t.From.String()
	if n, ok := a.checkNonc[from]; ok && t.Nonce <= n {
		return tx.Errf(tx.CodeBadNonce, "nonce %d already used by a pending tx of %s (at %d)", t.Nonce, short(from), n)
	}
	if e := s.check(t, block{Height: s.Height + 1}); e != nil {
		return e
	}
	a.checkNonc[from] = t.Nonce
	return nil
}

func decodeVerify(raw []byte) (*tx.Tx, *tx.Error) {
	t, err := tx.Decode(raw)
	if err != nil {
		return nil, asTxError(err)
	}
	if err := t.Verify(); err != nil {
		return nil, asTxError(err)
	}
	return t, nil
}

func asTxError(err error) *tx.Error {
	if te, ok := err.(*tx.Error); ok {
		return te
	}
	return &tx.Error{Code: tx.CodeMalformed, Msg: err.Error()}
}

// PrepareProposal keeps the mempool's order, drops transactions that no
// longer decode or verify, and stays within the block byte limit.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	var out [][]byte
	var size int64
	for _, raw := range req.Txs {
		if _, err := decodeVerify(raw); err != nil {
			continue
		}
		if size+int64(len(raw)) > req.MaxTxBytes {
			break
		}
		size += int64(len(raw))
		out = append(out, raw)
	}
	return &abci.ResponsePrepareProposal{Txs: out}, nil
}

// ProcessProposal rejects a block carrying a transaction that does not
// decode or verify: an honest proposer never includes one.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	for _, raw := range req.Txs {
		if _, err := decodeVerify(raw); err != nil {
			a.log.Warn("rejecting proposal", "height", req.Height, "err", err)
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock applies a decided block to a copy of the committed state and
// returns the results and the new app hash; Commit makes it durable.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, err := decodeState(a.committed)
	if err != nil {
		return nil, fmt.Errorf("ledger: finalize %d: %w", req.Height, err)
	}
	s.Height = req.Height
	b := block{Height: req.Height, Hash: req.Hash}
	s.beginBlock(b)
	res := make([]*abci.ExecTxResult, len(req.Txs))
	a.pending = a.pending[:0]
	for i, raw := range req.Txs {
		code, log := tx.CodeOK, ""
		t, terr := decodeVerify(raw)
		if terr == nil {
			terr = s.check(t, b)
		}
		if terr != nil {
			code, log = terr.Code, terr.Error()
		} else {
			s.exec(t, b)
		}
		res[i] = &abci.ExecTxResult{Code: uint32(code), Log: log, Codespace: Codespace}
		a.pending = append(a.pending, txResult{hash: tx.Hash(raw), res: TxResult{Height: req.Height, Code: code, Log: log}})
	}
	s.endBlock(b)
	enc, err := s.encode()
	if err != nil {
		return nil, err
	}
	a.working, a.workBytes = s, enc
	return &abci.ResponseFinalizeBlock{TxResults: res, AppHash: appHash(enc)}, nil
}

// Commit writes the finalized state to disk (atomically: temp file and
// rename), publishes it to readers and wakes transaction waiters.
func (a *App) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.working == nil {
		return &abci.ResponseCommit{}, nil
	}
	if err := writeAtomic(filepath.Join(a.dir, stateFile), a.workBytes); err != nil {
		return nil, fmt.Errorf("ledger: commit height %d: %w", a.working.Height, err)
	}
	a.committed = a.workBytes
	a.view.Store(a.working)
	a.working, a.workBytes = nil, nil
	clear(a.checkNonc)

	a.resMu.Lock()
	for _, p := range a.pending {
		if _, ok := a.results[p.hash]; !ok {
			a.order = append(a.order, p.hash)
		}
		a.results[p.hash] = p.res
		for _, w := range a.waiters[p.hash] {
			w <- p.res
		}
		delete(a.waiters, p.hash)
	}
	if over := len(a.order) - maxResults; over > 0 {
		for _, h := range a.order[:over] {
			delete(a.results, h)
		}
		a.order = append([][32]byte(nil), a.order[over:]...)
	}
	a.resMu.Unlock()
	a.pending = a.pending[:0]

	next := make(chan struct{})
	old := a.changed.Swap(&next)
	close(*old)
	return &abci.ResponseCommit{}, nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ledger-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
