package store

import (
	"fmt"
	"time"
)

// ActionState is where a command is in its life.
type ActionState string

// Action states. Pending: decided, not yet sent. Dispatched: sent, waiting
// for telemetry to confirm. Confirmed: telemetry shows the target in the
// commanded state. Drifted: it was confirmed or dispatched but telemetry
// disagrees (the command did not take, or the miner went back); the
// controller re-dispatches it. Failed: given up (attempts exhausted, target
// unreachable). Cancelled: superseded by a newer desired state before it
// settled.
const (
	Pending    ActionState = "pending"
	Dispatched ActionState = "dispatched"
	Confirmed  ActionState = "confirmed"
	Drifted    ActionState = "drifted"
	Failed     ActionState = "failed"
	Cancelled  ActionState = "cancelled"
)

// Open reports whether an action in state s still needs the controller.
func (s ActionState) Open() bool { return s == Pending || s == Dispatched || s == Drifted }

// OpenStates are the states of unsettled actions.
var OpenStates = []ActionState{Pending, Dispatched, Drifted}

var transitions = map[ActionState][]ActionState{
	// pending → confirmed: telemetry already shows the desired state (a
	// restarted controller finds the miner asleep), so nothing is sent.
	Pending:    {Dispatched, Confirmed, Failed, Cancelled},
	Dispatched: {Confirmed, Drifted, Failed, Cancelled},
	Drifted:    {Dispatched, Confirmed, Failed, Cancelled},
	Confirmed:  {},
	Failed:     {},
	Cancelled:  {},
}

// CanTransition reports whether an action may move from one state to another.
func CanTransition(from, to ActionState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Action is one command to one target, as journalled.
type Action struct {
	ID         string // idempotency key, e.g. "d42:miner-17:sleep"
	Target     string
	Command    string // sleep, wake, profile, reboot ...
	Args       string // command argument, e.g. a profile name or power target
	State      ActionState
	Attempts   int
	DecisionID int64 // 0 when not from a decision (operator, grid event)
	Reason     string
	Err        string // last error text
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// DispatchedAt is the last time it was sent; SettledAt when it was
	// confirmed, failed or cancelled. Zero when not yet.
	DispatchedAt time.Time
	SettledAt    time.Time
}

// Validate checks the fields PutAction needs.
func (a Action) Validate() error {
	switch {
	case a.ID == "":
		return fmt.Errorf("%w: action id is empty", ErrInvalid)
	case a.Target == "":
		return fmt.Errorf("%w: action %s: target is empty", ErrInvalid, a.ID)
	case a.Command == "":
		return fmt.Errorf("%w: action %s: command is empty", ErrInvalid, a.ID)
	case a.CreatedAt.IsZero():
		return fmt.Errorf("%w: action %s: created time is zero", ErrInvalid, a.ID)
	}
	return nil
}

// ActionFilter selects actions. Empty fields match everything.
type ActionFilter struct {
	Target string
	State  ActionState
	Filter
}

// Desired is what the controller wants one target to be doing.
type Desired struct {
	Target     string
	State      string // e.g. hashing, sleeping
	Profile    string // power profile or target, empty for default
	DecisionID int64
	Reason     string
	UpdatedAt  time.Time
}
