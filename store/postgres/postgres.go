// Package postgres stores the controller's data in plain PostgreSQL (no
// extensions) through github.com/jackc/pgx/v5.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/jouleworks/joule/store"
	"github.com/jouleworks/joule/store/internal/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open. The zero value is usable.
type Options struct {
	// Retention; nil means store.DefaultRetention.
	Retention *store.Retention
	// Schema, when set, is created if missing and used as the search_path,
	// so several sites (or test runs) can share one database.
	Schema string
	// MaxConns bounds the pool (default 8).
	MaxConns int
}

// Store is a store.Store backed by PostgreSQL.
type Store struct {
	*sqldb.DB
}

var _ store.Store = (*Store)(nil)

// The advisory lock key is 0x4a6f756c65 ("Joule"): arbitrary, but constant
// so every controller contends for the same lock.
const (
	lockSQL   = "SELECT pg_advisory_lock(319697546341)"
	unlockSQL = "SELECT pg_advisory_unlock(319697546341)"
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to dsn (a postgres:// URL or key=value string) and applies
// pending migrations.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: dsn: %w", err)
	}
	if o.Schema != "" {
		if !schemaName.MatchString(o.Schema) {
			return nil, fmt.Errorf("postgres: schema %q: want lower-case letters, digits and _", o.Schema)
		}
		cfg.RuntimeParams["search_path"] = o.Schema
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	ret := store.DefaultRetention
	if o.Retention != nil {
		ret = *o.Retention
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	if o.Schema != "" {
		if err := createSchema(ctx, db, o.Schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: create schema %s: %w", o.Schema, err)
		}
	}
	s := &Store{DB: &sqldb.DB{W: db, R: db, Retention: ret,
		D: sqldb.Dialect{Name: "postgres", Dollar: true, Migrations: sub(), MaxParams: 65535,
			Lock: lockSQL, Unlock: unlockSQL}}}
	if _, err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// createSchema creates the schema under the migration lock: CREATE SCHEMA IF
// NOT EXISTS alone can fail with a unique violation when two controllers run
// it at the same moment.
func createSchema(ctx context.Context, db *sql.DB, schema string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, lockSQL); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), unlockSQL)
	_, err = conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema)
	return err
}

// SQL returns the underlying pool, for tests and administration.
func (s *Store) SQL() *sql.DB { return s.W }

func sub() fs.FS {
	f, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return f
}
