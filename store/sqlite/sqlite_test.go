package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/sqlite"
	"github.com/jouleworks/joule/store/storetest"
)

func open(t *testing.T, path string, ret store.Retention) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{Retention: &ret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	rets := map[store.Store]store.Retention{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, ret store.Retention) store.Store {
			s := open(t, filepath.Join(t.TempDir(), "joule.db"), ret)
			rets[s] = ret
			return s
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path := s.(*sqlite.Store).Path()
			s.Close()
			return open(t, path, rets[s])
		},
	})
}

func TestMigrateTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "joule.db")
	s := open(t, path, store.Retention{})
	v, err := s.SchemaVersion(t.Context())
	if err != nil || v != 1 {
		t.Fatalf("schema version = %d, %v; want 1", v, err)
	}
	s.Close()
	s = open(t, path, store.Retention{})
	if n, err := s.Migrate(t.Context()); err != nil || n != 0 {
		t.Fatalf("re-migrate ran %d, %v; want 0", n, err)
	}
	var mode string
	if err := s.W.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", "x.db?mode=memory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")} {
		if s, err := sqlite.Open(context.Background(), p, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want error", p)
		}
	}
}
