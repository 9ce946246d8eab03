package proof_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/jouleworks/joule/network/proof"
)

// A host computes a sprint and commits (root, count); after the commit a
// reveal seed assigns validators and leaves; the host opens them and each
// validator recomputes. (A leaf faked at commit time fails recomputation
// with ErrWrongDigest; see TestOpenings.)
func Example() {
	p := proof.Params{Layers: 2, Dim: 16, Heads: 2, Seq: 4, FFN: 32,
		ShiftQKV: 7, ShiftAttn: 7, ShiftOut: 7, ShiftUp: 7, ShiftDown: 8}
	epochSeed := [32]byte{1}
	host := []byte("host public key")
	w, err := proof.NewWeights(p, epochSeed)
	if err != nil {
		panic(err)
	}
	tree, err := proof.Sprint(context.Background(), w, host, 100, 2)
	if err != nil {
		panic(err)
	}
	root, count := tree.Root(), tree.Count()

	reveal := [32]byte{2}
	validators := [][]byte{[]byte("v0"), []byte("v1"), []byte("v2"), []byte("v3")}
	assigned := proof.AssignValidators(reveal, host, validators, 2)
	wk := w.Worker(host)
	for _, v := range assigned {
		ok := 0
		for _, i := range proof.SampleLeaves(reveal, host, validators[v], count, 8) {
			op, _ := proof.Open(tree, wk, i)
			if proof.VerifyOpening(wk, root, count, op) == nil {
				ok++
			}
		}
		fmt.Printf("validator %d: %d of 8 openings verified\n", v, ok)
	}

	// An opening whose digest was altered after the commit no longer hashes
	// to the committed root.
	op, _ := proof.Open(tree, wk, 5)
	op.Digest[0] ^= 0xff
	err = proof.VerifyOpening(wk, root, count, op)
	fmt.Println(errors.Is(err, proof.ErrBadPath))
	// Output:
	// validator 3: 8 of 8 openings verified
	// validator 2: 8 of 8 openings verified
	// true
}
