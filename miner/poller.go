package miner

import (
	"context"
	"sync"
)

// DefaultConcurrency bounds simultaneous polls. Each poll holds one client
// socket (a few for Whatsminer); 256 keeps a 10,000-miner sweep well under
// common fd limits while keeping loopback and LAN round trips overlapped.
const DefaultConcurrency = 256

// PollResult is one miner's outcome in a sweep: a Reading or an error naming
// the miner.
type PollResult struct {
	Target  Target
	Reading Reading
	Err     error
}

// Poller sweeps a fleet with bounded concurrency.
type Poller struct {
	Concurrency int     // 0: DefaultConcurrency
	Options     Options // timeouts and credentials for detection
}

// Sweep reads every miner once and returns results in the order given.
func (p *Poller) Sweep(ctx context.Context, miners []Miner) []PollResult {
	out := make([]PollResult, len(miners))
	Each(len(miners), p.Concurrency, func(i int) {
		r, err := miners[i].Read(ctx)
		out[i] = PollResult{Target: miners[i].Target(), Reading: r, Err: err}
	})
	return out
}

// Scan detects and reads every target (those with a known Dialect skip
// detection), returning the opened miners beside the results; a nil Miner
// means nothing usable answered.
func (p *Poller) Scan(ctx context.Context, targets []Target) ([]Miner, []PollResult) {
	miners := make([]Miner, len(targets))
	out := make([]PollResult, len(targets))
	// Every target runs even after ctx ends: the dial then fails at once
	// with the cancellation, so each miner is accounted for in the results.
	Each(len(targets), p.Concurrency, func(i int) {
		out[i].Target = targets[i]
		m, err := Dial(ctx, targets[i], p.Options)
		if err != nil {
			out[i].Err = err
			return
		}
		miners[i] = m
		out[i].Target = m.Target()
		out[i].Reading, out[i].Err = m.Read(ctx)
		if out[i].Err == nil {
			id := m.Identity()
			r := &out[i].Reading
			if r.Model == "" {
				r.Model = id.Model
			}
			if r.Firmware == "" {
				r.Firmware = id.Firmware
			}
		}
	})
	return miners, out
}

// Each runs fn(0..n-1) on at most workers goroutines (workers <= 0:
// DefaultConcurrency) and returns when all have run. The fleet controller
// shares it so polls and commands are bounded the same way.
func Each(n, workers int, fn func(i int)) {
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	workers = min(workers, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
