// Package gateway is the OpenAI-compatible HTTP gateway every Joule node
// serves: it authenticates an API key to a ledger account, escrows the
// request's maximum cost on chain, routes it to a host chosen at random in
// proportion to verified proof weight, and relays the host's tokens as an
// OpenAI chat completion (JSON or SSE stream). The host settles on actual
// tokens and validators re-execute the transcript later.
package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/tx"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 1 << 20

// DefaultMaxTokens applies when a request sets neither max_tokens nor
// max_completion_tokens.
const DefaultMaxTokens = 64

// Chain is what the gateway needs from its node.
type Chain interface {
	// View returns the last committed ledger state (read-only).
	View() *ledger.State
	// Submit signs t with key (setting chain id and nonce), broadcasts it
	// and waits until it is committed; a rejected tx is a *tx.Error.
	Submit(ctx context.Context, key ed25519.PrivateKey, t *tx.Tx) (ledger.TxResult, error)
	// Changed returns a channel closed at the next commit.
	Changed() <-chan struct{}
}

// Server is the gateway's HTTP handler.
type Server struct {
	chain  Chain
	keys   map[string]ed25519.PrivateKey
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	rng      *mrand.Rand
	disputes int

	// Settlement watchers run past the request that started them; ctx ends
	// them on Close so none outlives the node it submits through.
	ctx      context.Context
	stop     context.CancelFunc
	watchers sync.WaitGroup
}

// New returns a gateway over chain. keys maps API keys to the ledger
// account keys that pay for their requests.
func New(chain Chain, keys map[string]ed25519.PrivateKey, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	ctx, stop := context.WithCancel(context.Background())
	return &Server{
		chain: chain, keys: keys, log: log, now: time.Now,
		client: &http.Client{Timeout: 5 * time.Minute},
		rng:    mrand.New(mrand.NewChaCha8(seed)),
		ctx:    ctx, stop: stop,
	}
}

// Close stops the settlement watchers and waits for them to return. Call it
// after the HTTP server has stopped taking requests.
func (s *Server) Close() {
	s.stop()
	s.watchers.Wait()
}

// Handler returns the gateway's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chatCompletions)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "unknown_url", fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path))
	})
	return mux
}

// Register mounts the gateway on mux.
func (s *Server) Register(mux *http.ServeMux) {
	h := s.Handler()
	mux.Handle("/v1/", h)
}

// pickHost draws an active host for modelID with probability proportional
// to its weight. It returns "" when none serves the model.
func (s *Server) pickHost(st *ledger.State, modelID string) (string, string) {
	addrs, weights := st.ActiveHosts(modelID)
	var total uint64
	for _, w := range weights {
		total += w
	}
	if total == 0 {
		return "", ""
	}
	s.mu.Lock()
	r := s.rng.Uint64N(total)
	s.mu.Unlock()
	for i, w := range weights {
		if r < w {
			return addrs[i], st.Hosts[addrs[i]].Endpoint
		}
		r -= w
	}
	return "", ""
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) account(r *http.Request) (ed25519.PrivateKey, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return nil, false
	}
	k, ok := s.keys[h[len(prefix):]]
	return k, ok
}

// errHost marks failures of the chosen host (as opposed to bad requests).
var errHost = errors.New("host failed")
