package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/jouleworks/joule/internal/testenv"
	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/postgres"
	"github.com/jouleworks/joule/store/storetest"
)

// freshSchema opens a store in a new schema of the test server and drops the
// schema when the test ends, so runs never see each other's rows.
func freshSchema(t testing.TB, dsn string, ret store.Retention) (*postgres.Store, string) {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "joule_test_" + hex.EncodeToString(b)
	return openSchema(t, dsn, schema, ret, true), schema
}

func openSchema(t testing.TB, dsn, schema string, ret store.Retention, drop bool) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, Retention: &ret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if drop {
			if _, err := s.SQL().Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		}
		s.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	type meta struct {
		schema string
		ret    store.Retention
	}
	metas := map[store.Store]meta{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, ret store.Retention) store.Store {
			s, schema := freshSchema(t, dsn, ret)
			metas[s] = meta{schema, ret}
			return s
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			m := metas[s]
			// The first store's cleanup drops the schema; this one only closes.
			return openSchema(t, dsn, m.schema, m.ret, false)
		},
	})
}

func TestMigrateTwice(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	s, schema := freshSchema(t, dsn, store.Retention{})
	v, err := s.SchemaVersion(t.Context())
	if err != nil || v != 1 {
		t.Fatalf("schema version = %d, %v; want 1", v, err)
	}
	s2 := openSchema(t, dsn, schema, store.Retention{}, false)
	if n, err := s2.Migrate(t.Context()); err != nil || n != 0 {
		t.Fatalf("re-migrate ran %d, %v; want 0", n, err)
	}
}

func TestOpenBadInput(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://x@127.0.0.1:1/db?sslmode=disable", postgres.Options{Schema: "Bad-Name"}); err == nil {
		t.Fatal("bad schema name accepted")
	}
	if _, err := postgres.Open(context.Background(), "::not a dsn", postgres.Options{}); err == nil {
		t.Fatal("bad dsn accepted")
	}
}

// BenchmarkPollSweep10k writes one 10,000-miner poll sweep as one batch.
func BenchmarkPollSweep10k(b *testing.B) {
	s, _ := freshSchema(b, testenv.PostgresDSN(b), store.Retention{})
	sweep := make([]store.MinerSample, 10000)
	for i := range sweep {
		sweep[i] = store.MinerSample{MinerID: fmt.Sprintf("m%05d", i), HashrateTHs: 100 + float64(i%40), PowerW: 3250,
			InletC: 27, ChipC: 71, FanRPM: 4300, State: "hashing"}
	}
	t0 := time.Date(2025, 7, 14, 0, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		for j := range sweep {
			sweep[j].Time = t0.Add(time.Duration(i) * 30 * time.Second)
		}
		if err := s.WriteMinerSamples(b.Context(), sweep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sweep))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestConcurrentOpen starts several controllers on one new schema at once:
// the migration lock must let exactly one migrate and the others see it.
func TestConcurrentOpen(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "joule_test_" + hex.EncodeToString(b)
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *postgres.Store, n)
	for range n {
		go func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
			errs <- err
			stores <- s
		}()
	}
	var first *postgres.Store
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if s := <-stores; s != nil {
			if first == nil {
				first = s
			} else {
				defer s.Close()
			}
		}
	}
	if first == nil {
		t.Fatal("no store opened")
	}
	defer first.Close()
	defer first.SQL().Exec("DROP SCHEMA " + schema + " CASCADE")
	var count int
	if err := first.SQL().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&count); err != nil || count != 1 {
		t.Fatalf("schema_migrations rows = %d, %v; want 1", count, err)
	}
}
