package roundtrip

import (
	"context"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/miner"
)

// TestStockSleepConfirmedWhenBoardsDown: stock bmminer's stats Mode turns
// to sleep (1) only once the hashboards are down, not when
// set_miner_conf.cgi is accepted, and the client's state rule confirms the
// sleep exactly then: never while the boards are still powering down.
func TestStockSleepConfirmedWhenBoardsDown(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 1, Mix: "s19jpro:stock", Seed: 17, Net: testNet(159)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	mi := f.Miner(0)
	m, err := miner.Open(target(mi), miner.DialectAntminer, miner.Identity{Make: mi.Make, Model: mi.Model}, miner.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := m.Sleep(ctx); err != nil || out != miner.Sent {
		t.Fatalf("sleep = %v, %v; want sent", out, err)
	}
	cg := &miner.CGMiner{Addr: mi.CGMiner.String(), Timeout: 2 * time.Second}
	stopping := 0
	for step := 0; ; step++ {
		if step > 120 {
			t.Fatal("boards not down after 120 simulated seconds")
		}
		tel := f.Telemetry(0)
		resp, err := cg.Do(ctx, "stats")
		if err != nil {
			t.Fatal(err)
		}
		st := resp.Section("STATS")
		mode, _ := miner.String(st[len(st)-1]["Mode"])
		r, err := m.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tel.State != physics.Sleeping {
			stopping++
			if mode != "0" || r.State == miner.StateSleeping {
				t.Fatalf("at %ds, boards %s: stats Mode %s, client state %s; want Mode 0 and not yet sleeping", step, tel.State, mode, r.State)
			}
		} else {
			if mode != "1" || r.State != miner.StateSleeping || r.Profile != "sleep" {
				t.Fatalf("at %ds, boards down: stats Mode %s, client state %s profile %q; want Mode 1, sleeping", step, mode, r.State, r.Profile)
			}
			t.Logf("boards down and sleep confirmed %ds after the command (%d reads while stopping)", step, stopping)
			break
		}
		f.Advance(time.Second)
	}
	if stopping == 0 {
		t.Fatal("sleep took effect at once; stock firmware takes seconds to power the boards down")
	}
	// The web configuration reports the commanded mode at once.
	if out, err := m.Sleep(ctx); err != nil || out != miner.AlreadyDone {
		t.Errorf("second sleep = %v, %v; want already done", out, err)
	}
}
