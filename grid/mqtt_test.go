package grid

import (
	"errors"
	"testing"
	"time"
)

var now = time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC)

func TestParseRequest(t *testing.T) {
	cases := []struct {
		body     string
		mw       float64
		deadline time.Time
		bad      bool
	}{
		{`{"mw": 2.5, "within_s": 600}`, 2.5, now.Add(10 * time.Minute), false},
		{`{"mw": 1, "deadline": "2026-07-01T15:10:00Z", "reason": "ERS", "request_id": "r1"}`, 1, now.Add(10 * time.Minute), false},
		{`{"mw": 0, "within_s": 600}`, 0, time.Time{}, true},
		{`{"mw": "x", "within_s": 600}`, 0, time.Time{}, true},
		{`{"mw": 1}`, 0, time.Time{}, true},
		{`{"mw": 1, "within_s": 600, "deadline": "2026-07-01T15:10:00Z"}`, 0, time.Time{}, true},
		{`{"mw": 1, "deadline": "2026-07-01T14:10:00Z"}`, 0, time.Time{}, true},
		{`{"mw": 1, "within_s": 999999}`, 0, time.Time{}, true},
		{`{"mw": 1, "within_s": 600, "extra": 1}`, 0, time.Time{}, true},
		{`{"mw": 1, "within_s": 600} {}`, 0, time.Time{}, true},
		{`not json`, 0, time.Time{}, true},
	}
	for _, c := range cases {
		_, mw, dl, err := ParseRequest([]byte(c.body), now)
		if c.bad {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%s: err = %v, want ErrBadRequest", c.body, err)
			}
			continue
		}
		if err != nil || mw != c.mw || !dl.Equal(c.deadline) {
			t.Errorf("%s: got %v MW by %s (%v), want %v by %s", c.body, mw, dl, err, c.mw, c.deadline)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"mw": 2.5, "within_s": 600}`))
	f.Add([]byte(`{"mw": 1, "deadline": "2026-07-01T15:10:00Z"}`))
	f.Add([]byte(`{"mw": -1e309}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, mw, dl, err := ParseRequest(b, now)
		if err == nil && (!(mw > 0) || !dl.After(now)) {
			t.Fatalf("accepted mw %v deadline %s", mw, dl)
		}
	})
}
