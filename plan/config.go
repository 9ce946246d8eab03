// Package plan values a mining site per megawatt under uncertainty: keep
// mining, lease the powered shell to an AI tenant, convert to an HPC (GPU
// rental) business, or mine now and switch when converting pays.
//
// Every figure is computed per MW of site interconnect (the site's share of
// the Bitcoin network is far too small to move prices, so value is linear in
// MW); totals multiply by Site.MW. All money is nominal US dollars, pre-tax.
package plan

// Config is the full input of a valuation. Defaults returns one filled with
// documented public figures; a YAML file overrides any subset of fields.
// Rates and fractions are decimals (0.12 means 12 %).
type Config struct {
	// Start labels month 0 ("2026-01"); it does not move the block schedule,
	// which is driven by Network.StartHeight.
	Start        string  `yaml:"start" json:"start"`
	HorizonYears int     `yaml:"horizon_years" json:"horizon_years"`
	DiscountRate float64 `yaml:"discount_rate" json:"discount_rate"`

	Site    SiteConfig    `yaml:"site" json:"site"`
	Fleet   FleetConfig   `yaml:"fleet" json:"fleet"`
	BTC     BTCConfig     `yaml:"btc" json:"btc"`
	Network NetworkConfig `yaml:"network" json:"network"`
	Power   PowerConfig   `yaml:"power" json:"power"`
	Lease   LeaseConfig   `yaml:"lease" json:"lease"`
	HPC     HPCConfig     `yaml:"hpc" json:"hpc"`
	Switch  SwitchConfig  `yaml:"switch" json:"switch"`
}

// SiteConfig describes the powered site.
type SiteConfig struct {
	Name string  `yaml:"name" json:"name"`
	MW   float64 `yaml:"mw" json:"mw"`
	// ITFraction is the critical IT load an AI conversion gets out of each MW
	// of interconnect (1/PUE): liquid-cooled AI halls run PUE ≈ 1.2–1.4.
	ITFraction float64 `yaml:"it_fraction" json:"it_fraction"`
}

// FleetConfig is the existing ASIC fleet and its refresh policy.
type FleetConfig struct {
	EfficiencyJPerTH float64 `yaml:"efficiency_j_per_th" json:"efficiency_j_per_th"`
	AgeMonths        int     `yaml:"age_months" json:"age_months"`
	LifeMonths       int     `yaml:"life_months" json:"life_months"`
	// Uptime is the fraction of hours the fleet hashes (availability times
	// curtailment); power is paid only for those hours.
	Uptime  float64 `yaml:"uptime" json:"uptime"`
	PoolFee float64 `yaml:"pool_fee" json:"pool_fee"`
	// OpexPerMWYear is non-power operating cost (staff, repairs, insurance).
	OpexPerMWYear float64 `yaml:"opex_per_mw_year" json:"opex_per_mw_year"`
	// CurtailmentCreditPerMWYear is demand-response and curtailment income,
	// e.g. the credit a `joule backtest` of the site reports.
	CurtailmentCreditPerMWYear float64 `yaml:"curtailment_credit_per_mw_year" json:"curtailment_credit_per_mw_year"`
	// RefreshEfficiencyJPerTH is the efficiency of a new ASIC bought at month
	// 0; it improves by EfficiencyGainPerYear and RefreshCapexPerTH falls
	// at the same rate, so a new MW of ASICs costs the same in every year.
	RefreshEfficiencyJPerTH  float64 `yaml:"refresh_efficiency_j_per_th" json:"refresh_efficiency_j_per_th"`
	RefreshCapexPerTH        float64 `yaml:"refresh_capex_per_th" json:"refresh_capex_per_th"`
	EfficiencyGainPerYear    float64 `yaml:"efficiency_gain_per_year" json:"efficiency_gain_per_year"`
	ShutDownWhenUnprofitable bool    `yaml:"shut_down_when_unprofitable" json:"shut_down_when_unprofitable"`
	// ExitMultiple values the mining business at the horizon as a multiple of
	// its last 12 months of operating cash flow (floored at zero).
	ExitMultiple float64 `yaml:"exit_multiple" json:"exit_multiple"`
}

// BTCConfig is the Bitcoin price model.
type BTCConfig struct {
	// Model is "gbm" (geometric Brownian motion) or "bootstrap" (monthly
	// blocks of daily log returns resampled from ReturnsFile).
	Model    string  `yaml:"model" json:"model"`
	PriceUSD float64 `yaml:"price_usd" json:"price_usd"`
	// Drift is the expected annual log-growth of the mean price:
	// E[P(t)] = P0·exp(Drift·t).
	Drift      float64 `yaml:"drift" json:"drift"`
	Volatility float64 `yaml:"volatility" json:"volatility"`
	// ReturnsFile is a CSV with a date column and a close_usd column.
	ReturnsFile string `yaml:"returns_file" json:"returns_file"`
	// Recenter shifts bootstrapped returns so their mean matches Drift;
	// without it the file's own (2020–25: ≈ +49 %/yr) drift is replayed.
	Recenter bool `yaml:"recenter" json:"recenter"`
}

// NetworkConfig is the Bitcoin network: hashrate, block schedule and fees.
type NetworkConfig struct {
	HashrateEH         float64 `yaml:"hashrate_eh" json:"hashrate_eh"`
	StartHeight        int     `yaml:"start_height" json:"start_height"`
	FeesBTCPerBlock    float64 `yaml:"fees_btc_per_block" json:"fees_btc_per_block"`
	PriceElasticity    float64 `yaml:"price_elasticity" json:"price_elasticity"`
	AdjustmentPerMonth float64 `yaml:"adjustment_per_month" json:"adjustment_per_month"`
	// EfficiencyGainPerYear is the yearly fall in the network's average J/TH:
	// the same power budget buys more hashrate each year.
	EfficiencyGainPerYear float64 `yaml:"efficiency_gain_per_year" json:"efficiency_gain_per_year"`
}

// PowerConfig is the site's power price.
type PowerConfig struct {
	// Model is "fixed" (a PPA price) or "spot" (each month's average price
	// is drawn from a lognormal distribution with mean PricePerMWh).
	Model       string  `yaml:"model" json:"model"`
	PricePerMWh float64 `yaml:"price_per_mwh" json:"price_per_mwh"`
	Escalator   float64 `yaml:"escalator" json:"escalator"`
	Volatility  float64 `yaml:"volatility" json:"volatility"`
}

// LeaseConfig is the powered-shell lease to an AI tenant. Capex and rent are
// per MW of critical IT load (Site.ITFraction of the interconnect).
type LeaseConfig struct {
	ConversionCapexPerMW float64 `yaml:"conversion_capex_per_mw" json:"conversion_capex_per_mw"`
	DowntimeMonths       int     `yaml:"downtime_months" json:"downtime_months"`
	RentPerMWYear        float64 `yaml:"rent_per_mw_year" json:"rent_per_mw_year"`
	NOIMargin            float64 `yaml:"noi_margin" json:"noi_margin"`
	TermYears            int     `yaml:"term_years" json:"term_years"`
	Escalator            float64 `yaml:"escalator" json:"escalator"`
	// RenewalRentFactor scales rent after the term ends (1 = renews flat).
	RenewalRentFactor float64 `yaml:"renewal_rent_factor" json:"renewal_rent_factor"`
	ExitMultiple      float64 `yaml:"exit_multiple" json:"exit_multiple"`
}

// HPCConfig is the own-GPU compute business. Capex and GPU counts are per MW
// of critical IT load.
type HPCConfig struct {
	ConversionCapexPerMW float64 `yaml:"conversion_capex_per_mw" json:"conversion_capex_per_mw"`
	DowntimeMonths       int     `yaml:"downtime_months" json:"downtime_months"`
	GPUsPerMW            float64 `yaml:"gpus_per_mw" json:"gpus_per_mw"`
	GPUCapex             float64 `yaml:"gpu_capex" json:"gpu_capex"`
	RentPerGPUHour       float64 `yaml:"rent_per_gpu_hour" json:"rent_per_gpu_hour"`
	RentDeclinePerYear   float64 `yaml:"rent_decline_per_year" json:"rent_decline_per_year"`
	RentFloorPerGPUHour  float64 `yaml:"rent_floor_per_gpu_hour" json:"rent_floor_per_gpu_hour"`
	RentVolatility       float64 `yaml:"rent_volatility" json:"rent_volatility"`
	Utilisation          float64 `yaml:"utilisation" json:"utilisation"`
	// LifeYears is the depreciation life: GPUs are replaced at the same
	// capex after it and the new generation rents at RentPerGPUHour again.
	LifeYears       float64 `yaml:"life_years" json:"life_years"`
	PowerLoadFactor float64 `yaml:"power_load_factor" json:"power_load_factor"`
	OpexPerGPUHour  float64 `yaml:"opex_per_gpu_hour" json:"opex_per_gpu_hour"`
	ExitMultiple    float64 `yaml:"exit_multiple" json:"exit_multiple"`
}

// SwitchConfig is the mine-now-convert-later strategy.
type SwitchConfig struct {
	// Target is "best" (lease or HPC, whichever the rule values higher at
	// decision time), "lease" or "hpc".
	Target string `yaml:"target" json:"target"`
	// DecisionLagMonths is the time from deciding to the start of
	// construction (contracts, permits); the fleet keeps mining meanwhile.
	DecisionLagMonths int `yaml:"decision_lag_months" json:"decision_lag_months"`
	// HurdlePerMW is the value edge, in $ per MW at decision time, the
	// conversion must show over mining on before the rule converts.
	HurdlePerMW float64 `yaml:"hurdle_per_mw" json:"hurdle_per_mw"`
}

// Defaults returns the built-in inputs. Sources, as of late 2025:
//   - BTC ≈ $87k and difficulty 1.50e14 (≈ 1,074 EH/s) on 2025-12-29,
//     fees ≈ 0.033 BTC/block mean of 2025: ../shared/data/btc_daily_fees_2023_2025.csv
//     (Coin Metrics community data). Realised volatility 2023–25 ≈ 46 %/yr.
//   - Block ≈ 931,000 at 2026-01-01 (900,000 on 2025-05-31 plus ≈ 145/day),
//     so the 1,050,000 halving lands ≈ April 2028.
//   - Fleet: S19 XP/S21 mix ≈ 20 J/TH; new S21-class ≈ 15 J/TH at ≈ $14/TH
//     (miner price indices, 2025). ASIC J/TH fell ≈ 20 %/yr 2016–23
//     (S9 98 → S21 17.5); 12 %/yr assumed as it nears process limits.
//   - Lease: public AI-tenant conversions (Core Scientific–CoreWeave,
//     Galaxy–CoreWeave, Cipher–Fluidstack, IREN, TeraWulf) imply ≈ $8–11 M
//     capex and ≈ $1.2–2.1 M rent per critical-IT MW-year, 10–15 year terms,
//     ≈ 2–3 % escalators, 12–18 months to first rent.
//   - Exit: 7.5 % cap rate on lease NOI (13.3×), near published data-centre
//     cap rates of 5–8 %.
//   - HPC: H100 on-demand ≈ $8/GPU-h in 2023 and ≈ $2 in 2024–26; ≈ 700
//     H100-class GPUs per critical MW (≈ 1.4 kW each all-in); ≈ $35k per
//     GPU installed with servers and networking; 5-year depreciation.
func Defaults() Config {
	return Config{
		Start:        "2026-01",
		HorizonYears: 15,
		DiscountRate: 0.12,
		Site:         SiteConfig{Name: "site", MW: 100, ITFraction: 0.77},
		Fleet: FleetConfig{
			EfficiencyJPerTH:           20,
			AgeMonths:                  18,
			LifeMonths:                 48,
			Uptime:                     0.95,
			PoolFee:                    0.02,
			OpexPerMWYear:              60_000,
			CurtailmentCreditPerMWYear: 20_000,
			RefreshEfficiencyJPerTH:    15,
			RefreshCapexPerTH:          14,
			EfficiencyGainPerYear:      0.12,
			ShutDownWhenUnprofitable:   true,
			ExitMultiple:               3,
		},
		BTC: BTCConfig{
			Model:      "gbm",
			PriceUSD:   87_000,
			Drift:      0.10,
			Volatility: 0.46,
			Recenter:   true,
		},
		Network: NetworkConfig{
			HashrateEH:            1074,
			StartHeight:           931_000,
			FeesBTCPerBlock:       0.033,
			PriceElasticity:       0.8,
			AdjustmentPerMonth:    0.15,
			EfficiencyGainPerYear: 0.12,
		},
		Power: PowerConfig{Model: "fixed", PricePerMWh: 45, Escalator: 0.02, Volatility: 0.3},
		Lease: LeaseConfig{
			ConversionCapexPerMW: 9_500_000,
			DowntimeMonths:       15,
			RentPerMWYear:        1_600_000,
			NOIMargin:            0.85,
			TermYears:            15,
			Escalator:            0.025,
			RenewalRentFactor:    1,
			ExitMultiple:         13.3,
		},
		HPC: HPCConfig{
			ConversionCapexPerMW: 9_500_000,
			DowntimeMonths:       15,
			GPUsPerMW:            700,
			GPUCapex:             35_000,
			RentPerGPUHour:       2.0,
			RentDeclinePerYear:   0.20,
			RentFloorPerGPUHour:  1.0,
			RentVolatility:       0.25,
			Utilisation:          0.80,
			LifeYears:            5,
			PowerLoadFactor:      0.85,
			OpexPerGPUHour:       0.20,
			ExitMultiple:         3,
		},
		Switch: SwitchConfig{Target: "best", DecisionLagMonths: 6},
	}
}
