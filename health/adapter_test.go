package health

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/store"
)

func TestFromReading(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := miner.Reading{
		At: at, State: miner.StateHashing, HashrateTHs: 101.5, HashrateIdealTHs: 104, PowerW: 3100,
		InletC: 27, FansRPM: []float64{3600, 3620, 3580, 3300},
		Boards: []miner.Board{
			{HashrateTHs: 34, IdealTHs: 34.7, ChipsFound: 126, ChipsExpected: 126, ChipsBad: 3, ChipTempsC: []float64{66, 70, 72, 68}, HWErrors: 120},
			{HashrateTHs: 0, ChipsExpected: 126},
		},
	}
	s := FromReading(r)
	if !s.At.Equal(at) || s.State != StateHashing || s.HashTHs != 101.5 || s.IdealTHs != 104 || s.PowerW != 3100 || s.InletC != 27 {
		t.Errorf("sample header %+v", s)
	}
	if len(s.FansRPM) != 4 || s.FansRPM[3] != 3300 {
		t.Errorf("fans %v, want the four readings", s.FansRPM)
	}
	r.FansRPM[0] = 0
	if s.FansRPM[0] != 3600 {
		t.Error("sample shares the reading's fan slice")
	}
	b := s.Boards[0]
	if b.Chips != 126 || b.ChipsOK != 123 || b.ChipC != 69 || b.HWErrors != 120 || b.IdealTHs != 34.7 || b.Lost {
		t.Errorf("board 0 = %+v, want 123/126 chips, 69 °C mean, 120 errors", b)
	}
	if !s.Boards[1].Lost {
		t.Errorf("board 1 = %+v, want lost (no chips found while the miner hashes)", s.Boards[1])
	}
}

var stateCases = []struct {
	in   miner.State
	want State
}{
	{miner.StateHashing, StateHashing}, {miner.StateStarting, StateStarting}, {miner.StateSleeping, StateSleeping},
	{miner.StateFault, StateFault}, {miner.StateUnknown, StateUnknown}, {"", StateUnknown},
}

func TestStates(t *testing.T) {
	for _, c := range stateCases {
		if got := FromReading(miner.Reading{State: c.in}).State; got != c.want {
			t.Errorf("state %q → %s, want %s", c.in, got, c.want)
		}
	}
}

func TestFromPoll(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := FromPoll(miner.PollResult{Err: errors.New("i/o timeout")}, at)
	if !s.Timeout || !s.At.Equal(at) {
		t.Errorf("failed poll → %+v, want a timeout at %s", s, at)
	}
	s = FromPoll(miner.PollResult{Reading: miner.Reading{State: miner.StateHashing}}, at)
	if s.Timeout || !s.At.Equal(at) || s.State != StateHashing {
		t.Errorf("reading without a time → %+v, want hashing at the poll time", s)
	}
}

func TestFromStore(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := FromStore(store.MinerSample{Time: at, HashrateTHs: 100, PowerW: math.NaN(), InletC: 25, ChipC: 71, FanRPM: 3600, State: "hashing"})
	if s.State != StateHashing || s.PowerW != 0 || s.HashTHs != 100 || len(s.Boards) != 1 || s.Boards[0].ChipC != 71 || s.Boards[0].HWErrors >= 0 {
		t.Errorf("store sample → %+v", s)
	}
	if s := FromStore(store.MinerSample{Time: at, State: "offline"}); !s.Timeout {
		t.Errorf("offline store sample → %+v, want a timeout", s)
	}
}
