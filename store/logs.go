package store

import "time"

// AuditEntry is one thing done to the site: who or what did it, to which
// target, why, and the price and decision behind it.
type AuditEntry struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	Actor       string    `json:"actor"`  // "controller", "policy:joule", "api:alice"
	Action      string    `json:"action"` // e.g. dispatch sleep, override mode, curtail request
	Target      string    `json:"target,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	PriceUSDMWh float64   `json:"price_usd_mwh"`
	DecisionID  int64     `json:"decision_id,omitempty"`
	ActionID    string    `json:"action_id,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// Decision is one dispatch decision: what the policy chose and why.
type Decision struct {
	ID           int64              `json:"id"`
	Time         time.Time          `json:"time"`
	Policy       string             `json:"policy"`
	Reasons      []string           `json:"reasons"`
	MW           map[string]float64 `json:"mw"` // workload → MW, e.g. mining, ai, grid, curtailed
	PriceUSDMWh  float64            `json:"price_usd_mwh"`
	HashpriceUSD float64            `json:"hashprice_usd_th_day"`
	FailSafe     string             `json:"failsafe,omitempty"` // non-empty when a fail-safe overrode the policy
}

// GridEventState is the life of a demand-response request.
type GridEventState string

// Grid event states.
const (
	EventOpen      GridEventState = "open"      // reducing load
	EventAchieved  GridEventState = "achieved"  // target reached by the deadline
	EventMissed    GridEventState = "missed"    // deadline passed short of the target
	EventCancelled GridEventState = "cancelled" // withdrawn
	EventEnded     GridEventState = "ended"     // released; load may return
)

// GridEvent is a request to reduce load by RequestedMW before Deadline.
type GridEvent struct {
	ID          int64          `json:"id"`
	Source      string         `json:"source"` // api, mqtt, ercot
	Requester   string         `json:"requester,omitempty"`
	RequestedMW float64        `json:"requested_mw"`
	BaselineMW  float64        `json:"baseline_mw"` // site load when the request arrived
	Deadline    time.Time      `json:"deadline"`
	Reason      string         `json:"reason,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	State       GridEventState `json:"state"`
	AchievedMW  float64        `json:"achieved_mw"`          // reduction reached so far
	AchievedAt  time.Time      `json:"achieved_at,omitzero"` // when RequestedMW was first reached
	UpdatedAt   time.Time      `json:"updated_at,omitzero"`
	Note        string         `json:"note,omitempty"`
}
