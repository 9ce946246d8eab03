package grid

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jouleworks/joule/controller"
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

// countingSite records Curtail calls and hands out increasing event ids.
type countingSite struct {
	reqs []controller.EventRequest
}

func (s *countingSite) Curtail(_ context.Context, r controller.EventRequest) (int64, error) {
	s.reqs = append(s.reqs, r)
	return int64(len(s.reqs)), nil
}

func (s *countingSite) OnEvent(controller.EventListener) {}

// message is a received MQTT message for the handler.
type message struct {
	topic   string
	payload []byte
	dup     bool
}

func (m message) Duplicate() bool   { return m.dup }
func (m message) Qos() byte         { return 1 }
func (m message) Retained() bool    { return false }
func (m message) Topic() string     { return m.topic }
func (m message) MessageID() uint16 { return 1 }
func (m message) Payload() []byte   { return m.payload }
func (m message) Ack()              {}

// TestRedeliveredRequestIsIdempotent: QoS 1 delivers at least once; the
// same request_id must create one grid event, while a new id creates
// another.
func TestRedeliveredRequestIsIdempotent(t *testing.T) {
	now := time.Date(2025, 7, 14, 15, 0, 0, 0, time.UTC)
	site := &countingSite{}
	b := &Bridge{site: site, ctx: context.Background(),
		o: Options{Prefix: "joule/t", Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}}
	req := []byte(`{"mw": 1.5, "within_s": 600, "request_id": "ercot-7"}`)
	b.handle(nil, message{topic: "joule/t/curtail", payload: req})
	now = now.Add(2 * time.Second) // a redelivery comes a little later
	b.handle(nil, message{topic: "joule/t/curtail", payload: req, dup: true})
	if len(site.reqs) != 1 {
		t.Fatalf("Curtail called %d times for one request_id, want 1", len(site.reqs))
	}
	b.handle(nil, message{topic: "joule/t/curtail", payload: []byte(`{"mw": 1.5, "within_s": 600, "request_id": "ercot-8"}`)})
	if len(site.reqs) != 2 || site.reqs[1].Requester != "mqtt:ercot-8" {
		t.Fatalf("requests %+v, want a second event for ercot-8", site.reqs)
	}
}
