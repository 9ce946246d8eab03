package e2e

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/sqlite"
)

// BenchmarkCurtail1000LuxOS curtails 1,000 emulated LuxOS miners (real
// cgminer-API sessions on loopback, physics in real time) to a MW target
// set by a grid event, and measures from the request to the moment
// telemetry confirms the target — every action confirmed, the event
// achieved. Zero duplicate commands is asserted on the emulator's
// per-miner counters.
//
//	go test ./e2e -run XXX -bench Curtail1000 -benchtime 1x
func BenchmarkCurtail1000LuxOS(b *testing.B) {
	for range b.N {
		b.StopTimer()
		curtailOnce(b, 1000)
	}
}

func curtailOnce(b *testing.B, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := emulator.NewFleet(emulator.Config{Mix: "s19xp:luxos=1,s21:luxos=1", Count: n, Seed: 3, Speed: 1,
		Net: netip.AddrFrom4([4]byte{127, 59, 0, 0})})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "joule.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, tierOf := controller.DemoSite(f, 0)
	fleet, err := controller.EmulatedFleet(f, s, tierOf, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	price, hash := feed.NewManual("price"), feed.NewManual("hashprice")
	now := f.Now()
	price.Set(30, now, now)
	hash.Set(0.05, now, now)
	c, err := controller.New(ctx, controller.Config{Site: s, Fleet: fleet, Store: st, Now: f.Now,
		Feeds:  feed.Set{Price: price, Hashprice: hash, FailSafeMode: feed.Hold},
		Params: controller.Params{BatchSize: 250, Stagger: 250 * time.Millisecond}, Concurrency: 256, TelemetryEvery: time.Minute, FullPollEvery: 5 * time.Second, Logger: benchLog()})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	snap, err := c.Snapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Shed 90 % of the fleet's load: almost every miner must sleep.
	want := 0.9 * snap.Power.MiningMW
	b.StartTimer()
	start := time.Now()
	id, err := c.Curtail(ctx, controller.EventRequest{Source: "bench", Requester: "bench", MW: want, Deadline: f.Now().Add(10 * time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	ticks := 0
	for {
		if err := c.Tick(ctx); err != nil {
			b.Fatal(err)
		}
		ticks++
		e, err := c.GridEvent(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		open, err := st.OpenActions(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if e.State == store.EventAchieved && len(open) == 0 {
			break
		}
		if os.Getenv("JOULE_BENCH_LOG") != "" && ticks%50 == 0 {
			b.Logf("%s: %d open, event %s %.3f MW", time.Since(start).Round(time.Millisecond), len(open), e.State, e.AchievedMW)
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatalf("not achieved after 2 min: event %+v, %d open actions", e, len(open))
		}
	}
	took := time.Since(start)
	b.StopTimer()
	tc := f.TotalCommands()
	if tc.Repeats != 0 || tc.Wake != 0 || tc.Refused != 0 {
		b.Fatalf("commands %+v: want no repeats, wakes or refusals", tc)
	}
	e, _ := c.GridEvent(ctx, id)
	b.ReportMetric(took.Seconds(), "s/curtail")
	b.ReportMetric(float64(tc.Sleep), "sleeps")
	b.ReportMetric(float64(ticks), "ticks")
	b.ReportMetric(e.AchievedMW, "MW-shed")
	b.Logf("%d miners: %.3f MW shed of %.3f MW baseline (target %.3f) in %s, %d sleep commands, %d repeats, %d ticks",
		n, e.AchievedMW, e.BaselineMW, want, took.Round(time.Millisecond), tc.Sleep, tc.Repeats, ticks)
}

// benchLog shows the controller's per-tick timings with JOULE_BENCH_LOG=1.
func benchLog() *slog.Logger {
	if os.Getenv("JOULE_BENCH_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
