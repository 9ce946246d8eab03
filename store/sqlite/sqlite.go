// Package sqlite is the default store: one SQLite file through the pure-Go
// modernc.org/sqlite driver, in WAL mode with a busy timeout, one writer
// connection and a small pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/internal/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open. The zero value is usable.
type Options struct {
	// Retention of raw samples and rollups; zero value means
	// store.DefaultRetention.
	Retention *store.Retention
	// ReadConns is the size of the reader pool (default 4).
	ReadConns int
	// BusyTimeoutMS is how long a statement waits on a lock (default 5000).
	BusyTimeoutMS int
}

// Store is a store.Store backed by one SQLite file.
type Store struct {
	*sqldb.DB
	path string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies any
// pending migrations.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q: must be a non-empty file name without ? or #", path)
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.BusyTimeoutMS <= 0 {
		o.BusyTimeoutMS = 5000
	}
	ret := store.DefaultRetention
	if o.Retention != nil {
		ret = *o.Retention
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is durable across application crashes in WAL mode; only an OS
	// crash or power loss can drop the last transactions.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Writers take the lock at BEGIN, so two transactions never deadlock
	// upgrading from read to write.
	q.Add("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite serialises writes anyway, and one connection keeps
	// that queue inside Go instead of in busy-retry loops.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &sqldb.DB{W: w, R: w, Retention: ret, D: sqldb.Dialect{Name: "sqlite", Migrations: sub(), MaxParams: 32766}}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeoutMS))
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.ReadConns)
	db.R = r
	return &Store{DB: db, path: path}, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

func sub() fs.FS {
	f, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return f
}
