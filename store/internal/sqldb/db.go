// Package sqldb implements store.Store over database/sql for both SQLite and
// PostgreSQL. The two dialects differ only in placeholders and their schema
// files, so one implementation keeps their behaviour identical — which the
// shared conformance suite then checks.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/store"
)

// Dialect is what differs between databases.
type Dialect struct {
	Name string
	// Dollar placeholders ($1, $2, ...) instead of ?.
	Dollar bool
	// Migrations holds NNNN_name.sql files, applied in order.
	Migrations fs.FS
	// MaxParams bounds the placeholders in one statement.
	MaxParams int
	// Lock and Unlock, when set, bracket migrations on one connection so
	// two controllers starting at once do not both migrate (PostgreSQL
	// advisory lock; SQLite's single writer needs none).
	Lock, Unlock string
}

// DB is a store.Store. W carries every write (SQLite: one connection, so
// there is one writer); R carries reads (several connections under WAL).
type DB struct {
	W, R      *sql.DB
	D         Dialect
	Retention store.Retention
}

var _ store.Store = (*DB)(nil)

// Close closes both pools.
func (db *DB) Close() error {
	err := db.W.Close()
	if db.R != db.W {
		if e := db.R.Close(); err == nil {
			err = e
		}
	}
	return err
}

// q rewrites ? placeholders for the dialect.
func (db *DB) q(s string) string {
	if !db.D.Dollar {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migrate applies the dialect's migrations not yet recorded in
// schema_migrations, each in its own transaction, and returns how many ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: migrate: %w", db.D.Name, err)
	}
	defer conn.Close()
	if db.D.Lock != "" {
		if _, err := conn.ExecContext(ctx, db.D.Lock); err != nil {
			return 0, fmt.Errorf("%s: migration lock: %w", db.D.Name, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), db.D.Unlock)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("%s: create schema_migrations: %w", db.D.Name, err)
	}
	names, err := fs.Glob(db.D.Migrations, "*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	applied := map[int64]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return 0, fmt.Errorf("%s: read schema_migrations: %w", db.D.Name, err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, err
		}
		applied[v] = true
	}
	rows.Close()
	ran := 0
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return ran, fmt.Errorf("%s: migration %s: name must start with a version number and _", db.D.Name, base)
		}
		if applied[v] {
			continue
		}
		body, err := fs.ReadFile(db.D.Migrations, name)
		if err != nil {
			return ran, err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return ran, err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return ran, fmt.Errorf("%s: migration %s: %w", db.D.Name, base, err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			v, base, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return ran, fmt.Errorf("%s: record migration %s: %w", db.D.Name, base, err)
		}
		if err := tx.Commit(); err != nil {
			return ran, fmt.Errorf("%s: commit migration %s: %w", db.D.Name, base, err)
		}
		ran++
	}
	return ran, nil
}

// SchemaVersion returns the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := db.R.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return v.Int64, err
}

// insertRows writes rows with multi-row INSERTs inside one transaction.
// cols names the columns; each row supplies len(cols) values.
func (db *DB) insertRows(ctx context.Context, table string, cols []string, conflict string, n int, row func(i int, dst []any) []any) error {
	if n == 0 {
		return nil
	}
	per := db.D.MaxParams / len(cols)
	if per > 500 {
		per = 500
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", table, err)
	}
	defer tx.Rollback()
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES "
	var full *sql.Stmt
	args := make([]any, 0, per*len(cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var err error
		if end-start == per {
			if full == nil {
				text := head + strings.TrimSuffix(strings.Repeat(one+",", per), ",") + " " + conflict
				if full, err = tx.PrepareContext(ctx, db.q(text)); err != nil {
					return fmt.Errorf("%s: prepare: %w", table, err)
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			text := head + strings.TrimSuffix(strings.Repeat(one+",", end-start), ",") + " " + conflict
			_, err = tx.ExecContext(ctx, db.q(text), args...)
		}
		if err != nil {
			return fmt.Errorf("%s: insert rows %d..%d: %w", table, start, end-1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", table, err)
	}
	return nil
}

func nullTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return store.FromMillis(ms)
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
