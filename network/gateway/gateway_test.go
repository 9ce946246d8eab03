package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/jouleworks/joule/network/gateway"
	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/tx"
)

// ledgerChain runs the real ledger application without consensus: each
// Submit is checked and committed as its own block.
type ledgerChain struct {
	mu  sync.Mutex
	app *ledger.App
}

func newLedgerChain(t *testing.T, balances map[string]uint64) *ledgerChain {
	t.Helper()
	app, err := ledger.NewApp(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := ledger.Genesis{Params: ledger.DefaultParams(), Models: map[string]ledger.Model{"joule-ref-1": {PricePerToken: 1}},
		Balances: balances, Validators: []string{strings.Repeat("ab", 32)}}
	b, _ := json.Marshal(g)
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "gw", AppStateBytes: b}); err != nil {
		t.Fatal(err)
	}
	return &ledgerChain{app: app}
}

func (c *ledgerChain) View() *ledger.State { return c.app.View() }

func (c *ledgerChain) Changed() <-chan struct{} { return c.app.Changed() }

func (c *ledgerChain) Submit(ctx context.Context, key ed25519.PrivateKey, t *tx.Tx) (ledger.TxResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.app.View()
	t.ChainID = st.ChainID
	t.Nonce = 1
	if a := st.Accounts[tx.PubKey(key.Public().(ed25519.PublicKey)).String()]; a != nil {
		t.Nonce = a.Nonce + 1
	}
	if err := t.Sign(key); err != nil {
		return ledger.TxResult{}, err
	}
	raw, _ := t.Encode()
	h := sha256.Sum256([]byte{byte(st.Height)})
	res, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: st.Height + 1, Hash: h[:], Txs: [][]byte{raw}})
	if err != nil {
		return ledger.TxResult{}, err
	}
	if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		return ledger.TxResult{}, err
	}
	r := res.TxResults[0]
	if r.Code != 0 {
		return ledger.TxResult{}, &tx.Error{Code: tx.Code(r.Code), Msg: r.Log}
	}
	return ledger.TxResult{Height: st.Height + 1}, nil
}

type errorBody struct {
	Error map[string]any `json:"error"`
}

var errorCases = []struct {
	name   string
	method string
	path   string
	key    string
	body   string
	status int
	code   any
	param  any
}{
	{"no key", "POST", "/v1/chat/completions", "", `{}`, 401, "invalid_api_key", nil},
	{"wrong key", "POST", "/v1/chat/completions", "sk-nope", `{}`, 401, "invalid_api_key", nil},
	{"bad json", "POST", "/v1/chat/completions", "sk-test", `{"model":`, 400, nil, nil},
	{"no messages", "POST", "/v1/chat/completions", "sk-test", `{"model":"joule-ref-1","messages":[]}`, 400, nil, nil},
	{"bad temperature", "POST", "/v1/chat/completions", "sk-test", `{"model":"joule-ref-1","messages":[{"role":"user","content":"hi"}],"temperature":7}`, 400, nil, "temperature"},
	{"n > 1", "POST", "/v1/chat/completions", "sk-test", `{"model":"joule-ref-1","messages":[{"role":"user","content":"hi"}],"n":2}`, 400, nil, "n"},
	{"unknown model", "POST", "/v1/chat/completions", "sk-test", `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "model"},
	{"no host yet", "POST", "/v1/chat/completions", "sk-test", `{"model":"joule-ref-1","messages":[{"role":"user","content":"hi"}]}`, 503, "no_host", "model"},
	{"oversized", "POST", "/v1/chat/completions", "sk-test", `{"model":"joule-ref-1","messages":[{"role":"user","content":"` + strings.Repeat("x", gateway.MaxBodyBytes) + `"}]}`, 413, "request_too_large", nil},
	{"unknown path", "GET", "/v1/embeddings", "sk-test", ``, 404, "unknown_url", nil},
}

func TestErrorShapes(t *testing.T) {
	payer := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	chain := newLedgerChain(t, map[string]uint64{tx.PubKey(payer.Public().(ed25519.PublicKey)).String(): 1000})
	srv := httptest.NewServer(gateway.New(chain, map[string]ed25519.PrivateKey{"sk-test": payer}, nil).Handler())
	defer srv.Close()
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			if c.key != "" {
				req.Header.Set("Authorization", "Bearer "+c.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body errorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d (%v)", resp.StatusCode, c.status, body.Error)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := body.Error[k]; !ok {
					t.Fatalf("error body lacks %q: %v", k, body.Error)
				}
			}
			if msg, _ := body.Error["message"].(string); msg == "" {
				t.Fatalf("empty message: %v", body.Error)
			}
			if body.Error["code"] != c.code || body.Error["param"] != c.param {
				t.Fatalf("code, param = %v, %v; want %v, %v", body.Error["code"], body.Error["param"], c.code, c.param)
			}
		})
	}
}

func TestModels(t *testing.T) {
	payer := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	chain := newLedgerChain(t, nil)
	srv := httptest.NewServer(gateway.New(chain, map[string]ed25519.PrivateKey{"sk-test": payer}, nil).Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != "joule-ref-1" || list.Data[0].Object != "model" {
		t.Fatalf("models = %+v, want one joule-ref-1", list)
	}
}
