package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	snap, err := s.cfg.Site.Snapshot(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

// MinersResponse is GET /api/v1/miners.
type MinersResponse struct {
	Count  int            `json:"count"`
	Health map[string]int `json:"health"` // health → count
	Miners []Miner        `json:"miners"`
}

func (s *Server) miners(w http.ResponseWriter, r *http.Request) {
	ms, err := s.cfg.Site.Miners(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := MinersResponse{Health: map[string]int{}, Miners: []Miner{}}
	want := r.URL.Query().Get("health")
	for _, m := range ms {
		resp.Health[m.Health]++
		if want == "" || m.Health == want {
			resp.Miners = append(resp.Miners, m)
		}
	}
	resp.Count = len(resp.Miners)
	writeJSON(w, http.StatusOK, resp)
}

// filter reads since, until (RFC 3339) and limit from the query.
func filter(q url.Values) (store.Filter, error) {
	var f store.Filter
	var err error
	if f.Since, err = timeParam(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return f, &badRequest{http.StatusBadRequest, fmt.Sprintf("query parameter limit %q: want 1..%d", v, store.MaxLimit)}
		}
		f.Limit = n
	}
	return f, nil
}

func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, &badRequest{http.StatusBadRequest, fmt.Sprintf("query parameter %s %q: want RFC 3339, e.g. 2025-07-14T15:00:00Z", name, v)}
	}
	return t, nil
}

func (s *Server) decisions(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.cfg.History.Decisions(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d == nil {
		d = []store.Decision{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": d})
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.cfg.History.Audit(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a == nil {
		a = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": a})
}

// Series is one metric of GET /api/v1/telemetry.
type Series struct {
	Metric string        `json:"metric"`
	Points []store.Point `json:"points"`
}

// TelemetryResponse is GET /api/v1/telemetry.
type TelemetryResponse struct {
	Kind       store.Kind       `json:"kind"`
	ID         string           `json:"id,omitempty"`
	Resolution store.Resolution `json:"resolution"`
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	Series     []Series         `json:"series"`
}

// telemetry: ?kind=site|miner|gpu&id=&metrics=a,b&res=raw|1m|1h&from=&to=
// (or window=6h instead of from). Defaults: site, 1m, the last 6 hours.
func (s *Server) telemetry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	resp := TelemetryResponse{Kind: store.KindSite, ID: q.Get("id"), Resolution: store.Minute, Series: []Series{}}
	if k := q.Get("kind"); k != "" {
		resp.Kind = store.Kind(k)
	}
	if v := q.Get("res"); v != "" {
		resp.Resolution = store.Resolution(v)
	}
	var err error
	if resp.To, err = timeParam(q, "to"); err != nil {
		s.fail(w, r, err)
		return
	}
	if resp.To.IsZero() {
		resp.To = s.cfg.Now().UTC()
	}
	if resp.From, err = timeParam(q, "from"); err != nil {
		s.fail(w, r, err)
		return
	}
	if resp.From.IsZero() {
		window := 6 * time.Hour
		if v := q.Get("window"); v != "" {
			if window, err = time.ParseDuration(v); err != nil || window <= 0 {
				s.fail(w, r, &badRequest{http.StatusBadRequest, fmt.Sprintf("query parameter window %q: want a duration such as 6h", v)})
				return
			}
		}
		resp.From = resp.To.Add(-window)
	}
	names := strings.Split(q.Get("metrics"), ",")
	if q.Get("metrics") == "" {
		s.fail(w, r, &badRequest{http.StatusBadRequest, fmt.Sprintf("query parameter metrics: required, one or more of %s", strings.Join(store.Metrics(resp.Kind), ","))})
		return
	}
	if len(names) > 16 {
		s.fail(w, r, &badRequest{http.StatusBadRequest, "query parameter metrics: at most 16"})
		return
	}
	for _, m := range names {
		pts, err := s.cfg.History.Series(r.Context(), store.SeriesQuery{Kind: resp.Kind, ID: resp.ID, Metric: strings.TrimSpace(m),
			Resolution: resp.Resolution, From: resp.From, To: resp.To})
		if errors.Is(err, store.ErrInvalid) {
			s.fail(w, r, &badRequest{http.StatusBadRequest, err.Error()})
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if pts == nil {
			pts = []store.Point{}
		}
		resp.Series = append(resp.Series, Series{Metric: m, Points: pts})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) event(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("event id %q: want a positive integer", r.PathValue("id")))
		return
	}
	e, err := s.cfg.History.GridEvent(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// CurtailBody is POST /api/v1/curtail: reduce load by MW before Deadline
// (RFC 3339) or within WithinS seconds — exactly one of the two.
type CurtailBody struct {
	MW       *float64 `json:"mw"`
	Deadline string   `json:"deadline"` // RFC 3339
	WithinS  *float64 `json:"within_s"`
	Reason   string   `json:"reason"`
	// RequestID, when given, makes a retry safe: a repeat of a recent id
	// returns the event the first request became (200) instead of shedding
	// the megawatts again.
	RequestID string `json:"request_id"`
}

// CurtailResponse is the 202 reply to POST /api/v1/curtail.
type CurtailResponse struct {
	ID        int64     `json:"id"`
	Deadline  time.Time `json:"deadline"`
	StatusURL string    `json:"status_url"`
}

// CurtailWindow bounds a curtail request's deadline: a demand-response
// request further out than a day is a schedule, not an event.
const CurtailWindow = 24 * time.Hour

// maxReasonLen bounds a request's free-text reason, which lands in the
// audit log.
const maxReasonLen = 500

// CurtailDeadline checks a curtail request's fields (mw; exactly one of
// withinS and deadline, a zero deadline being absent; reason) at now and
// returns its deadline. It is shared with the MQTT bridge (package grid)
// so a request means the same on either path; errors name the JSON field.
func CurtailDeadline(now time.Time, mw, withinS *float64, deadline time.Time, reason string) (time.Time, error) {
	switch {
	case mw == nil:
		return time.Time{}, fieldErr("mw", "required: the MW of load to shed")
	case !(*mw > 0) || math.IsInf(*mw, 0):
		return time.Time{}, fieldErr("mw", "want > 0, got %v", *mw)
	case withinS == nil && deadline.IsZero():
		return time.Time{}, fieldErr("deadline", "required (or within_s)")
	case withinS != nil && !deadline.IsZero():
		return time.Time{}, fieldErr("within_s", "give deadline or within_s, not both")
	}
	at := deadline
	if withinS != nil {
		// Compared as floats: a huge within_s would overflow a Duration.
		if !(*withinS > 0) || *withinS > CurtailWindow.Seconds() {
			return time.Time{}, fieldErr("within_s", "want 0 < within_s ≤ %d, got %v", int(CurtailWindow.Seconds()), *withinS)
		}
		at = now.Add(time.Duration(*withinS * float64(time.Second)))
	} else if !deadline.After(now) || deadline.Sub(now) > CurtailWindow {
		return time.Time{}, fieldErr("deadline", "want a time within the next 24 h, got %s", deadline.Format(time.RFC3339))
	}
	if len(reason) > maxReasonLen {
		return time.Time{}, fieldErr("reason", "at most %d characters", maxReasonLen)
	}
	return at, nil
}

func (s *Server) curtail(w http.ResponseWriter, r *http.Request) {
	var b CurtailBody
	if err := decode(w, r, s.cfg.MaxBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.cfg.Now()
	req := CurtailRequest{Reason: b.Reason, Actor: actor(r.Context())}
	deadline, err := bodyTime("deadline", b.Deadline)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req.Deadline, err = CurtailDeadline(now, b.MW, b.WithinS, deadline, b.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req.MW = *b.MW
	if len(b.RequestID) > maxRequestIDLen {
		s.fail(w, r, fieldErr("request_id", "at most %d characters", maxRequestIDLen))
		return
	}
	// Held across the curtail so a retry racing the first copy finds it.
	s.curtailMu.Lock()
	defer s.curtailMu.Unlock()
	if id, dup := s.recent.Lookup(b.RequestID); dup {
		e, err := s.cfg.History.GridEvent(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Location", fmt.Sprintf("/api/v1/events/%d", id))
		writeJSON(w, http.StatusOK, CurtailResponse{ID: id, Deadline: e.Deadline.UTC(), StatusURL: fmt.Sprintf("/api/v1/events/%d", id)})
		return
	}
	id, err := s.cfg.Site.RequestCurtail(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recent.Remember(b.RequestID, id)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/events/%d", id))
	writeJSON(w, http.StatusAccepted, CurtailResponse{ID: id, Deadline: req.Deadline.UTC(), StatusURL: fmt.Sprintf("/api/v1/events/%d", id)})
}

// ManualPriceBody is POST /api/v1/price/manual; at least one field.
type ManualPriceBody struct {
	PriceUSDMWh  *float64 `json:"price_usd_mwh"`
	HashpriceUSD *float64 `json:"hashprice_usd_th_day"`
	Reason       string   `json:"reason"`
}

// ERCOT's offer cap and floor bound what a price can plausibly be: $5,000
// HCAP since 2022 and the −$250 offer floor.
const minPrice, maxPrice = -250.0, 5000.0

func (s *Server) manualPrice(w http.ResponseWriter, r *http.Request) {
	var b ManualPriceBody
	if err := decode(w, r, s.cfg.MaxBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case b.PriceUSDMWh == nil && b.HashpriceUSD == nil:
		s.fail(w, r, fieldErr("price_usd_mwh", "required (or hashprice_usd_th_day)"))
		return
	case b.PriceUSDMWh != nil && (math.IsNaN(*b.PriceUSDMWh) || *b.PriceUSDMWh < minPrice || *b.PriceUSDMWh > maxPrice):
		s.fail(w, r, fieldErr("price_usd_mwh", "want %v..%v $/MWh, got %v", minPrice, maxPrice, *b.PriceUSDMWh))
		return
	case b.HashpriceUSD != nil && (math.IsNaN(*b.HashpriceUSD) || *b.HashpriceUSD < 0 || *b.HashpriceUSD > 10):
		s.fail(w, r, fieldErr("hashprice_usd_th_day", "want 0..10 $/TH/day, got %v", *b.HashpriceUSD))
		return
	}
	err := s.cfg.Site.SetManualPrice(r.Context(), ManualPrice{PriceUSDMWh: b.PriceUSDMWh, HashpriceUSD: b.HashpriceUSD, Reason: b.Reason, Actor: actor(r.Context())})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "set"})
}

// OverrideBody is POST /api/v1/mode/override.
type OverrideBody struct {
	Mode   string   `json:"mode"`
	Until  string   `json:"until"` // RFC 3339
	ForS   *float64 `json:"for_s"`
	Reason string   `json:"reason"`
}

func (s *Server) override(w http.ResponseWriter, r *http.Request) {
	var b OverrideBody
	if err := decode(w, r, s.cfg.MaxBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.cfg.Now()
	until, err := bodyTime("until", b.Until)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := Override{Mode: b.Mode, Until: until, Reason: b.Reason, Actor: actor(r.Context())}
	switch {
	case !slices.Contains(OverrideModes, b.Mode):
		s.fail(w, r, fieldErr("mode", "want one of %s, got %q", strings.Join(OverrideModes, ", "), b.Mode))
		return
	case b.ForS != nil && !until.IsZero():
		s.fail(w, r, fieldErr("for_s", "give until or for_s, not both"))
		return
	case b.ForS != nil:
		if !(*b.ForS > 0) || *b.ForS > 7*86400 {
			s.fail(w, r, fieldErr("for_s", "want 0 < for_s ≤ 604800, got %v", *b.ForS))
			return
		}
		o.Until = now.Add(time.Duration(*b.ForS * float64(time.Second)))
	case !until.IsZero() && !until.After(now):
		s.fail(w, r, fieldErr("until", "%s is in the past", b.Until))
		return
	}
	if b.Mode != "auto" && strings.TrimSpace(b.Reason) == "" {
		s.fail(w, r, fieldErr("reason", "required when forcing a mode; it goes in the audit log"))
		return
	}
	if err := s.cfg.Site.SetOverride(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// bodyTime parses an optional RFC 3339 body field.
func bodyTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fieldErr(field, "want an RFC 3339 time such as 2025-07-14T15:00:00Z, got %q", v)
	}
	return t, nil
}
