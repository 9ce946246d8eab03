// Package eval measures the health predictor against the emulator's
// physics: a seeded fleet of physics.Miner models with random or scheduled
// faults is polled and assessed in simulated time, and each fault's ground
// truth is compared with when the predictor first raised an alarm.
package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/health"
)

// Config is one evaluation run. Zero fields take the defaults noted.
type Config struct {
	Miners int     // fleet size (default 300)
	Days   float64 // simulated days assessed per miner, after the warm-up (default 4)
	Seed   uint64  // fixes models, firmware, faults, noise (default 1)
	// FaultRate is random faults per miner per day (physics.DrawFault).
	// Ignored when Scheduled is set.
	FaultRate float64
	// Scheduled gives miner i the fault kind i mod 7 (the seventh stays
	// healthy), failing at warm-up + ScheduledAt, instead of random faults:
	// a small fleet then covers every kind.
	Scheduled   bool
	ScheduledAt time.Duration // default 12 h

	Poll   time.Duration // poll interval (default 2 min)
	Every  time.Duration // assessment interval (default 15 min)
	Window time.Duration // history the predictor sees (default 6 h; also the warm-up)

	AmbientC     float64 // mean inlet (default 25 °C)
	SwingC       float64 // diurnal inlet swing amplitude (default 5 °C)
	TimeoutProb  float64 // background chance a poll times out (default 0.005)
	CurtailPerDy float64 // sleep/wake curtailments per miner per day (default 0.5)
	Workers      int     // parallel miners (default GOMAXPROCS)
}

func (c *Config) defaults() error {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Miners == 0 {
		c.Miners = 300
	}
	def(&c.Days, 4)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.ScheduledAt == 0 {
		c.ScheduledAt = 12 * time.Hour
	}
	if c.Poll == 0 {
		c.Poll = 2 * time.Minute
	}
	if c.Every == 0 {
		c.Every = 15 * time.Minute
	}
	if c.Window == 0 {
		c.Window = health.DefaultWindow
	}
	def(&c.AmbientC, 25)
	def(&c.SwingC, 5)
	def(&c.TimeoutProb, 0.005)
	def(&c.CurtailPerDy, 0.5)
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Miners < 0:
		return fmt.Errorf("eval config: miners %d, want > 0", c.Miners)
	case c.Days <= 0 || math.IsNaN(c.Days):
		return fmt.Errorf("eval config: days %g, want > 0", c.Days)
	case c.FaultRate < 0:
		return fmt.Errorf("eval config: fault rate %g, want ≥ 0", c.FaultRate)
	case c.Poll <= 0 || c.Every < c.Poll:
		return fmt.Errorf("eval config: poll %s, every %s: want 0 < poll ≤ every", c.Poll, c.Every)
	}
	return nil
}

// ErrConfig wraps configuration errors.
var ErrConfig = errors.New("eval: bad config")

// Outcome is one fault's result.
type Outcome struct {
	Miner     int
	Model     string
	Firmware  string
	Kind      physics.FaultKind
	LeadUpH   float64 // lead-up inside the assessed run: FailAt − max(Start, warm-up end), h
	RunH      float64 // assessed time before the failure: FailAt − warm-up end, h
	Detected  bool    // an alarm during the lead-up
	LeadH     float64 // FailAt − first alarm, h
	TTFH      float64 // the predictor's time-to-failure estimate at the first alarm (0: none)
	Predicted health.Kind
}

// Report aggregates a run.
type Report struct {
	Config           Config
	Outcomes         []Outcome
	HealthyMinerDays float64
	FalseAlarms      int // alarm onsets while no fault's lead-up had begun
	Assessments      int
	// HealthyMax is each kind's highest score on healthy miners (index =
	// health.Kind): the margin under the alarm threshold.
	HealthyMax [health.NumKinds]float64
	// FalseAlarmLog holds each false alarm's miner and reasons, for tuning.
	FalseAlarmLog []string
}

// Run simulates and assesses the fleet.
func Run(cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	type result struct {
		out         []Outcome
		healthyDays float64
		falseAlarms int
		assessments int
		log         []string
		max         [health.NumKinds]float64
		err         error
	}
	res := make([]result, cfg.Miners)
	var wg sync.WaitGroup
	next := make(chan int)
	for range cfg.Workers {
		wg.Go(func() {
			for i := range next {
				r := &res[i]
				r.out, r.healthyDays, r.falseAlarms, r.assessments, r.log, r.max, r.err = runMiner(&cfg, i)
			}
		})
	}
	for i := range cfg.Miners {
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &Report{Config: cfg}
	for i := range res {
		if res[i].err != nil {
			return nil, fmt.Errorf("miner %d: %w", i, res[i].err)
		}
		rep.Outcomes = append(rep.Outcomes, res[i].out...)
		rep.HealthyMinerDays += res[i].healthyDays
		rep.FalseAlarms += res[i].falseAlarms
		rep.Assessments += res[i].assessments
		rep.FalseAlarmLog = append(rep.FalseAlarmLog, res[i].log...)
		for k, v := range res[i].max {
			rep.HealthyMax[k] = max(rep.HealthyMax[k], v)
		}
	}
	return rep, nil
}

// fleetModels are the (model, firmware) pairs miners are drawn from, as in
// the emulator's default mix plus the other models.
var fleetModels = []struct {
	key string
	fw  physics.Firmware
}{
	{"s19jpro", physics.Stock}, {"s19jpro", physics.Braiins}, {"s21", physics.LuxOS}, {"s21", physics.Stock},
	{"s19xp", physics.Braiins}, {"s19xp", physics.LuxOS}, {"m50s", physics.Whatsminer}, {"m60", physics.Whatsminer},
	{"m50", physics.Whatsminer}, {"m60s", physics.Whatsminer}, {"s21hydro", physics.Stock},
}

// runMiner simulates miner i from its own seed.
func runMiner(cfg *Config, i int) (outs []Outcome, healthyDays float64, falseAlarms, assessments int, log []string, hmax [health.NumKinds]float64, err error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))
	pick := fleetModels[rng.IntN(len(fleetModels))]
	spec, err := physics.LookupModel(pick.key)
	if err != nil {
		return nil, 0, 0, 0, nil, hmax, err
	}
	warm := cfg.Window.Seconds()
	horizon := warm + cfg.Days*86400
	m := physics.New(spec, pick.fw, cfg.AmbientC, cfg.Seed*1_000_003+uint64(i))

	var fault *physics.Fault
	if cfg.Scheduled {
		if k := i % 7; k < len(physics.FaultKinds) {
			kind := physics.FaultKinds[k]
			if kind == physics.FanWear && spec.Fans == 0 {
				kind = physics.ChipDrop
			}
			fa := warm + cfg.ScheduledAt.Seconds() + rng.Float64()*3600
			f := physics.Fault{Kind: kind, FailAt: fa, Start: fa - physics.LeadUp[kind], Target: rng.IntN(3), Mode: physics.NetMode(rng.IntN(2))}
			if kind == physics.FanWear {
				f.Target = rng.IntN(spec.Fans)
			}
			fault = &f
		}
	} else if f, ok := physics.DrawFault(rng, spec, cfg.FaultRate); ok {
		// The draw is memoryless; shifting it past the warm-up gives every
		// fault a full window of history.
		f.FailAt += warm
		f.Start += warm
		if f.FailAt <= horizon {
			fault = &f
		}
	}
	if fault != nil {
		if err = m.AddFault(*fault); err != nil {
			return nil, 0, 0, 0, nil, hmax, err
		}
	}
	stop := horizon
	healthyUntil := horizon
	if fault != nil {
		stop = fault.FailAt
		healthyUntil = fault.Start
	}

	// Curtailments: sleep at a random time for 1–3 h.
	type curtail struct{ at, until float64 }
	var cur []curtail
	for t := warm - 3600; ; {
		t += rng.ExpFloat64() / cfg.CurtailPerDy * 86400
		if t >= horizon {
			break
		}
		d := 3600 + rng.Float64()*7200
		cur = append(cur, curtail{t, t + d})
		t += d
	}
	phase := rng.Float64() * 2 * math.Pi

	poll := cfg.Poll.Seconds()
	every := cfg.Every.Seconds()
	opt := health.Options{Window: cfg.Window}
	noise := rand.New(rand.NewPCG(cfg.Seed^0x5eed, uint64(i)+1))
	var (
		hist       []health.Sample
		tl         physics.Telemetry
		nextAssess = warm
		alarmOn    bool
		healthyS   float64
		out        Outcome
		epoch      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		ci         int
		sleeping   bool
	)
	if fault != nil {
		out = Outcome{Miner: i, Model: spec.Key, Firmware: pick.fw.String(), Kind: fault.Kind,
			LeadUpH: (fault.FailAt - math.Max(fault.Start, warm)) / 3600, RunH: (fault.FailAt - warm) / 3600}
	}
	for t := poll; t < stop; t += poll {
		m.SetAmbient(cfg.AmbientC + cfg.SwingC*math.Sin(2*math.Pi*t/86400+phase))
		m.Step(poll)
		if ci < len(cur) {
			c := cur[ci]
			if !sleeping && t >= c.at {
				m.Sleep()
				sleeping = true
			}
			if sleeping && t >= c.until {
				m.Wake()
				sleeping = false
				ci++
			}
		}
		m.Telemetry(&tl)
		s := sample(&tl, m, pick.fw, epoch.Add(time.Duration(t*float64(time.Second))), noise, cfg.TimeoutProb)
		hist = append(hist, s)
		// Keep one window of history.
		if cut := s.At.Add(-cfg.Window); hist[0].At.Before(cut) {
			k := 0
			for k < len(hist) && hist[k].At.Before(cut) {
				k++
			}
			hist = append(hist[:0], hist[k:]...)
		}
		if t < nextAssess {
			continue
		}
		nextAssess += every
		a, aerr := opt.Assess(hist)
		if aerr != nil {
			err = aerr
			return nil, 0, 0, 0, nil, hmax, err
		}
		assessments++
		switch {
		case t < healthyUntil:
			healthyS += every
			for _, k := range health.Kinds {
				hmax[k] = max(hmax[k], a.Score(k))
			}
			if a.Alarm && !alarmOn {
				falseAlarms++
				log = append(log, fmt.Sprintf("miner %d (%s %s) at %.1f h: %q", i, spec.Key, pick.fw, t/3600, a.Reasons))
			}
		case fault != nil && a.Alarm:
			if !out.Detected {
				out.Detected = true
				out.LeadH = (fault.FailAt - t) / 3600
				out.TTFH = a.TTFHours
			}
			out.Predicted = a.Kind
		}
		alarmOn = a.Alarm
	}
	if fault != nil {
		outs = []Outcome{out}
	}
	return outs, healthyS / 86400, falseAlarms, assessments, log, hmax, nil
}

// sample turns physics telemetry into what a poll would return: sensor
// noise on fans (σ 30 RPM), temperatures (σ 0.3 °C, reported in whole °C),
// power (σ 0.3 %) and the rail (σ 10 mV); integer error counters; polls
// that time out as the network condition or the background rate says, and
// always when the miner has no power.
func sample(tl *physics.Telemetry, m *physics.Miner, fw physics.Firmware, at time.Time, r *rand.Rand, bgTimeout float64) health.Sample {
	nc := m.Network()
	if tl.State == physics.Off || nc.Down || r.Float64() < nc.StallProb+bgTimeout {
		return health.Sample{At: at, Timeout: true}
	}
	s := health.Sample{
		At:       at,
		InletC:   math.Round(tl.InletC + 0.3*r.NormFloat64()),
		PowerW:   math.Round(tl.PowerW * (1 + 0.003*r.NormFloat64())),
		HashTHs:  tl.HashGH / 1000,
		IdealTHs: tl.IdealGH / 1000,
	}
	switch tl.State {
	case physics.Hashing, physics.Ramping:
		s.State = health.StateHashing
	case physics.Booting, physics.Initializing:
		s.State = health.StateStarting
	case physics.Sleeping, physics.Stopping:
		s.State = health.StateSleeping
	case physics.Failed:
		s.State = health.StateFault
	}
	if fw == physics.Whatsminer && tl.PSUVout > 0 {
		s.PSUVoltsV = tl.PSUVout + 0.01*r.NormFloat64()
	}
	s.FansRPM = make([]float64, tl.NFans)
	for f := range s.FansRPM {
		if tl.Fans[f] > 0 {
			s.FansRPM[f] = math.Max(0, math.Round(tl.Fans[f]+30*r.NormFloat64()))
		}
	}
	s.Boards = make([]health.Board, tl.NBoards)
	for b := range s.Boards {
		bt := &tl.Boards[b]
		s.Boards[b] = health.Board{
			Lost: bt.Lost, HashTHs: bt.HashGH / 1000, IdealTHs: bt.IdealGH / 1000,
			Chips: bt.Chips, ChipsOK: bt.ChipsOK, HWErrors: math.Floor(bt.HWErrors),
		}
		if !bt.Lost {
			s.Boards[b].ChipC = math.Round(bt.ChipC + 0.3*r.NormFloat64())
		}
	}
	return s
}
