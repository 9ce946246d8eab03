package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
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

// Validator is a validator's off-chain agent: for each host the reveal
// assigned to it, it fetches the sampled proof openings, recomputes them and
// votes; for each inference assigned to it, it fetches the transcript,
// re-executes it with the executor's tokens enforced and votes.
type Validator struct {
	chain    *Chain
	key      ed25519.PrivateKey
	addr     string
	backends map[string]model.Backend
	client   *http.Client
	log      *slog.Logger
	// lazy makes the agent vote without recomputing (fault injection for
	// tests and drills; see Options.LazyValidator).
	lazy bool

	// tasks is keyed "proof/<epoch>/<host>" or "inference/<escrow>".
	tasks *tasks[string]

	mu      sync.Mutex
	weights map[[32]byte]*proof.Weights
}

// NewValidator returns the agent for the account key; backends re-execute
// inferences of the models they serve.
func NewValidator(chain *Chain, key ed25519.PrivateKey, backends []model.Backend, log *slog.Logger) *Validator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("validator", Address(key)[:8])
	v := &Validator{
		chain: chain, key: key, addr: Address(key), backends: map[string]model.Backend{},
		client: &http.Client{Timeout: 30 * time.Second}, log: log,
		tasks:   newTasks[string](log, "validation step failed", time.Minute, true),
		weights: map[[32]byte]*proof.Weights{},
	}
	for _, b := range backends {
		for _, m := range b.Models() {
			if _, ok := v.backends[m]; !ok {
				v.backends[m] = b
			}
		}
	}
	return v
}

// Run votes on whatever is assigned to this validator until ctx ends.
func (v *Validator) Run(ctx context.Context) {
	v.chain.follow(ctx, func(st *ledger.State) {
		if slices.Contains(st.Validators, v.addr) {
			v.step(ctx, st)
		}
	})
}

func (v *Validator) step(ctx context.Context, st *ledger.State) {
	v.forget(st)
	e, phase, _ := st.Params.EpochAt(st.Height + 1)
	if ep := st.Epoch(e); ep != nil && phase == ledger.PhaseValidation && len(ep.Reveal) > 0 {
		for _, host := range sortedKeys(ep.Commitments) {
			c := ep.Commitments[host]
			if !slices.Contains(c.Validators, v.addr) {
				continue
			}
			if _, voted := c.Votes[v.addr]; voted {
				continue
			}
			hs := st.Hosts[host]
			if hs == nil {
				continue
			}
			v.tasks.once(ctx, fmt.Sprintf("proof/%d/%s", e, host), func(ctx context.Context) error {
				return v.checkProof(ctx, st.Params, ep, host, hs.Endpoint, c)
			})
		}
	}
	for _, id := range sortedKeys(st.Escrows) {
		es := st.Escrows[id]
		if es.State != ledger.EscrowSettled || !slices.Contains(es.Validators, v.addr) {
			continue
		}
		if _, voted := es.Votes[v.addr]; voted {
			continue
		}
		hs := st.Hosts[es.Host]
		if hs == nil {
			continue
		}
		v.tasks.once(ctx, "inference/"+id, func(ctx context.Context) error {
			return v.checkInference(ctx, id, es, hs.Endpoint)
		})
	}
}

// forget drops finished tasks: escrows no longer awaiting votes and
// epochs past their validation.
func (v *Validator) forget(st *ledger.State) {
	e, _, _ := st.Params.EpochAt(st.Height + 1)
	epoch := strconv.FormatUint(e, 10)
	v.tasks.forget(func(k string) bool {
		if id, ok := strings.CutPrefix(k, "inference/"); ok {
			es := st.Escrows[id]
			return es == nil || es.State != ledger.EscrowSettled
		}
		if rest, ok := strings.CutPrefix(k, "proof/"); ok {
			n, _, _ := strings.Cut(rest, "/")
			return n != epoch
		}
		return false
	})
}

func (v *Validator) epochWeights(p proof.Params, seed [32]byte) (*proof.Weights, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if w, ok := v.weights[seed]; ok {
		return w, nil
	}
	w, err := proof.NewWeights(p, seed)
	if err != nil {
		return nil, err
	}
	if len(v.weights) >= 2 {
		clear(v.weights)
	}
	v.weights[seed] = w
	return w, nil
}

// checkProof samples the host's leaves, fetches their openings (leaf hash
// and path, no digest), recomputes each digest and votes: an opening whose
// leaf is the recomputed digest's goes into the vote with that digest (the
// chain checks it against the root by hashing); the first whose path is
// valid but whose leaf differs is the vote's fraud evidence. Openings the
// host does not deliver, or delivers with a broken path, are left out: a
// withholding host stays unverified and earns nothing (and is convicted if
// it keeps doing so), but one network fault cannot get it slashed.
func (v *Validator) checkProof(ctx context.Context, p ledger.Params, ep *ledger.Epoch, host, endpoint string, c *ledger.Commitment) error {
	hostPub, err := tx.ParsePubKey(host)
	if err != nil {
		return err
	}
	me := tx.PubKey(v.key.Public().(ed25519.PublicKey))
	leaves := proof.SampleLeaves([32]byte(ep.Reveal), hostPub, me, c.Count, p.SamplesPerValidator)
	w, err := v.epochWeights(p.Proof, [32]byte(ep.Seed))
	if err != nil {
		return err
	}
	wk := w.Worker(hostPub)
	got, ferr := v.fetchOpenings(ctx, endpoint, ep.Number, leaves)
	if ferr != nil {
		v.log.Info("host withheld openings", "host", host[:8], "epoch", ep.Number, "err", ferr)
	}
	root := [32]byte(c.Root)
	var openings []tx.Bytes
	var evidence []byte
	for i, lo := range got {
		if i >= len(leaves) || lo.Index != leaves[i] {
			continue // not what was asked: unanswered
		}
		if err := proof.CheckLeafOpening(root, c.Count, lo); err != nil {
			v.log.Info("bad opening", "host", host[:8], "epoch", ep.Number, "err", err)
			continue
		}
		var d proof.Digest
		if v.lazy {
			copy(d[:], lo.Leaf[:]) // a guess: no work done
		} else {
			d = wk.Compute(lo.Index)
		}
		if v.lazy || proof.Leaf(lo.Index, d) == lo.Leaf {
			b, err := lo.WithDigest(d).MarshalBinary()
			if err != nil {
				return err
			}
			openings = append(openings, b)
			continue
		}
		if evidence == nil {
			if evidence, err = lo.MarshalBinary(); err != nil {
				return err
			}
			v.log.Info("fraudulent leaf", "host", host[:8], "epoch", ep.Number, "leaf", lo.Index)
		}
	}
	_, err = v.chain.Submit(ctx, v.key, &tx.Tx{ProofVote: &tx.ProofVote{Epoch: ep.Number, Host: hostPub, Openings: openings, Evidence: evidence}})
	return err
}

func (v *Validator) fetchOpenings(ctx context.Context, endpoint string, epoch uint64, leaves []uint64) ([]proof.LeafOpening, error) {
	idx := make([]string, len(leaves))
	for i, l := range leaves {
		idx[i] = strconv.FormatUint(l, 10)
	}
	url := fmt.Sprintf("%s%s?epoch=%d&leaves=%s", endpoint, gateway.PathOpenings, epoch, strings.Join(idx, ","))
	var out gateway.Openings
	if err := v.getJSON(ctx, url, &out); err != nil {
		return nil, err
	}
	ops := make([]proof.LeafOpening, len(out.Openings))
	for i, h := range out.Openings {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("opening %d: %w", i, err)
		}
		if err := ops[i].UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("opening %d: %w", i, err)
		}
	}
	return ops, nil
}

func (v *Validator) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out)
}

// checkInference fetches the settled transcript, checks it against the
// chain (transcript hash, request hash, seed, token counts) and re-executes
// it. A transcript the host will not serve, or one that disagrees with the
// chain, fails.
func (v *Validator) checkInference(ctx context.Context, id string, es *ledger.Escrow, endpoint string) error {
	be, ok := v.backends[es.Model]
	if !ok {
		return fmt.Errorf("escrow %s: no backend for model %s here", id, es.Model)
	}
	ok, why, err := v.verdict(ctx, id, es, endpoint, be)
	if err != nil {
		return err // our own backend failed: no evidence either way; retry
	}
	if !ok {
		v.log.Info("inference failed validation", "escrow", id, "why", why)
	}
	_, err = v.chain.Submit(ctx, v.key, &tx.Tx{InferenceVote: &tx.InferenceVote{EscrowID: id, OK: ok}})
	return err
}

func (v *Validator) verdict(ctx context.Context, id string, es *ledger.Escrow, endpoint string, be model.Backend) (bool, string, error) {
	var t gateway.Transcript
	if err := v.getJSON(ctx, endpoint+gateway.PathTranscript+id, &t); err != nil {
		return false, "transcript unavailable: " + err.Error(), nil
	}
	h, err := t.Hash()
	if err != nil || string(h[:]) != string(es.TranscriptHash) {
		return false, "transcript does not match the settled hash", nil
	}
	rh := t.Request.Hash()
	switch {
	case string(rh[:]) != string(es.RequestHash):
		return false, "transcript request differs from the escrowed request", nil
	case t.Seed != es.Seed:
		return false, "transcript seed differs from the ledger's", nil
	case uint64(t.Completion.CompletionTokens) != es.CompletionTokens || uint64(t.Completion.PromptTokens) != es.PromptTokens:
		return false, "settled token counts differ from the transcript", nil
	}
	verdict, err := model.Validate(ctx, be, t.Request.ModelRequest(t.Seed), t.Completion, model.Exact)
	if err != nil {
		return false, "", fmt.Errorf("re-execute escrow %s: %w", id, err)
	}
	if !verdict.Valid {
		return false, verdict.Reason + ": " + verdict.Detail, nil
	}
	return true, "", nil
}

// sortedKeys returns m's keys in order: state is walked in key order, never
// in Go's randomised map order, so every node does the same.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
