package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"

	rpclocal "github.com/cometbft/cometbft/rpc/client/local"

	"github.com/jouleworks/joule/network/gateway"
	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/tx"
)

// Chain is a node's handle on its ledger for off-chain agents: read the
// committed state, and sign, broadcast and await transactions.
type Chain struct {
	app *ledger.App
	rpc *rpclocal.Local

	mu     sync.Mutex
	locks  map[string]*sync.Mutex
	nonces map[string]uint64 // last nonce this node signed per account
}

var _ gateway.Chain = (*Chain)(nil)

// View returns the last committed ledger state.
func (c *Chain) View() *ledger.State { return c.app.View() }

// Changed returns a channel closed at the next commit.
func (c *Chain) Changed() <-chan struct{} { return c.app.Changed() }

// follow calls step with each committed state past genesis until ctx ends.
// Blocks committed while step runs are coalesced: the next call sees the
// newest state, and agents act on state, not on each block's events.
func (c *Chain) follow(ctx context.Context, step func(*ledger.State)) {
	for ctx.Err() == nil {
		ch := c.Changed() // before View, so no commit is missed
		if st := c.View(); st.Height > 0 {
			step(st)
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
}

// submitAttempts bounds retries of a transaction whose nonce raced another.
const submitAttempts = 4

// Submit signs t with key, broadcasts it and waits for it to be committed.
// A transaction rejected by CheckTx or in its block returns a *tx.Error.
// A nonce collision (another submitter using the same account) is retried
// with a fresh nonce.
func (c *Chain) Submit(ctx context.Context, key ed25519.PrivateKey, t *tx.Tx) (ledger.TxResult, error) {
	var last error
	for range submitAttempts {
		res, err := c.submitOnce(ctx, key, t)
		var te *tx.Error
		if errors.As(err, &te) && te.Code == tx.CodeBadNonce {
			last = err
			c.resync(Address(key))
			continue
		}
		return res, err
	}
	return ledger.TxResult{}, last
}

func (c *Chain) lock(addr string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	l, ok := c.locks[addr]
	if !ok {
		l = &sync.Mutex{}
		c.locks[addr] = l
	}
	return l
}

func (c *Chain) resync(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.nonces, addr)
}

func (c *Chain) submitOnce(ctx context.Context, key ed25519.PrivateKey, t *tx.Tx) (ledger.TxResult, error) {
	addr := Address(key)
	l := c.lock(addr)
	l.Lock()
	st := c.app.View()
	c.mu.Lock()
	nonce := c.nonces[addr]
	if a := st.Accounts[addr]; a != nil && a.Nonce > nonce {
		nonce = a.Nonce
	}
	nonce++
	c.nonces[addr] = nonce
	c.mu.Unlock()
	t.ChainID = st.ChainID
	t.Nonce = nonce
	if err := t.Sign(key); err != nil {
		l.Unlock()
		return ledger.TxResult{}, err
	}
	raw, err := t.Encode()
	if err != nil {
		l.Unlock()
		return ledger.TxResult{}, err
	}
	res, err := c.rpc.BroadcastTxSync(ctx, raw)
	l.Unlock()
	if err != nil {
		return ledger.TxResult{}, fmt.Errorf("broadcast %s: %w", t.Type(), err)
	}
	if res.Code != 0 {
		code := tx.Code(res.Code)
		return ledger.TxResult{}, &tx.Error{Code: code, Msg: strings.TrimPrefix(res.Log, code.String()+": ")}
	}
	r, err := c.app.WaitTx(ctx, tx.Hash(raw))
	if err != nil {
		return r, err
	}
	if r.Code != tx.CodeOK {
		return r, &tx.Error{Code: r.Code, Msg: strings.TrimPrefix(r.Log, r.Code.String()+": ")}
	}
	return r, nil
}
