package health

import (
	"math"
	"time"

	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/store"
)

// FromReading converts one successful poll into a Sample.
func FromReading(r miner.Reading) Sample {
	s := Sample{
		At:             r.At,
		State:          fromMinerState(r.State),
		InletC:         r.InletC,
		PowerW:         r.PowerW,
		PowerEstimated: r.PowerEstimated,
		HashTHs:        r.HashrateTHs,
		IdealTHs:       r.HashrateIdealTHs,
	}
	if len(r.FansRPM) > 0 {
		s.FansRPM = append([]float64(nil), r.FansRPM...)
	}
	if len(r.Boards) > 0 {
		s.Boards = make([]Board, len(r.Boards))
	}
	for i, b := range r.Boards {
		ok := b.ChipsFound - b.ChipsBad
		if b.ChipsFound == 0 && b.ChipsBad == 0 {
			ok = 0
		}
		s.Boards[i] = Board{
			HashTHs:  b.HashrateTHs,
			IdealTHs: b.IdealTHs,
			Chips:    b.ChipsExpected,
			ChipsOK:  max(ok, 0),
			ChipC:    mean(b.ChipTempsC),
			HWErrors: float64(b.HWErrors),
		}
		// A chain that answers with no chips while others hash is lost.
		s.Boards[i].Lost = b.ChipsExpected > 0 && b.ChipsFound == 0 && r.HashrateTHs > 0
	}
	return s
}

// FromPoll converts one poller result: a Reading, or a Timeout sample at
// at when the poll failed (the Reading's clock is unknown then).
func FromPoll(res miner.PollResult, at time.Time) Sample {
	if res.Err != nil {
		return Sample{At: at, Timeout: true}
	}
	s := FromReading(res.Reading)
	if s.At.IsZero() {
		s.At = at
	}
	return s
}

// FromStore converts a stored sample. The store keeps only whole-miner
// figures (mean fan speed, hottest chip), so per-fan, per-board and
// error-rate evidence is unavailable from it; a sample in state "offline"
// counts as a timeout.
func FromStore(m store.MinerSample) Sample {
	s := Sample{At: m.Time, State: fromMinerState(miner.State(m.State))}
	if m.State == "offline" {
		return Sample{At: m.Time, Timeout: true}
	}
	s.InletC = finite(m.InletC)
	s.PowerW = finite(m.PowerW)
	s.HashTHs = finite(m.HashrateTHs)
	if c := finite(m.ChipC); c > 0 {
		s.Boards = []Board{{ChipC: c, HWErrors: -1, HashTHs: s.HashTHs}}
	}
	return s
}

func fromMinerState(st miner.State) State {
	switch st {
	case miner.StateHashing:
		return StateHashing
	case miner.StateStarting, "waking":
		return StateStarting
	case miner.StateSleeping:
		return StateSleeping
	case miner.StateFault:
		return StateFault
	}
	return StateUnknown
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func mean(xs []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range xs {
		if x > 0 && !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
