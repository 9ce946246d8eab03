// Package store declares how the live controller remembers things: telemetry
// with rollups and retention, the desired state of every miner, the command
// journal that makes restarts safe, and the audit, decision and grid-event
// logs. Implementations live in store/sqlite (the default) and
// store/postgres; both pass the conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound means no row has the requested id.
	ErrNotFound = errors.New("not found")
	// ErrBadTransition means an action was asked to move to a state its
	// current state does not allow (see CanTransition), or it was not in the
	// state the caller expected: another writer got there first.
	ErrBadTransition = errors.New("action state transition not allowed")
	// ErrInFlight means the target already has an open action (pending,
	// dispatched or drifted); a second command must wait for it to settle.
	ErrInFlight = errors.New("target already has an action in flight")
	// ErrInvalid means a value failed validation before reaching the
	// database; the message names the field.
	ErrInvalid = errors.New("invalid value")
)

// Store is everything the controller persists. Consumers should declare the
// subset they use rather than depend on all of it.
type Store interface {
	TelemetryWriter
	TelemetryReader
	Maintainer
	DesiredStates
	Journal
	AuditLog
	DecisionLog
	GridEvents
	Close() error
}

// TelemetryWriter appends raw telemetry. Each call is one transaction, so a
// whole poll sweep lands at once or not at all.
type TelemetryWriter interface {
	WriteMinerSamples(ctx context.Context, s []MinerSample) error
	WriteGPUSamples(ctx context.Context, s []GPUSample) error
	WriteSiteSamples(ctx context.Context, s []SiteSample) error
}

// TelemetryReader reads series back, from raw samples or rollups.
type TelemetryReader interface {
	Series(ctx context.Context, q SeriesQuery) ([]Point, error)
}

// Maintainer computes rollups and applies retention. Both are idempotent:
// running them twice over the same window gives the same rows.
type Maintainer interface {
	// Rollup recomputes the 1-minute buckets starting in
	// [floor_min(from), floor_min(to)) from raw samples, then the 1-hour
	// buckets starting in [floor_hour(from), floor_hour(to)) from the
	// 1-minute rollups. Buckets with no source rows are left untouched, so
	// rolling up after raw samples were pruned keeps the earlier result.
	Rollup(ctx context.Context, from, to time.Time) error
	// Prune deletes rows older than the retention allows at now.
	Prune(ctx context.Context, now time.Time) (PruneStats, error)
}

// DesiredStates holds what the controller wants each target to be doing.
type DesiredStates interface {
	// SetDesired upserts the desired state of each target.
	SetDesired(ctx context.Context, d []Desired) error
	// DesiredStates returns every target's desired state, ordered by target.
	DesiredStates(ctx context.Context) ([]Desired, error)
}

// Journal is the durable command journal. Every command to hardware is an
// Action with an idempotency key; its state moves only along CanTransition,
// by compare-and-set, so two controllers (or one restarted mid-command)
// never both dispatch it.
type Journal interface {
	// PutAction records a new pending action. If an action with the same ID
	// exists it is returned unchanged with created=false (the idempotent
	// retry). If the target has another open action, ErrInFlight.
	PutAction(ctx context.Context, a Action) (got Action, created bool, err error)
	// Transition moves action id from state from to state to at time at,
	// recording reason (and errText for failures). Moving to Dispatched
	// increments Attempts. ErrBadTransition if the action is not in from or
	// the move is not allowed; ErrNotFound if there is no such action.
	Transition(ctx context.Context, id string, from, to ActionState, at time.Time, reason, errText string) (Action, error)
	// Action returns one action.
	Action(ctx context.Context, id string) (Action, error)
	// OpenActions returns the actions not yet settled (pending, dispatched,
	// drifted), oldest first: what a restarted controller resumes.
	OpenActions(ctx context.Context) ([]Action, error)
	// Actions lists actions, newest first.
	Actions(ctx context.Context, f ActionFilter) ([]Action, error)
}

// AuditLog records every action taken, by whom and why.
type AuditLog interface {
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	Audit(ctx context.Context, f Filter) ([]AuditEntry, error)
}

// DecisionLog records each dispatch decision with its reasons.
type DecisionLog interface {
	AppendDecision(ctx context.Context, d Decision) (int64, error)
	Decisions(ctx context.Context, f Filter) ([]Decision, error)
}

// GridEvents records demand-response requests and what was achieved.
type GridEvents interface {
	CreateGridEvent(ctx context.Context, e GridEvent) (int64, error)
	// UpdateGridEvent overwrites the mutable fields (State, AchievedMW,
	// AchievedAt, Note) of event e.ID.
	UpdateGridEvent(ctx context.Context, e GridEvent) error
	GridEvent(ctx context.Context, id int64) (GridEvent, error)
	GridEvents(ctx context.Context, f Filter) ([]GridEvent, error)
}

// Filter selects log rows by time, newest first. Zero Since/Until leave that
// side open; Limit 0 means DefaultLimit.
type Filter struct {
	Since, Until time.Time
	Limit        int
}

// DefaultLimit bounds list queries that give no limit, so a dashboard poll
// never drags a year of rows.
const DefaultLimit = 100

// MaxLimit is the largest limit honoured.
const MaxLimit = 10000

// EffectiveLimit returns the limit a query with f applies.
func (f Filter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// Retention says how long each resolution is kept. Zero keeps forever.
type Retention struct {
	Raw    time.Duration
	Minute time.Duration
	Hour   time.Duration
}

// DefaultRetention keeps raw samples 2 days, 1-minute rollups 14 days and
// 1-hour rollups forever. In SQLite a miner row costs ~110 bytes with its
// index, so a 10,000-miner site polled every 30 s writes ~3.2 GB of raw rows
// and ~1.5 GB of minute rows a day; these defaults hold that to ~27 GB plus
// ~9 GB a year of hourly rows. Smaller sites (or Postgres) can keep more.
var DefaultRetention = Retention{Raw: 2 * 24 * time.Hour, Minute: 14 * 24 * time.Hour}

// PruneStats counts the rows Prune removed.
type PruneStats struct {
	Raw, Minute, Hour int64
}
