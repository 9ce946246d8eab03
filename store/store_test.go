package store

import (
	"errors"
	"testing"
)

var transitionCases = []struct {
	from, to ActionState
	ok       bool
}{
	{Pending, Dispatched, true},
	{Pending, Confirmed, true},
	{Pending, Drifted, false},
	{Dispatched, Confirmed, true},
	{Dispatched, Drifted, true},
	{Dispatched, Pending, false},
	{Drifted, Dispatched, true},
	{Confirmed, Dispatched, false},
	{Failed, Pending, false},
	{Cancelled, Dispatched, false},
	{"bogus", Dispatched, false},
}

func TestCanTransition(t *testing.T) {
	for _, c := range transitionCases {
		if got := CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for _, s := range OpenStates {
		if !s.Open() {
			t.Errorf("%s not open", s)
		}
	}
	if Confirmed.Open() || Failed.Open() || Cancelled.Open() {
		t.Error("terminal state reported open")
	}
}

func TestMetricColumn(t *testing.T) {
	cases := []struct {
		q    SeriesQuery
		want string
	}{
		{SeriesQuery{Kind: KindSite, Metric: "price", Resolution: Raw}, "price"},
		{SeriesQuery{Kind: KindSite, Metric: "price", Resolution: Minute}, "price_avg"},
		{SeriesQuery{Kind: KindMiner, ID: "m", Metric: "chip_c", Resolution: Hour}, "chip_c_max"},
		{SeriesQuery{Kind: KindGPU, ID: "g", Metric: "mem_used", Resolution: Minute}, "mem_used_mib_avg"},
	}
	for _, c := range cases {
		got, err := MetricColumn(c.q)
		if err != nil || got != c.want {
			t.Errorf("MetricColumn(%+v) = %q, %v; want %q", c.q, got, err, c.want)
		}
	}
	if _, err := MetricColumn(SeriesQuery{Kind: KindSite, Metric: "x", Resolution: Raw}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown metric err = %v", err)
	}
}

func TestFilterLimit(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, DefaultLimit}, {-5, DefaultLimit}, {7, 7}, {MaxLimit + 1, MaxLimit}} {
		if got := (Filter{Limit: c.in}).EffectiveLimit(); got != c.want {
			t.Errorf("limit %d → %d, want %d", c.in, got, c.want)
		}
	}
}
