package emulator

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// benchMixes are the 10,000-miner fleets of the listener benchmarks. Every
// endpoint is its own socket on the miner's own address, so a fleet needs
// Listeners() descriptors plus ConnReserve: the default mix (40 % stock,
// 30 % LuxOS, 20 % Whatsminer, 10 % Braiins) binds 17,000 sockets, LuxOS
// alone 10,000; both fit `ulimit -n 20000` with the reserve.
var benchMixes = []struct{ name, mix string }{
	{"default-mix", DefaultMix},
	{"luxos", "s19xp:luxos"},
}

// BenchmarkFleetStart10k builds and binds a 10,000-miner fleet and closes
// it again.
func BenchmarkFleetStart10k(b *testing.B) {
	for _, bc := range benchMixes {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				f, err := NewFleet(Config{Count: 10000, Mix: bc.mix, Seed: 1, Net: testNet(240), FreePorts: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := f.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(f.Listeners()), "listeners")
				f.Close()
			}
		})
	}
}

// BenchmarkAdvance10k steps the physics of 10,000 miners by one simulated
// second.
func BenchmarkAdvance10k(b *testing.B) {
	f, err := NewFleet(Config{Count: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f.Advance(time.Second)
	}
}

// BenchmarkSweep10k polls summary and stats from every miner of a running
// 10,000-miner fleet (default mix, 17,000 listeners) over loopback with a
// plain TCP client, 64 at a time. Requests are JSON: stock bmminer answers
// plain-text requests in its text format.
func BenchmarkSweep10k(b *testing.B) {
	f, err := NewFleet(Config{Count: 10000, Seed: 1, Net: testNet(241), FreePorts: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ms := f.Miners()
	for b.Loop() {
		sem := make(chan struct{}, 64)
		var wg sync.WaitGroup
		for _, m := range ms {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				for _, cmd := range []string{`{"command":"summary"}`, `{"command":"stats"}`} {
					c, err := net.DialTimeout("tcp", m.CGMiner.String(), 5*time.Second)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.WriteString(c, cmd)
					_, _ = io.ReadAll(c)
					c.Close()
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(f.Listeners()), "listeners")
}
