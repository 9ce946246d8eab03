package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jouleworks/joule/store"
)

const actionCols = "id, target, command, args, state, attempts, decision_id, reason, err, created_at, updated_at, dispatched_at, settled_at"

type scanner interface{ Scan(...any) error }

func scanAction(r scanner) (store.Action, error) {
	var a store.Action
	var state string
	var created, updated, disp, settled int64
	err := r.Scan(&a.ID, &a.Target, &a.Command, &a.Args, &state, &a.Attempts, &a.DecisionID, &a.Reason, &a.Err,
		&created, &updated, &disp, &settled)
	a.State = store.ActionState(state)
	a.CreatedAt, a.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	a.DispatchedAt, a.SettledAt = nullTime(disp), nullTime(settled)
	return a, err
}

func openStateList() string {
	var s []string
	for _, st := range store.OpenStates {
		s = append(s, "'"+string(st)+"'")
	}
	return "(" + strings.Join(s, ",") + ")"
}

// PutAction implements store.Journal.
func (db *DB) PutAction(ctx context.Context, a store.Action) (store.Action, bool, error) {
	if err := a.Validate(); err != nil {
		return store.Action{}, false, err
	}
	a.State, a.Attempts = store.Pending, 0
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return store.Action{}, false, fmt.Errorf("put action %s: %w", a.ID, err)
	}
	defer tx.Rollback()
	got, err := scanAction(tx.QueryRowContext(ctx, db.q("SELECT "+actionCols+" FROM actions WHERE id = ?"), a.ID))
	if err == nil {
		return got, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Action{}, false, fmt.Errorf("put action %s: %w", a.ID, err)
	}
	var other string
	err = tx.QueryRowContext(ctx, db.q("SELECT id FROM actions WHERE target = ? AND state IN "+openStateList()), a.Target).Scan(&other)
	if err == nil {
		return store.Action{}, false, fmt.Errorf("put action %s: target %s: %w (action %s)", a.ID, a.Target, store.ErrInFlight, other)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Action{}, false, fmt.Errorf("put action %s: %w", a.ID, err)
	}
	_, err = tx.ExecContext(ctx, db.q("INSERT INTO actions ("+actionCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"),
		a.ID, a.Target, a.Command, a.Args, string(a.State), 0, a.DecisionID, a.Reason, a.Err,
		a.CreatedAt.UnixMilli(), a.UpdatedAt.UnixMilli(), int64(0), int64(0))
	if err != nil {
		tx.Rollback()
		// The partial unique index on open actions per target catches a
		// concurrent writer the SELECT above could not see; a concurrent
		// insert of the same id is the idempotent case.
		if got, gerr := db.actionFrom(ctx, db.W, a.ID); gerr == nil {
			return got, false, nil
		}
		if db.W.QueryRowContext(ctx, db.q("SELECT id FROM actions WHERE target = ? AND state IN "+openStateList()), a.Target).Scan(&other) == nil {
			return store.Action{}, false, fmt.Errorf("put action %s: target %s: %w (action %s)", a.ID, a.Target, store.ErrInFlight, other)
		}
		return store.Action{}, false, fmt.Errorf("put action %s: %w", a.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Action{}, false, fmt.Errorf("put action %s: commit: %w", a.ID, err)
	}
	a.DispatchedAt, a.SettledAt = time.Time{}, time.Time{}
	a.CreatedAt, a.UpdatedAt = store.FromMillis(a.CreatedAt.UnixMilli()), store.FromMillis(a.UpdatedAt.UnixMilli())
	return a, true, nil
}

// Transition implements store.Journal.
func (db *DB) Transition(ctx context.Context, id string, from, to store.ActionState, at time.Time, reason, errText string) (store.Action, error) {
	if !store.CanTransition(from, to) {
		return store.Action{}, fmt.Errorf("action %s: %s → %s: %w", id, from, to, store.ErrBadTransition)
	}
	set := "state = ?, updated_at = ?, err = ?"
	args := []any{string(to), at.UnixMilli(), errText}
	if reason != "" {
		set += ", reason = ?"
		args = append(args, reason)
	}
	if to == store.Dispatched {
		set += ", attempts = attempts + 1, dispatched_at = ?"
		args = append(args, at.UnixMilli())
	}
	if !to.Open() {
		set += ", settled_at = ?"
		args = append(args, at.UnixMilli())
	}
	args = append(args, id, string(from))
	res, err := db.W.ExecContext(ctx, db.q("UPDATE actions SET "+set+" WHERE id = ? AND state = ?"), args...)
	if err != nil {
		return store.Action{}, fmt.Errorf("action %s: %s → %s: %w", id, from, to, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		cur, err := db.actionFrom(ctx, db.W, id)
		if err != nil {
			return store.Action{}, err
		}
		return cur, fmt.Errorf("action %s: %s → %s: it is %s: %w", id, from, to, cur.State, store.ErrBadTransition)
	}
	return db.actionFrom(ctx, db.W, id)
}

func (db *DB) actionFrom(ctx context.Context, q *sql.DB, id string) (store.Action, error) {
	a, err := scanAction(q.QueryRowContext(ctx, db.q("SELECT "+actionCols+" FROM actions WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Action{}, fmt.Errorf("action %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Action{}, fmt.Errorf("action %s: %w", id, err)
	}
	return a, nil
}

// Action implements store.Journal.
func (db *DB) Action(ctx context.Context, id string) (store.Action, error) {
	return db.actionFrom(ctx, db.R, id)
}

// OpenActions implements store.Journal. It reads through the writer so a
// caller that just wrote sees its own write.
func (db *DB) OpenActions(ctx context.Context) ([]store.Action, error) {
	return db.queryActions(ctx, db.W, "SELECT "+actionCols+" FROM actions WHERE state IN "+openStateList()+" ORDER BY created_at, id")
}

// Actions implements store.Journal.
func (db *DB) Actions(ctx context.Context, f store.ActionFilter) ([]store.Action, error) {
	where, args := timeWhere("created_at", f.Filter)
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, string(f.State))
	}
	text := "SELECT " + actionCols + " FROM actions" + whereSQL(where) + " ORDER BY created_at DESC, id DESC LIMIT ?"
	return db.queryActions(ctx, db.R, text, append(args, f.EffectiveLimit())...)
}

func (db *DB) queryActions(ctx context.Context, q *sql.DB, text string, args ...any) ([]store.Action, error) {
	rows, err := q.QueryContext(ctx, db.q(text), args...)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	defer rows.Close()
	var out []store.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("actions: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetDesired implements store.DesiredStates.
func (db *DB) SetDesired(ctx context.Context, d []store.Desired) error {
	for i, x := range d {
		if x.Target == "" || x.State == "" {
			return fmt.Errorf("%w: desired %d: target and state are required", store.ErrInvalid, i)
		}
	}
	cols := []string{"target", "state", "profile", "decision_id", "reason", "updated_at"}
	conflict := "ON CONFLICT (target) DO UPDATE SET state = excluded.state, profile = excluded.profile, decision_id = excluded.decision_id, reason = excluded.reason, updated_at = excluded.updated_at"
	// Within one batch the last entry for a target wins, as it would if
	// the calls were made one by one; a multi-row upsert may not touch the
	// same row twice, so collapse first.
	last := map[string]int{}
	var idx []int
	for i, x := range d {
		if j, ok := last[x.Target]; ok {
			idx[j] = i
			continue
		}
		last[x.Target] = len(idx)
		idx = append(idx, i)
	}
	return db.insertRows(ctx, "desired", cols, conflict, len(idx), func(i int, a []any) []any {
		x := d[idx[i]]
		return append(a, x.Target, x.State, x.Profile, x.DecisionID, x.Reason, x.UpdatedAt.UnixMilli())
	})
}

// DesiredStates implements store.DesiredStates.
func (db *DB) DesiredStates(ctx context.Context) ([]store.Desired, error) {
	rows, err := db.R.QueryContext(ctx, "SELECT target, state, profile, decision_id, reason, updated_at FROM desired ORDER BY target")
	if err != nil {
		return nil, fmt.Errorf("desired states: %w", err)
	}
	defer rows.Close()
	var out []store.Desired
	for rows.Next() {
		var x store.Desired
		var ms int64
		if err := rows.Scan(&x.Target, &x.State, &x.Profile, &x.DecisionID, &x.Reason, &ms); err != nil {
			return nil, fmt.Errorf("desired states: %w", err)
		}
		x.UpdatedAt = store.FromMillis(ms)
		out = append(out, x)
	}
	return out, rows.Err()
}

func timeWhere(col string, f store.Filter) ([]string, []any) {
	var w []string
	var a []any
	if !f.Since.IsZero() {
		w, a = append(w, col+" >= ?"), append(a, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		w, a = append(w, col+" < ?"), append(a, f.Until.UnixMilli())
	}
	return w, a
}

func whereSQL(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}
