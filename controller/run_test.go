package controller

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/site"
	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/sqlite"
)

// loopMiner is a miner's firmware reduced to what the control loop sees:
// it counts reads and commands and sleeps or wakes at once.
type loopMiner struct {
	mu                  sync.Mutex
	reads, sleeps, wake int
	asleep              bool
}

func (m *loopMiner) Read(context.Context) (miner.Reading, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.asleep {
		return miner.Reading{State: miner.StateSleeping, PowerW: 25}, nil
	}
	return miner.Reading{State: miner.StateHashing, PowerW: 3500, HashrateTHs: 200}, nil
}

func (m *loopMiner) Sleep(context.Context) (miner.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sleeps++
	m.asleep = true
	return miner.Sent, nil
}

func (m *loopMiner) Wake(context.Context) (miner.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wake++
	m.asleep = false
	return miner.Sent, nil
}

func (m *loopMiner) counts() (reads, sleeps, wakes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.sleeps, m.wake
}

// TestRunTicksOnScheduleAndFailsSafe runs the real loop (Run, SQLite
// store, fail-safe) over virtual time: a tick every Interval from the
// start, and a price feed that stops updating flips the site to its
// fail-safe (curtail) on the first tick after max-age, not at the next
// dispatch step.
func TestRunTicksOnScheduleAndFailsSafe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "joule.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		start := time.Now()
		s := &site.Site{Name: "synctest", Timezone: "UTC", InterconnectMW: 1, Tiers: []site.Tier{{Name: "s21-luxos", Model: "Antminer S21", Count: 2,
			Profiles: []site.Profile{{Name: "stock", THs: 200, W: 3500}}, SleepW: 25}}}
		ms := []*loopMiner{{}, {}}
		var fleet []FleetMiner
		for i, m := range ms {
			fleet = append(fleet, FleetMiner{Unit: Unit{ID: string(rune('a' + i)), Tier: 0, NominalW: 3500, NominalTHs: 200, SleepW: 25}, Miner: m})
		}
		price := feed.NewManual("manual price")
		if err := price.Set(30, start, start); err != nil {
			t.Fatal(err)
		}
		const interval, maxAge = 10 * time.Second, 30 * time.Minute
		c, err := New(ctx, Config{Site: s, Fleet: fleet, Store: st, Interval: interval, Step: 5 * time.Minute,
			Feeds:  feed.Set{Price: price, Hashprice: feed.Constant{Label: "hashprice", Value: 0.05}, PriceMaxAge: maxAge, FailSafeMode: feed.Curtail},
			Params: Params{Stagger: NoStagger, Cooldown: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()

		// Ticks at 0, 10 s, 20 s, ...: after 95 s, ten of them.
		time.Sleep(95 * time.Second)
		synctest.Wait()
		if r, _, _ := ms[0].counts(); r != 10 {
			t.Errorf("after 95 s of virtual time: %d polls, want 10 (one per %s from the start)", r, interval)
		}
		// Just before max-age the price is still fresh and every miner hashes.
		time.Sleep(maxAge - 95*time.Second - 2*time.Second)
		synctest.Wait()
		snap, err := c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Mode != "auto" || snap.Feeds.Active {
			t.Fatalf("at %s the price is %s old: mode %q, want auto", time.Since(start), maxAge-2*time.Second, snap.Mode)
		}
		if _, sl, _ := ms[0].counts(); sl != 0 {
			t.Fatalf("miner slept %d times while the price was fresh", sl)
		}
		// The first tick after max-age (30 min 10 s) applies the fail-safe.
		time.Sleep(2*time.Second + interval + time.Second)
		synctest.Wait()
		snap, err = c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Mode != "failsafe:curtail" || !snap.Feeds.Active {
			t.Errorf("at %s (max-age %s): mode %q, want failsafe:curtail", time.Since(start), maxAge, snap.Mode)
		}
		for i, m := range ms {
			if r, sl, w := m.counts(); sl != 1 || w != 0 {
				t.Errorf("miner %d: %d sleeps, %d wakes after the fail-safe (%d polls), want 1 sleep", i, sl, w, r)
			}
		}
		decs, err := st.Decisions(ctx, store.Filter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(decs) == 0 {
			t.Fatal("no decisions stored")
		}
		if decs[0].FailSafe != string(feed.Curtail) || !decs[0].Time.Equal(start.Add(maxAge+interval)) {
			t.Errorf("newest decision %+v, want a curtail fail-safe at %s", decs[0], start.Add(maxAge+interval))
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
}
