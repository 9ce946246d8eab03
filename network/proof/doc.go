// Package proof implements Joule's Proof of Compute: a transformer-shaped
// workload in int8 arithmetic with int32 accumulation whose output every
// honest machine reproduces bit for bit, plus the Merkle commitment, the
// post-commit leaf sampling and the validator assignment built on it.
//
// The workload is specified byte by byte in docs/network-spec.md; this
// package is the reference implementation and testdata/vectors.json holds
// its test vectors.
//
// How the ledger and a host use it:
//
//	w, _ := proof.NewWeights(proof.DefaultParams(), epochSeed) // once per epoch
//	tree, _ := proof.Sprint(ctx, w, hostPub, count, workers)   // host: leaves 0..count-1
//	root := tree.Root()                                         // host commits (root, count)
//	// after the commit, the chain reveals revealSeed:
//	vals := proof.AssignValidators(revealSeed, hostPub, validatorKeys, k)
//	idx := proof.SampleLeaves(revealSeed, hostPub, validatorKeys[vals[0]], count, n)
//	op, _ := proof.Open(tree, w.Worker(hostPub), idx[0])       // host answers each index
//	err := proof.VerifyOpening(w.Worker(hostPub), root, count, op) // validator checks
//
// Leaf i of a commitment is always Leaf(i, Compute(..., nonce=i)), so a host
// cannot count one computation twice. Nothing here uses floating point.
package proof
