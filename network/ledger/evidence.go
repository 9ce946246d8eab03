package ledger

import (
	"errors"
	"fmt"
	"sync"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// fraudProven checks that o is a leaf of host's commitment c in epoch ep
// (its Merkle path leads to the committed root) that differs from the leaf
// of the recomputed digest: proof that the host committed a nonce it did
// not compute. The ledger re-verifies the disputed leaf itself, so one such
// vote convicts and no vote can frame an honest host. Every node runs it,
// so it must be deterministic; it costs one nonce of the workload.
func (p Params) fraudProven(ep *Epoch, host tx.PubKey, c *Commitment, o proof.LeafOpening) error {
	w, err := epochWeights(p.Proof, [32]byte(ep.Seed))
	if err != nil {
		return err
	}
	err = proof.VerifyLeafOpening(w.Worker(host), [32]byte(c.Root), c.Count, o)
	switch {
	case err == nil:
		return fmt.Errorf("leaf %d opens correctly: no fraud", o.Index)
	case errors.Is(err, proof.ErrWrongDigest):
		return nil
	default:
		return fmt.Errorf("not an opening of the commitment: %w", err)
	}
}

// weightsCache keeps the last epochs' proof weights: deriving them is the
// expensive part of checking evidence, and the result depends only on the
// key, so caching cannot change any outcome.
var weightsCache struct {
	sync.Mutex
	m map[weightsKey]*proof.Weights
}

type weightsKey struct {
	p    proof.Params
	seed [32]byte
}

func epochWeights(p proof.Params, seed [32]byte) (*proof.Weights, error) {
	weightsCache.Lock()
	defer weightsCache.Unlock()
	k := weightsKey{p, seed}
	if w, ok := weightsCache.m[k]; ok {
		return w, nil
	}
	w, err := proof.NewWeights(p, seed)
	if err != nil {
		return nil, err
	}
	if weightsCache.m == nil || len(weightsCache.m) >= 4 {
		weightsCache.m = map[weightsKey]*proof.Weights{}
	}
	weightsCache.m[k] = w
	return w, nil
}
