package site

import "time"

// Reference returns the built-in 100 MW reference site: four generations of
// Bitmain miners and a 5 MW H100 pool on a spot-exposed ERCOT connection.
// examples/site.yaml is the same site written as a config file.
//
// Nominal profiles are Bitmain's published specifications; the eco and
// overclock profiles are typical of autotuning firmware (LuxOS, Braiins OS)
// and are assumptions, as are sleep draw, latencies and wear cost.
func Reference() *Site {
	air := func(name, model string, count int, sleepW float64, ps ...Profile) Tier {
		return Tier{
			Name: name, Model: model, Count: count, Profiles: ps,
			SleepW: sleepW, WakeLatency: 5 * time.Minute, SleepLatency: time.Minute,
			MinOn: 30 * time.Minute, MinOff: 15 * time.Minute,
			SwitchCost: 0.10, Cooling: CoolingAir,
		}
	}
	hydro := air("s21-hydro", "Antminer S21 Hydro", 5600, 20,
		// Bitmain spec: 335 TH/s at 5,360 W (16 J/TH).
		Profile{"stock", 335, 5360},
		Profile{"eco", 270, 3900},
	)
	hydro.Cooling = CoolingHydro
	return &Site{
		Name:           "reference-100mw",
		Timezone:       "America/Chicago",
		InterconnectMW: 100,
		Contract:       Contract{Kind: ContractSpot},
		Tiers: []Tier{
			// Bitmain spec: 104 TH/s at 3,068 W (29.5 J/TH).
			air("s19j-pro", "Antminer S19j Pro", 6000, 15,
				Profile{"stock", 104, 3068},
				Profile{"eco", 84, 2300}),
			// Bitmain spec: 140 TH/s at 3,010 W (21.5 J/TH).
			air("s19-xp", "Antminer S19 XP", 6000, 15,
				Profile{"stock", 140, 3010},
				Profile{"eco", 116, 2350}),
			// Bitmain spec: 200 TH/s at 3,500 W (17.5 J/TH).
			air("s21", "Antminer S21", 8000, 15,
				Profile{"stock", 200, 3500},
				Profile{"eco", 165, 2600},
				Profile{"overclock", 225, 4300}),
			hydro,
		},
		GPUPools: []GPUPool{{
			Name: "h100", Model: "NVIDIA H100 SXM", Count: 3900,
			// NVIDIA DGX H100: 10.2 kW maximum for 8 GPUs (700 W TDP each
			// plus host), so 1,275 W per GPU at load; idle is an assumption.
			LoadW: 1275, IdleW: 300,
			Firm: FirmLease{GPUs: 2000, PricePerGPUHour: 2.10},
			Batch: []BatchJob{{
				Name: "weekly-training", GPUHours: 80000, PricePerGPUHour: 1.60,
				Every: 7 * 24 * time.Hour,
			}},
			Inference: Inference{
				PricePerGPUHour: 2.50,
				GPUsByHour: []float64{
					300, 250, 200, 200, 200, 250, 400, 600, 800, 1000, 1100, 1200,
					1200, 1200, 1200, 1100, 1000, 900, 800, 700, 600, 500, 400, 350,
				},
			},
		}},
		// Air-cooled miners lose about 2 % of capacity per °C above a 35 °C
		// intake (manufacturer operating range tops out at 40-45 °C).
		Cooling: Cooling{AboveC: 35, DeratePerC: 0.02, MinFraction: 0.5},
		// Order of the 2024-25 ERCOT transmission cost of service billed per
		// kW of 4CP demand (about $4.5/kW-month); use your TDSP's tariff.
		FourCP: FourCP{RatePerKWYear: 55},
		// Order of ERCOT 2024 non-spin / ECRS clearing prices.
		Ancillary: Ancillary{PricePerMWh: 5},
	}
}
