package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

// BenchmarkFinalizeBlock measures a block of 500 signed transfers through
// FinalizeBlock and Commit (decode, signature check, execution, state
// encoding, app hash, atomic write).
func BenchmarkFinalizeBlock(b *testing.B) {
	const perBlock = 500
	a, err := NewApp(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "test", AppStateBytes: testGenesis()}); err != nil {
		b.Fatal(err)
	}
	nonce := uint64(0)
	block := func() [][]byte {
		txs := make([][]byte, perBlock)
		for i := range txs {
			nonce++
			tt := &tx.Tx{ChainID: "test", Nonce: nonce}
			transfer(bob, 1)(tt)
			_ = tt.Sign(alice)
			txs[i], _ = tt.Encode()
		}
		return txs
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		txs := block()
		h := a.View().Height + 1
		hash := sha256.Sum256([]byte{byte(h)})
		b.StartTimer()
		res, err := a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: h, Hash: hash[:], Txs: txs})
		if err != nil {
			b.Fatal(err)
		}
		if res.TxResults[perBlock-1].Code != 0 {
			b.Fatalf("tx failed: %s", res.TxResults[perBlock-1].Log)
		}
		if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/tx")
}

// BenchmarkVoteCheck measures what every node spends on one full proof
// vote without evidence: decoding 32 openings of a 16,384-leaf commitment,
// matching them to the validator's sample and checking each recomputed
// digest against the root by hashing (proof.CheckOpening) — no workload
// recomputation.
func BenchmarkVoteCheck(b *testing.B) {
	const count = proof.ReferenceSprint
	digests := make([]proof.Digest, count)
	leaves := make([][32]byte, count)
	for i := range digests {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		copy(digests[i][:], h[:])
		leaves[i] = proof.Leaf(uint64(i), digests[i])
	}
	tree := proof.Build(leaves)
	root := tree.Root()
	p := DefaultParams()
	reveal := sha256.Sum256([]byte("reveal"))
	ep := &Epoch{Reveal: reveal[:]}
	c := &Commitment{Root: root[:], Count: count}
	s := &State{Params: p}
	host, v := alicePub, tx.PubKey(val.Public().(ed25519.PublicKey))
	m := &tx.ProofVote{Host: host}
	for _, i := range proof.SampleLeaves(reveal, host, v, count, p.SamplesPerValidator) {
		o, _ := proof.Opening{Index: i, Digest: digests[i], Path: tree.Prove(i)}.MarshalBinary()
		m.Openings = append(m.Openings, o)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.checkVote(ep, c, v.String(), m); err != nil {
			b.Fatal(err)
		}
		if vote := judgeVote(c, m); vote.Bad || vote.Checked != uint64(p.SamplesPerValidator) {
			b.Fatalf("vote %+v, want 32 clean openings", vote)
		}
	}
}
