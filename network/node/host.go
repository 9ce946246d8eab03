package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jouleworks/joule/network/gateway"
	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// HostConfig configures a compute host.
type HostConfig struct {
	Key     ed25519.PrivateKey
	Models  []string
	Backend model.Backend
	// Nonces caps the nonces computed per sprint, by Workers goroutines;
	// the host commits what it has 3 blocks before the sprint ends.
	Nonces  uint64
	Workers int
	Bond    uint64
	// Endpoint is the base URL where this host's HTTP handlers are
	// reachable (registered on chain).
	Endpoint string
	// Tamper, if set, replaces the digest of each nonce before it enters
	// the Merkle tree: a fault-injection hook for tests and drills that
	// play a cheating host. Honest hosts leave it nil.
	Tamper func(nonce uint64, d proof.Digest) proof.Digest
}

// Host is a compute host's agent: it registers, runs a proof sprint every
// epoch and commits its root, serves proof openings to validators, and
// serves escrowed inference requests, settling them on chain.
type Host struct {
	cfg   HostConfig
	chain *Chain
	log   *slog.Logger
	addr  string

	mu          sync.Mutex
	sprints     map[uint64]*proof.Tree // by epoch
	transcripts map[string]*gateway.Transcript
	// tasks is keyed by epoch (a sprint), or registerTask.
	tasks *tasks[uint64]
}

// registerTask is the tasks key of (re-)registration, which no epoch uses.
const registerTask = ^uint64(0)

// NewHost returns a host agent; Run drives it and Register mounts its HTTP
// handlers.
func NewHost(chain *Chain, cfg HostConfig, log *slog.Logger) *Host {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("host", Address(cfg.Key)[:8])
	return &Host{
		cfg: cfg, chain: chain, addr: Address(cfg.Key), log: log,
		sprints: map[uint64]*proof.Tree{}, transcripts: map[string]*gateway.Transcript{},
		tasks: newTasks[uint64](log, "host step failed", 2*time.Minute, false),
	}
}

// Address is the host's ledger address.
func (h *Host) Address() string { return h.addr }

// Register mounts the host protocol on mux.
func (h *Host) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+gateway.PathInfer, h.serveInfer)
	mux.HandleFunc("GET "+gateway.PathTranscript+"{id}", h.serveTranscript)
	mux.HandleFunc("GET "+gateway.PathOpenings, h.serveOpenings)
}

// Run registers the host and takes part in every epoch until ctx ends.
func (h *Host) Run(ctx context.Context) {
	h.chain.follow(ctx, func(st *ledger.State) { h.step(ctx, st) })
}

func (h *Host) step(ctx context.Context, st *ledger.State) {
	h.pruneTranscripts(st)
	me := st.Hosts[h.addr]
	if me != nil && me.Excluded {
		return
	}
	if me == nil || me.Endpoint != h.cfg.Endpoint || !slices.Equal(me.Models, sorted(h.cfg.Models)) {
		h.tasks.once(ctx, registerTask, func(ctx context.Context) error {
			bond := h.cfg.Bond
			if me != nil {
				bond = 0
			}
			_, err := h.chain.Submit(ctx, h.cfg.Key, &tx.Tx{RegisterHost: &tx.RegisterHost{Models: h.cfg.Models, Endpoint: h.cfg.Endpoint, Bond: bond}})
			return err
		})
		return
	}
	e, phase, _ := st.Params.EpochAt(st.Height + 1)
	ep := st.Epoch(e)
	if phase != ledger.PhaseSprint || ep == nil {
		return
	}
	if _, done := ep.Commitments[h.addr]; done {
		return
	}
	params, seed := st.Params.Proof, ep.Seed
	deadline := st.Params.EpochStart(e) + st.Params.SprintBlocks - 1 - commitMargin
	h.tasks.once(ctx, e, func(ctx context.Context) error { return h.sprint(ctx, e, params, seed, deadline) })
}

// pruneTranscripts forgets transcripts whose validation window is over.
// One still open (the host is serving it) or settled (validators may ask)
// is kept.
func (h *Host) pruneTranscripts(st *ledger.State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.transcripts {
		if e := st.Escrows[id]; e == nil || (e.State != ledger.EscrowOpen && e.State != ledger.EscrowSettled) {
			delete(h.transcripts, id)
		}
	}
}

// commitMargin is how many blocks before the end of the sprint a host stops
// computing, to get its commitment included in time.
const commitMargin = 3

// sprint computes the epoch's nonces until Nonces are done or the sprint
// nears its end (deadline height), builds the Merkle tree and commits.
func (h *Host) sprint(ctx context.Context, e uint64, params proof.Params, seed []byte, deadline int64) error {
	h.mu.Lock()
	_, have := h.sprints[e]
	h.mu.Unlock()
	if !have {
		w, err := proof.NewWeights(params, [32]byte(seed))
		if err != nil {
			return err
		}
		digests, err := h.compute(ctx, w, deadline)
		if err != nil {
			return err
		}
		leaves := make([][32]byte, len(digests))
		for i := range digests {
			if h.cfg.Tamper != nil {
				digests[i] = h.cfg.Tamper(uint64(i), digests[i])
			}
			leaves[i] = proof.Leaf(uint64(i), digests[i])
		}
		h.mu.Lock()
		h.sprints[e] = proof.Build(leaves)
		for old := range h.sprints {
			if old+2 < e {
				delete(h.sprints, old)
			}
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	tree := h.sprints[e]
	h.mu.Unlock()
	root, count := tree.Root(), tree.Count()
	if count == 0 {
		return fmt.Errorf("epoch %d: no nonce computed before the commit deadline", e)
	}
	_, err := h.chain.Submit(ctx, h.cfg.Key, &tx.Tx{CommitProof: &tx.CommitProof{Epoch: e, Root: root[:], Count: count}})
	var te *tx.Error
	if errors.As(err, &te) && (te.Code == tx.CodeWrongPhase || te.Code == tx.CodeDuplicate) {
		h.log.Info("commitment not taken", "epoch", e, "err", err)
		return nil
	}
	if err == nil {
		h.log.Info("committed proof", "epoch", e, "count", count)
	}
	return err
}

// compute returns the digests of nonces 0..n-1, computing rounds of
// nonces on every worker until Nonces are done or the chain reaches the
// deadline height; n is a whole number of rounds, so the leaves are a
// contiguous prefix.
func (h *Host) compute(ctx context.Context, w *proof.Weights, deadline int64) ([]proof.Digest, error) {
	pub := tx.PubKey(h.cfg.Key.Public().(ed25519.PublicKey))
	workers := uint64(h.cfg.Workers)
	round := 8 * workers
	digests := make([]proof.Digest, 0, h.cfg.Nonces)
	wks := make([]*proof.Worker, workers)
	for i := range wks {
		wks[i] = w.Worker(pub)
	}
	for uint64(len(digests)) < h.cfg.Nonces {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(digests) > 0 && h.chain.View().Height >= deadline {
			break
		}
		lo := uint64(len(digests))
		n := min(round, h.cfg.Nonces-lo)
		digests = digests[:lo+n]
		var wg sync.WaitGroup
		for k := range workers {
			wg.Go(func() {
				for i := lo + k; i < lo+n; i += workers {
					digests[i] = wks[k].Compute(i)
				}
			})
		}
		wg.Wait()
	}
	return digests, nil
}

func (h *Host) serveOpenings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e, err := strconv.ParseUint(q.Get("epoch"), 10, 64)
	if err != nil {
		http.Error(w, "epoch: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	tree := h.sprints[e]
	h.mu.Unlock()
	if tree == nil {
		http.Error(w, fmt.Sprintf("no sprint for epoch %d", e), http.StatusNotFound)
		return
	}
	fields := strings.Split(q.Get("leaves"), ",")
	if len(fields) > 4096 {
		http.Error(w, "too many leaves", http.StatusRequestEntityTooLarge)
		return
	}
	var out gateway.Openings
	for _, f := range fields {
		i, err := strconv.ParseUint(f, 10, 64)
		if err != nil || i >= tree.Count() {
			http.Error(w, fmt.Sprintf("leaf %q: not in 0..%d", f, tree.Count()-1), http.StatusBadRequest)
			return
		}
		// The leaf hash, not the digest: a validator must recompute the
		// digest to check it, so it cannot vote without doing the work.
		o := proof.LeafOpening{Index: i, Leaf: tree.Leaf(i), Path: tree.Prove(i)}
		b, err := o.MarshalBinary()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Openings = append(out.Openings, hex.EncodeToString(b))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *Host) serveTranscript(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	t := h.transcripts[r.PathValue("id")]
	h.mu.Unlock()
	if t == nil {
		http.Error(w, "no transcript for escrow "+r.PathValue("id"), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(t)
}

// escrowWait bounds how long the host waits to see a gateway's escrow in
// its own view of the chain.
const escrowWait = 10 * time.Second

func (h *Host) serveInfer(w http.ResponseWriter, r *http.Request) {
	var call gateway.InferCall
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, gateway.MaxBodyBytes)).Decode(&call); err != nil {
		http.Error(w, "infer: "+err.Error(), http.StatusBadRequest)
		return
	}
	e, err := h.awaitEscrow(r.Context(), call)
	if err != nil {
		http.Error(w, err.Error(), http.StatusPaymentRequired)
		return
	}
	req := call.Request.ModelRequest(e.Seed)
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	c, err := model.Generate(r.Context(), h.cfg.Backend, req, func(t model.Token) error {
		if err := enc.Encode(gateway.InferEvent{Token: &t}); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil {
		_ = enc.Encode(gateway.InferEvent{Error: err.Error()})
		return
	}
	t := &gateway.Transcript{EscrowID: call.EscrowID, Request: call.Request, Seed: e.Seed, Completion: c}
	hash, err := t.Hash()
	if err != nil {
		_ = enc.Encode(gateway.InferEvent{Error: err.Error()})
		return
	}
	h.mu.Lock()
	h.transcripts[call.EscrowID] = t
	h.mu.Unlock()
	// The receipt binds this host to the transcript it served: settling
	// another one is provable equivocation.
	receipt := ed25519.Sign(h.cfg.Key, tx.ReceiptBytes(call.EscrowID, hash[:]))
	_ = enc.Encode(gateway.InferEvent{Done: &gateway.InferDone{
		FinishReason: c.FinishReason, PromptTokens: c.PromptTokens, CompletionTokens: c.CompletionTokens,
		TranscriptHash: hex.EncodeToString(hash[:]), Receipt: hex.EncodeToString(receipt),
	}})
	settle := &tx.Tx{SettleInference: &tx.SettleInference{
		EscrowID: call.EscrowID, PromptTokens: uint64(c.PromptTokens), CompletionTokens: uint64(c.CompletionTokens), TranscriptHash: hash[:],
	}}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.chain.Submit(ctx, h.cfg.Key, settle); err != nil {
			h.log.Warn("settle failed", "escrow", call.EscrowID, "err", err)
		}
	}()
}

// awaitEscrow waits until the escrow for call is committed and checks that
// it pays this host for exactly this request.
func (h *Host) awaitEscrow(ctx context.Context, call gateway.InferCall) (*ledger.Escrow, error) {
	ctx, cancel := context.WithTimeout(ctx, escrowWait)
	defer cancel()
	for {
		ch := h.chain.Changed()
		if e := h.chain.View().Escrows[call.EscrowID]; e != nil {
			rh := call.Request.Hash()
			switch {
			case e.Host != h.addr:
				return nil, fmt.Errorf("escrow %s pays host %s, not this host", call.EscrowID, e.Host)
			case e.State != ledger.EscrowOpen:
				return nil, fmt.Errorf("escrow %s is %s", call.EscrowID, e.State)
			case string(e.RequestHash) != string(rh[:]):
				return nil, fmt.Errorf("escrow %s was opened for another request", call.EscrowID)
			case e.Model != call.Request.Model:
				return nil, fmt.Errorf("escrow %s is for model %s", call.EscrowID, e.Model)
			}
			return e, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("escrow %s not on chain after %s", call.EscrowID, escrowWait)
		}
	}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}
