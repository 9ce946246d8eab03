package roundtrip

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/miner"
)

// openFleet returns a Miner per emulated miner, dialect known (a site's
// inventory), as a controller's poll loop holds them.
func openFleet(t testing.TB, f *emulator.Fleet, opt miner.Options) []miner.Miner {
	t.Helper()
	out := make([]miner.Miner, f.Len())
	for i, mi := range f.Miners() {
		m, err := miner.Open(target(mi), dialectOf[mi.Firmware], miner.Identity{Make: mi.Make, Model: mi.Model}, opt)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

// TestSweepSmallFleet checks the poller returns one result per miner, in
// order, and an error naming each miner that cannot be reached.
func TestSweepSmallFleet(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 40, Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1", Seed: 11, Net: testNet(155)})
	f.Advance(30 * time.Minute)
	ms := openFleet(t, f, miner.Options{Timeout: 2 * time.Second})
	// One extra target where nothing listens.
	dead, _ := miner.Open(miner.Target{Host: "127.155.200.1"}, miner.DialectLuxOS, miner.Identity{}, miner.Options{Timeout: time.Second})
	ms = append(ms, dead)
	p := &miner.Poller{Concurrency: 8}
	res := p.Sweep(context.Background(), ms)
	if len(res) != len(ms) {
		t.Fatalf("%d results for %d miners", len(res), len(ms))
	}
	var th float64
	for i, r := range res[:f.Len()] {
		if r.Err != nil {
			t.Fatalf("miner %d: %v", i, r.Err)
		}
		if r.Reading.Addr != f.Miner(i).Addr.String() {
			t.Errorf("result %d is for %s, want %s", i, r.Reading.Addr, f.Miner(i).Addr)
		}
		th += r.Reading.HashrateTHs
	}
	var want float64
	for i := range f.Len() {
		want += f.Telemetry(i).HashGH / 1000
	}
	if !near(th, want, 0.001) {
		t.Errorf("fleet hashrate %.1f TH/s, want %.1f", th, want)
	}
	wantNamed(t, res[len(res)-1].Err, "127.155.200.1:4028", nil)
}

// BenchmarkSweep10k is one poll sweep over 10,000 emulated miners on
// loopback: summary + stats per stock Antminer, summary + stats + power +
// config per LuxOS miner (Options.Light leaves pools out), 256 at a time. The
// emulator shares the process, so the figure includes serving every reply.
// Every endpoint is a socket on its miner's own address: this mix binds
// 15,000 (LuxOS 1, stock 2), which with the emulator's 1,024 reserve for
// connections fits `ulimit -n 20000`.
//
//	go test ./miner/roundtrip -run '^$' -bench Sweep10k -benchtime 3x
func BenchmarkSweep10k(b *testing.B) {
	benchSweep(b, "s19jpro:stock=1,s19xp:luxos=1", 160)
}

// BenchmarkSweep10kAllDialects is the same sweep over the emulator's
// default mix (40 % stock, 30 % LuxOS, 20 % Whatsminer over API v3, 10 %
// Braiins OS+, whose bosminer refuses multi-command requests): 17,000
// listeners.
//
//	go test ./miner/roundtrip -run '^$' -bench Sweep10kAllDialects -benchtime 3x
func BenchmarkSweep10kAllDialects(b *testing.B) {
	benchSweep(b, emulator.DefaultMix, 161)
}

func benchSweep(b *testing.B, mix string, net byte) {
	f := startFleet(b, emulator.Config{Count: 10000, Mix: mix, Seed: 12, Net: testNet(net)})
	f.Advance(5 * time.Minute)
	ms := openFleet(b, f, miner.Options{Timeout: 5 * time.Second, Light: true})
	p := &miner.Poller{Concurrency: miner.DefaultConcurrency}
	ctx := context.Background()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		res := p.Sweep(ctx, ms)
		failed := 0
		for _, r := range res {
			if r.Err != nil {
				failed++
				if failed == 1 {
					b.Logf("first failure: %v", r.Err)
				}
			}
		}
		if failed > 0 {
			b.Fatalf("%d of %d miners failed", failed, len(res))
		}
	}
	b.StopTimer()
	// CPU seconds (client and emulator together, user + system) per sweep:
	// unlike wall time, it does not depend on what else the machine runs.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/sweep")
	b.ReportMetric(float64(len(ms)), "miners/sweep")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
