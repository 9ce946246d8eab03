package plan

// Result is a finished valuation. Its JSON form is documented key by key
// in docs/plan.md.
type Result struct {
	Config           Config  `json:"inputs"`
	Seed             uint64  `json:"seed"`
	Paths            int     `json:"paths"`
	SensitivityPaths int     `json:"sensitivity_paths"`
	Months           int     `json:"months"`
	SiteMW           float64 `json:"site_mw"`
	// HashpricePerPHDay is month 0's hashprice, USD per PH/s per day.
	HashpricePerPHDay float64 `json:"hashprice_start_usd_per_ph_day"`
	// NextHalvingMonth is the month in which the next halving block falls
	// (−1 beyond the horizon).
	NextHalvingMonth int              `json:"next_halving_month"`
	Strategies       []StrategyResult `json:"strategies"`
	Switch           SwitchStats      `json:"switch"`
	Breakeven        Breakevens       `json:"breakeven"`
	Tornado          []TornadoRow     `json:"tornado"`

	npv [numStrategies][]float64 // per MW, by path, for the report
}

// StrategyResult is the NPV distribution of one strategy.
type StrategyResult struct {
	Name           string  `json:"name"`
	NPVPerMW       Stats   `json:"npv_per_mw"`
	NPVPerW        Stats   `json:"npv_per_w"`
	NPVSite        Stats   `json:"npv_site"`
	WinProbability float64 `json:"win_probability"`
}

// SwitchStats describes when and where the switch strategy converted.
type SwitchStats struct {
	ConversionProbability float64 `json:"conversion_probability"`
	ToLease               float64 `json:"to_lease_probability"`
	ToHPC                 float64 `json:"to_hpc_probability"`
	DecisionMonth         *Stats  `json:"decision_month,omitempty"` // over converting paths only
}

// Breakevens are the two breakeven tables.
type Breakevens struct {
	BTCPrice []BTCBreakeven `json:"btc_price"`
	GPURent  []GPUBreakeven `json:"gpu_rent"`
}

// BTCBreakeven is the start BTC price at which mining's mean NPV equals the
// lease's, at one power price.
type BTCBreakeven struct {
	PowerPricePerMWh float64 `json:"power_price_per_mwh"`
	Input            bool    `json:"input"` // the row of the configured power price
	Found            bool    `json:"found"`
	BTCPriceUSD      float64 `json:"btc_price_usd"`
	// HashpricePerPHDay is the hashprice at month 0 that price implies.
	HashpricePerPHDay float64 `json:"hashprice_usd_per_ph_day"`
}

// GPUBreakeven is the GPU rent (at a new GPU's first month) at which HPC's
// mean NPV equals the lease's, at one utilisation.
type GPUBreakeven struct {
	Utilisation    float64 `json:"utilisation"`
	Input          bool    `json:"input"`
	Found          bool    `json:"found"`
	RentPerGPUHour float64 `json:"rent_per_gpu_hour"`
}

// TornadoRow is one input moved to its low and high value, everything else
// fixed, with the mean NPV per W of every strategy at each end.
type TornadoRow struct {
	Input     string             `json:"input"`
	Base      float64            `json:"base"`
	Low       float64            `json:"low"`
	High      float64            `json:"high"`
	NPVPerWLo map[string]float64 `json:"npv_per_w_low"`
	NPVPerWHi map[string]float64 `json:"npv_per_w_high"`
	BaseNPV   map[string]float64 `json:"npv_per_w_base"`
	Swing     float64            `json:"max_swing_per_w"` // largest |high − low| over strategies
}

// NPVs returns the per-path NPV per MW of strategy s (read-only).
func (r *Result) NPVs(s Strategy) []float64 { return r.npv[s] }

// Best returns the strategy with the highest mean NPV.
func (r *Result) Best() StrategyResult {
	best := r.Strategies[0]
	for _, s := range r.Strategies[1:] {
		if s.NPVPerMW.Mean > best.NPVPerMW.Mean {
			best = s
		}
	}
	return best
}
