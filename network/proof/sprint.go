package proof

import (
	"context"
	"fmt"
	"sync"
)

// Sprint computes leaves 0..count-1 for hostPub over w with the given number
// of goroutines (at least 1) and returns their Merkle tree. It stops early
// with ctx's error when ctx is cancelled.
func Sprint(ctx context.Context, w *Weights, hostPub []byte, count uint64, workers int) (*Tree, error) {
	workers = max(workers, 1)
	leaves := make([][32]byte, count)
	var (
		mu   sync.Mutex
		next uint64
		wg   sync.WaitGroup
	)
	const batch = 16
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := w.Worker(hostPub)
			for ctx.Err() == nil {
				mu.Lock()
				lo := next
				next += batch
				mu.Unlock()
				if lo >= count {
					return
				}
				for i := lo; i < min(lo+batch, count); i++ {
					leaves[i] = Leaf(i, wk.Compute(i))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("proof sprint stopped after cancellation: %w", err)
	}
	return Build(leaves), nil
}
