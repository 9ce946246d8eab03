package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jouleworks/joule/store"
)

func (db *DB) insertID(ctx context.Context, what, text string, args ...any) (int64, error) {
	var id int64
	if err := db.W.QueryRowContext(ctx, db.q(text+" RETURNING id"), args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("append %s: %w", what, err)
	}
	return id, nil
}

func f64(v sql.NullFloat64) float64 { return v.Float64 }

// AppendAudit implements store.AuditLog.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	if e.Time.IsZero() || e.Actor == "" || e.Action == "" {
		return 0, fmt.Errorf("%w: audit entry: time, actor and action are required", store.ErrInvalid)
	}
	return db.insertID(ctx, "audit", `INSERT INTO audit (t, actor, action, target, reason, price, decision_id, action_id, detail)
		VALUES (?,?,?,?,?,?,?,?,?)`, e.Time.UnixMilli(), e.Actor, e.Action, e.Target, e.Reason,
		store.Nullable(e.PriceUSDMWh), e.DecisionID, e.ActionID, e.Detail)
}

// Audit implements store.AuditLog.
func (db *DB) Audit(ctx context.Context, f store.Filter) ([]store.AuditEntry, error) {
	where, args := timeWhere("t", f)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT id, t, actor, action, target, reason, price, decision_id, action_id, detail
		FROM audit`+whereSQL(where)+` ORDER BY t DESC, id DESC LIMIT ?`), append(args, f.EffectiveLimit())...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var ms int64
		var price sql.NullFloat64
		if err := rows.Scan(&e.ID, &ms, &e.Actor, &e.Action, &e.Target, &e.Reason, &price, &e.DecisionID, &e.ActionID, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.Time, e.PriceUSDMWh = store.FromMillis(ms), f64(price)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AppendDecision implements store.DecisionLog. Reasons and MW are stored as
// JSON text: plain columns both databases read, no extensions needed.
func (db *DB) AppendDecision(ctx context.Context, d store.Decision) (int64, error) {
	if d.Time.IsZero() || d.Policy == "" {
		return 0, fmt.Errorf("%w: decision: time and policy are required", store.ErrInvalid)
	}
	reasons, err := json.Marshal(d.Reasons)
	if err != nil {
		return 0, fmt.Errorf("decision reasons: %w", err)
	}
	mw, err := json.Marshal(d.MW)
	if err != nil {
		return 0, fmt.Errorf("%w: decision mw: %v", store.ErrInvalid, err)
	}
	return db.insertID(ctx, "decision", `INSERT INTO decisions (t, policy, reasons, mw, price, hashprice, failsafe)
		VALUES (?,?,?,?,?,?,?)`, d.Time.UnixMilli(), d.Policy, string(reasons), string(mw),
		store.Nullable(d.PriceUSDMWh), store.Nullable(d.HashpriceUSD), d.FailSafe)
}

// Decisions implements store.DecisionLog.
func (db *DB) Decisions(ctx context.Context, f store.Filter) ([]store.Decision, error) {
	where, args := timeWhere("t", f)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT id, t, policy, reasons, mw, price, hashprice, failsafe
		FROM decisions`+whereSQL(where)+` ORDER BY t DESC, id DESC LIMIT ?`), append(args, f.EffectiveLimit())...)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	var out []store.Decision
	for rows.Next() {
		var d store.Decision
		var ms int64
		var reasons, mw string
		var price, hp sql.NullFloat64
		if err := rows.Scan(&d.ID, &ms, &d.Policy, &reasons, &mw, &price, &hp, &d.FailSafe); err != nil {
			return nil, fmt.Errorf("decisions: %w", err)
		}
		d.Time, d.PriceUSDMWh, d.HashpriceUSD = store.FromMillis(ms), f64(price), f64(hp)
		if err := json.Unmarshal([]byte(reasons), &d.Reasons); err != nil {
			return nil, fmt.Errorf("decision %d reasons: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(mw), &d.MW); err != nil {
			return nil, fmt.Errorf("decision %d mw: %w", d.ID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

const eventCols = "id, source, requester, requested_mw, baseline_mw, deadline, reason, created_at, state, achieved_mw, achieved_at, updated_at, note"

func scanEvent(r scanner) (store.GridEvent, error) {
	var e store.GridEvent
	var deadline, created, achieved, updated int64
	var state string
	err := r.Scan(&e.ID, &e.Source, &e.Requester, &e.RequestedMW, &e.BaselineMW, &deadline, &e.Reason, &created,
		&state, &e.AchievedMW, &achieved, &updated, &e.Note)
	e.Deadline, e.CreatedAt = store.FromMillis(deadline), store.FromMillis(created)
	e.AchievedAt, e.UpdatedAt = nullTime(achieved), nullTime(updated)
	e.State = store.GridEventState(state)
	return e, err
}

// CreateGridEvent implements store.GridEvents.
func (db *DB) CreateGridEvent(ctx context.Context, e store.GridEvent) (int64, error) {
	switch {
	case e.CreatedAt.IsZero() || e.Deadline.IsZero():
		return 0, fmt.Errorf("%w: grid event: created and deadline times are required", store.ErrInvalid)
	case !(e.RequestedMW > 0):
		return 0, fmt.Errorf("%w: grid event: requested_mw must be > 0, got %v", store.ErrInvalid, e.RequestedMW)
	}
	if e.State == "" {
		e.State = store.EventOpen
	}
	return db.insertID(ctx, "grid event", "INSERT INTO grid_events ("+eventCols[4:]+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		e.Source, e.Requester, e.RequestedMW, e.BaselineMW, e.Deadline.UnixMilli(), e.Reason, e.CreatedAt.UnixMilli(),
		string(e.State), e.AchievedMW, msOrZero(e.AchievedAt), msOrZero(e.UpdatedAt), e.Note)
}

// UpdateGridEvent implements store.GridEvents.
func (db *DB) UpdateGridEvent(ctx context.Context, e store.GridEvent) error {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE grid_events SET state = ?, achieved_mw = ?, achieved_at = ?, updated_at = ?, note = ? WHERE id = ?`),
		string(e.State), e.AchievedMW, msOrZero(e.AchievedAt), msOrZero(e.UpdatedAt), e.Note, e.ID)
	if err != nil {
		return fmt.Errorf("grid event %d: %w", e.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("grid event %d: %w", e.ID, store.ErrNotFound)
	}
	return nil
}

// GridEvent implements store.GridEvents.
func (db *DB) GridEvent(ctx context.Context, id int64) (store.GridEvent, error) {
	e, err := scanEvent(db.R.QueryRowContext(ctx, db.q("SELECT "+eventCols+" FROM grid_events WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("grid event %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("grid event %d: %w", id, err)
	}
	return e, nil
}

// GridEvents implements store.GridEvents.
func (db *DB) GridEvents(ctx context.Context, f store.Filter) ([]store.GridEvent, error) {
	where, args := timeWhere("created_at", f)
	rows, err := db.R.QueryContext(ctx, db.q("SELECT "+eventCols+" FROM grid_events"+whereSQL(where)+" ORDER BY created_at DESC, id DESC LIMIT ?"),
		append(args, f.EffectiveLimit())...)
	if err != nil {
		return nil, fmt.Errorf("grid events: %w", err)
	}
	defer rows.Close()
	var out []store.GridEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("grid events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
