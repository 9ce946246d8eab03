package api

import (
	"context"
	"errors"
	"time"

	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/store"
)

// Site is what the API needs from the live controller. The controller
// implements it; apitest.Site is a fake for tests. Every mutating call
// carries the Actor (token name) so the controller can audit it.
type Site interface {
	// Snapshot returns the site's state now.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Miners returns the fleet table, ordered by ID.
	Miners(ctx context.Context) ([]Miner, error)
	// RequestCurtail starts a grid event (demand response) and returns its
	// id; GET /api/v1/events/{id} then reads it from History.
	RequestCurtail(ctx context.Context, r CurtailRequest) (int64, error)
	// SetManualPrice sets the manual price and/or hashprice inputs.
	SetManualPrice(ctx context.Context, p ManualPrice) error
	// SetOverride forces a mode (or returns to auto).
	SetOverride(ctx context.Context, o Override) error
}

// History is what the API reads from the store; store.Store satisfies it.
type History interface {
	Decisions(ctx context.Context, f store.Filter) ([]store.Decision, error)
	Audit(ctx context.Context, f store.Filter) ([]store.AuditEntry, error)
	Series(ctx context.Context, q store.SeriesQuery) ([]store.Point, error)
	GridEvent(ctx context.Context, id int64) (store.GridEvent, error)
}

// Errors a Site returns to get a specific HTTP status (wrap them; the
// message is shown to the client).
var (
	// ErrInvalid → 400: the request is well-formed but not acceptable
	// (e.g. a curtailment larger than the site's load).
	ErrInvalid = errors.New("invalid request")
	// ErrConflict → 409: the request conflicts with the current state
	// (e.g. an override is locked by a grid event).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable → 503: the controller is not ready (starting up).
	ErrUnavailable = errors.New("unavailable")
)

// Snapshot is the site at one instant, as GET /api/v1/status returns it and
// /metrics exports it.
type Snapshot struct {
	Time   time.Time `json:"time"`
	Site   string    `json:"site"`
	Policy string    `json:"policy"`
	// Mode is "auto" or the override in force (mine, curtail, hold).
	Mode     string    `json:"mode"`
	Override *Override `json:"override,omitempty"`

	CapMW float64 `json:"cap_mw"`
	Power Power   `json:"power"`

	PriceUSDMWh       float64 `json:"price_usd_mwh"`
	HashpriceUSDTHDay float64 `json:"hashprice_usd_th_day"`
	HashrateTHs       float64 `json:"hashrate_ths"`
	// ProfitUSDPerHour is the current run rate: see docs/controller-edges.md.
	ProfitUSDPerHour float64 `json:"profit_usd_per_hour"`
	Today            Revenue `json:"today"`

	Feeds feed.Verdict `json:"feeds"`

	MinerStates map[string]int `json:"miner_states"` // state → count
	GPUs        GPUs           `json:"gpus"`
	Backlog     int            `json:"backlog"` // open actions in the journal
	Commands    Commands       `json:"commands"`
	Alerts      []Alert        `json:"alerts"`

	LastDecision *store.Decision `json:"last_decision,omitempty"`
}

// Power is the site's load by workload, in MW. Curtailed is capacity held
// idle on purpose (by the policy, a fail-safe or a grid event).
type Power struct {
	MiningMW    float64 `json:"mining_mw"`
	AIMW        float64 `json:"ai_mw"`
	GridMW      float64 `json:"grid_mw"`
	CurtailedMW float64 `json:"curtailed_mw"`
}

// Revenue is money since local midnight, in USD. ProfitUSD = MiningUSD +
// AIUSD + AncillaryUSD + ResaleUSD − EnergyCostUSD.
type Revenue struct {
	MiningUSD     float64 `json:"mining_usd"`
	AIUSD         float64 `json:"ai_usd"`
	AncillaryUSD  float64 `json:"ancillary_usd"`
	ResaleUSD     float64 `json:"resale_usd"`
	EnergyCostUSD float64 `json:"energy_cost_usd"`
	ProfitUSD     float64 `json:"profit_usd"`
}

// GPUs summarises the GPU pools.
type GPUs struct {
	Total     int     `json:"total"`
	Inference int     `json:"inference"`
	Batch     int     `json:"batch"`
	Idle      int     `json:"idle"`
	PowerMW   float64 `json:"power_mw"`
	// BatchTarget is the GPUs the last decision allocated to batch work
	// (claimed on the GPU layer); Jobs the batch jobs open now.
	BatchTarget int   `json:"batch_target"`
	Jobs        []Job `json:"jobs,omitempty"`
}

// Job is one open batch job and its progress, tracked from GPU telemetry.
type Job struct {
	Name         string    `json:"name"`
	GPUHours     float64   `json:"gpu_hours"`
	RemainingGPU float64   `json:"remaining_gpu_hours"`
	Deadline     time.Time `json:"deadline"`
	GPUs         float64   `json:"gpus"` // allocated by the last decision
}

// Commands are cumulative command counts since the controller started.
type Commands struct {
	Sent      uint64 `json:"sent"`
	Confirmed uint64 `json:"confirmed"`
	Drifted   uint64 `json:"drifted"`
	Failed    uint64 `json:"failed"`
}

// Alert is an active condition an operator should see.
type Alert struct {
	Name     string    `json:"name"`
	Severity string    `json:"severity"` // info, warning, critical
	Message  string    `json:"message"`
	Since    time.Time `json:"since"`
}

// Health values for Miner.Health.
const (
	HealthOK      = "ok"
	HealthWarning = "warning"
	HealthFault   = "fault"
	HealthOffline = "offline"
)

// Risk is a miner's predicted failure risk.
type Risk struct {
	Score    float64 `json:"score"` // 0…1
	Alarm    bool    `json:"alarm"`
	Kind     string  `json:"kind"` // none, fan_wear, chip_drop, hw_errors, psu_failure, thermal_runaway, network_timeout
	TTFHours float64 `json:"ttf_h,omitempty"`
	Reason   string  `json:"reason,omitempty"`
}

// Miner is one row of the fleet table.
type Miner struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Model    string `json:"model"`
	Firmware string `json:"firmware"`
	Tier     string `json:"tier,omitempty"`
	State    string `json:"state"`   // observed
	Desired  string `json:"desired"` // what the controller wants
	// Profile is the power profile the controller pins the miner to
	// (empty: whatever it runs at, normally its nominal profile).
	Profile string `json:"profile,omitempty"`
	Health  string `json:"health"`
	// Risk is the failure predictor's assessment from recent telemetry
	// (package health); nil when it has too little history.
	Risk        *Risk     `json:"risk,omitempty"`
	HashrateTHs float64   `json:"hashrate_ths"`
	PowerW      float64   `json:"power_w"`
	ChipC       float64   `json:"chip_c"`
	Errors      []string  `json:"errors,omitempty"`
	Pending     string    `json:"pending,omitempty"` // in-flight action id
	LastSeen    time.Time `json:"last_seen,omitzero"`
}

// CurtailRequest asks for RequestedMW less load by Deadline.
type CurtailRequest struct {
	MW       float64
	Deadline time.Time
	Reason   string
	Actor    string
}

// ManualPrice sets manual inputs; nil fields are left alone.
type ManualPrice struct {
	PriceUSDMWh  *float64
	HashpriceUSD *float64
	Reason       string
	Actor        string
}

// Override modes accepted by POST /api/v1/mode/override.
var OverrideModes = []string{"auto", "mine", "curtail", "hold"}

// Override forces the controller's mode until Until (zero: until changed).
type Override struct {
	Mode   string    `json:"mode"`
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor,omitempty"`
}
