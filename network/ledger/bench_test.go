package ledger

import (
	"context"
	"crypto/sha256"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

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
