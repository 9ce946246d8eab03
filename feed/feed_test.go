package feed

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jouleworks/joule/market"
)

var origin = time.Date(2025, 7, 14, 12, 0, 0, 0, time.UTC)

func series() market.Series {
	return market.Series{Name: "test", Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Step: 15 * time.Minute,
		Values: []float64{10, 20, 30, 40}}
}

func TestReplay(t *testing.T) {
	r, err := NewReplay("replay", series(), origin, 60, false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		wall  time.Duration // since origin
		value float64
		at    time.Duration // reading time since origin
	}{
		{0, 10, 0},
		{14 * time.Second, 10, 0},
		{15 * time.Second, 20, 15 * time.Second},
		{59 * time.Second, 40, 45 * time.Second},
		{10 * time.Minute, 40, 45 * time.Second}, // past the end: held, ageing
	}
	for _, c := range cases {
		got, err := r.Latest(origin.Add(c.wall))
		if err != nil {
			t.Fatal(err)
		}
		if got.Value != c.value || !got.At.Equal(origin.Add(c.at)) {
			t.Errorf("at +%s: got %v at +%s, want %v at +%s", c.wall, got.Value, got.At.Sub(origin), c.value, c.at)
		}
	}
	if mt := r.MarketTime(origin.Add(30 * time.Second)); !mt.Equal(series().Start.Add(30 * time.Minute)) {
		t.Errorf("market time = %s", mt)
	}
	if _, err := r.Latest(origin.Add(-time.Second)); !errors.Is(err, ErrNoData) {
		t.Errorf("before origin err = %v, want ErrNoData", err)
	}
	loop, _ := NewReplay("loop", series(), origin, 60, true)
	got, _ := loop.Latest(origin.Add(75 * time.Second)) // 75 min market = 15 min into 2nd loop
	if got.Value != 20 || !got.At.Equal(origin.Add(75*time.Second)) {
		t.Errorf("loop: got %v at +%s, want 20 at +75s", got.Value, got.At.Sub(origin))
	}
	v := Evaluate(Curtail, origin.Add(10*time.Minute), Snapshot("price", r, time.Minute, origin.Add(10*time.Minute)))
	if !v.Active || !strings.Contains(v.Reason, "old") {
		t.Errorf("ended replay verdict = %+v, want stale", v)
	}
	for _, bad := range []struct {
		s     market.Series
		speed float64
	}{{market.Series{}, 1}, {series(), 0}, {market.Series{Values: []float64{1}}, 1}} {
		if _, err := NewReplay("x", bad.s, origin, bad.speed, false); err == nil {
			t.Errorf("NewReplay(%+v, %v) accepted", bad.s, bad.speed)
		}
	}
}

var evalCases = []struct {
	name   string
	states []State
	active bool
	reason string
}{
	{"fresh", []State{{Name: "ercot", Role: "price", MaxAge: 30 * time.Minute, Have: true, Reading: Reading{At: origin.Add(-10 * time.Minute)}}}, false, ""},
	{"exactly max age is fresh", []State{{Name: "ercot", Role: "price", MaxAge: 30 * time.Minute, Have: true, Reading: Reading{At: origin.Add(-30 * time.Minute)}}}, false, ""},
	{"old", []State{{Name: "ercot", Role: "price", MaxAge: 30 * time.Minute, Have: true, Reading: Reading{At: origin.Add(-31 * time.Minute)}}}, true, "price ercot is 31m0s old (max 30m0s); fail-safe: curtail"},
	{"no value", []State{{Name: "hp", Role: "hashprice"}}, true, "hashprice hp has no value; fail-safe: curtail"},
	{"max age zero never ages", []State{{Name: "k", Role: "hashprice", Have: true, Reading: Reading{At: origin.AddDate(-1, 0, 0)}}}, false, ""},
	{"future reading", []State{{Name: "w", Role: "price", MaxAge: time.Minute, Have: true, Reading: Reading{At: origin.Add(time.Hour)}}}, false, ""},
}

func TestEvaluate(t *testing.T) {
	for _, c := range evalCases {
		v := Evaluate(Curtail, origin, c.states...)
		if v.Active != c.active || v.Reason != c.reason || v.Mode != Curtail || len(v.Sources) != len(c.states) {
			t.Errorf("%s: verdict = %+v, want active=%v reason %q", c.name, v, c.active, c.reason)
		}
	}
	if _, err := ParseMode("Mine"); err != nil {
		t.Error(err)
	}
	if _, err := ParseMode("panic"); err == nil || !strings.Contains(err.Error(), "hold, mine or curtail") {
		t.Errorf("ParseMode(panic) err = %v", err)
	}
}

func TestManualAndWebhook(t *testing.T) {
	m := NewManual("webhook")
	if _, err := m.Latest(origin); !errors.Is(err, ErrNoData) {
		t.Fatalf("empty manual err = %v", err)
	}
	h := Webhook(m, "s3cret", func() time.Time { return origin })
	cases := []struct {
		method, secret, body string
		status               int
		want                 string
	}{
		{"GET", "s3cret", "", 405, "POST"},
		{"POST", "wrong", `{"value":1}`, 401, "X-Joule-Secret"},
		{"POST", "s3cret", `{"value":"high"}`, 400, "value"},
		{"POST", "s3cret", `{}`, 400, `field "value": required`},
		{"POST", "s3cret", `{"value":1,"extra":2}`, 400, "extra"},
		{"POST", "s3cret", ``, 400, "empty body"},
		{"POST", "s3cret", `{"value":` + strings.Repeat("1", 5000) + `}`, 413, "too large"},
		{"POST", "s3cret", `{"value":-12.5,"at":"2025-07-14T11:55:00Z"}`, 204, ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, "/hook", strings.NewReader(c.body))
		req.Header.Set("X-Joule-Secret", c.secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s %q: %d %q, want %d containing %q", c.method, c.body, w.Code, w.Body.String(), c.status, c.want)
		}
	}
	r, err := m.Latest(origin)
	if err != nil || r.Value != -12.5 || !r.At.Equal(origin.Add(-5*time.Minute)) || !r.Received.Equal(origin) {
		t.Fatalf("after webhook: %+v %v", r, err)
	}
}

// fakeERCOT serves the documented token and SPP shapes and checks the
// headers every request must carry.
func fakeERCOT(t *testing.T, fail *atomic.Bool) (*httptest.Server, *atomic.Int32) {
	body, err := os.ReadFile("testdata/ercot_spp.json")
	if err != nil {
		t.Fatal(err)
	}
	logins := &atomic.Int32{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "password" || r.Form.Get("username") != "ops@site" || r.Form.Get("client_id") != ERCOTClientID {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		logins.Add(1)
		w.Write([]byte(`{"access_token":"a","id_token":"idtok-1","token_type":"Bearer","expires_in":"3600"}`))
	})
	mux.HandleFunc("GET /api/public-reports/np6-905-cd/spp_node_zone_hub", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Ocp-Apim-Subscription-Key") != "key-1" {
			http.Error(w, `{"statusCode":401,"message":"Access denied due to missing subscription key."}`, 401)
			return
		}
		if r.Header.Get("Authorization") != "Bearer idtok-1" {
			http.Error(w, `{"statusCode":401,"message":"Invalid token"}`, 401)
			return
		}
		if q := r.URL.Query(); q.Get("settlementPoint") != "HB_HUBAVG" || q.Get("deliveryDateTo") != "2025-07-14" || q.Get("deliveryDateFrom") != "2025-07-13" {
			http.Error(w, "bad query "+r.URL.RawQuery, 400)
			return
		}
		if fail.Load() {
			http.Error(w, "upstream timeout", http.StatusGatewayTimeout)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, logins
}

func TestERCOT(t *testing.T) {
	var fail atomic.Bool
	srv, logins := fakeERCOT(t, &fail)
	e := &ERCOT{Label: "ercot", BaseURL: srv.URL + "/api/public-reports", SubscriptionKey: "key-1", SettlementPoint: "HB_HUBAVG",
		Tokens: &ERCOTLogin{URL: srv.URL + "/token", Username: "ops@site", Password: "pw"}}
	now := time.Date(2025, 7, 14, 21, 5, 0, 0, time.UTC) // 16:05 CDT
	if err := e.Poll(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	r, err := e.Latest(now)
	// HE16 interval 3 = 15:30–15:45 CDT = 20:30 UTC.
	if err != nil || r.Value != 412.57 || !r.At.Equal(time.Date(2025, 7, 14, 20, 30, 0, 0, time.UTC)) {
		t.Fatalf("latest = %+v, %v; want 412.57 at 20:30Z", r, err)
	}
	set := Set{Price: e, Hashprice: Constant{Label: "hp", Value: 0.05}, PriceMaxAge: 45 * time.Minute, FailSafeMode: Hold}
	if v := set.Evaluate(now); v.Active {
		t.Fatalf("fresh verdict = %+v", v)
	}
	// The feed dies: the last value is kept, ages and goes stale.
	fail.Store(true)
	later := now.Add(40 * time.Minute)
	if err := set.Poll(context.Background(), later); err == nil || !strings.Contains(err.Error(), "504") {
		t.Fatalf("poll of failing API err = %v, want 504", err)
	}
	v := set.Evaluate(later)
	if !v.Active || v.Mode != Hold || v.Sources[0].Err == "" || v.Sources[0].Value != 412.57 {
		t.Fatalf("dead feed verdict = %+v, want active hold with the error shown", v)
	}
	if logins.Load() != 1 {
		t.Errorf("logins = %d, want 1 (token cached)", logins.Load())
	}
	bad := &ERCOT{Label: "ercot", BaseURL: srv.URL + "/api/public-reports", SubscriptionKey: "wrong", SettlementPoint: "HB_HUBAVG", Tokens: StaticToken("idtok-1")}
	if err := bad.Poll(context.Background(), now); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "subscription key") {
		t.Fatalf("wrong key err = %v", err)
	}
	if _, err := bad.Latest(now); !errors.Is(err, ErrNoData) {
		t.Fatalf("latest after failed first poll err = %v", err)
	}
}

func TestIntervalStartDST(t *testing.T) {
	cases := []struct {
		date       string
		hour, intv int
		dst        bool
		want       string
	}{
		{"2025-07-14", 1, 1, false, "2025-07-14T05:00:00Z"},
		{"2025-07-14", 24, 4, false, "2025-07-15T04:45:00Z"},
		{"2025-11-02", 2, 1, false, "2025-11-02T06:00:00Z"}, // first 01:00 (CDT)
		{"2025-11-02", 2, 1, true, "2025-11-02T07:00:00Z"},  // repeated 01:00 (CST)
		{"2025-03-09", 4, 1, false, "2025-03-09T08:00:00Z"}, // 03:00 CDT after the spring gap
	}
	for _, c := range cases {
		got, err := intervalStart(c.date, c.hour, c.intv, c.dst)
		if err != nil || got.UTC().Format(time.RFC3339) != c.want {
			t.Errorf("intervalStart(%s, %d, %d, %v) = %s, %v; want %s", c.date, c.hour, c.intv, c.dst, got.UTC().Format(time.RFC3339), err, c.want)
		}
	}
	if _, err := intervalStart("2025-07-14", 25, 1, false); err == nil {
		t.Error("hour 25 accepted")
	}
}

func TestParseERCOTSPPBad(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{`, "ercot response"},
		{`{"fields":[{"name":"deliveryDate"}],"data":[]}`, `field "deliveryHour" missing`},
		{`{"fields":[{"name":"deliveryDate"},{"name":"deliveryHour"},{"name":"deliveryInterval"},{"name":"settlementPoint"},{"name":"settlementPointPrice"}],"data":[["2025-07-14","x",1,"HB_HUBAVG",1]]}`, "data row 0 field deliveryHour"},
		{`{"fields":[{"name":"deliveryDate"},{"name":"deliveryHour"},{"name":"deliveryInterval"},{"name":"settlementPoint"},{"name":"settlementPointPrice"}],"data":[["2025-07-14",1,1,"HB_NORTH",1]]}`, "no rows for settlement point HB_HUBAVG"},
		{`{"fields":[{"name":"deliveryDate"},{"name":"deliveryHour"},{"name":"deliveryInterval"},{"name":"settlementPoint"},{"name":"settlementPointPrice"}],"data":[["HB_HUBAVG"]]}`, "data row 0"},
	}
	for _, c := range cases {
		if _, err := ParseERCOTSPP([]byte(c.body), "HB_HUBAVG"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseERCOTSPP(%s) err = %v, want %q", c.body, err, c.want)
		}
	}
}

func FuzzParseERCOTSPP(f *testing.F) {
	b, _ := os.ReadFile("testdata/ercot_spp.json")
	f.Add(b)
	f.Add([]byte(`{"fields":[{"name":"settlementPoint"}],"data":[[]]}`))
	f.Add([]byte(`{"fields":[{"name":"deliveryDate"},{"name":"deliveryHour"},{"name":"deliveryInterval"},{"name":"settlementPoint"},{"name":"settlementPointPrice"},{"name":"DSTFlag"}],"data":[["2025-11-02",2,1,"HB_HUBAVG",1e400,"Y"]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseERCOTSPP(body, "HB_HUBAVG")
		if err == nil && r.At.IsZero() {
			t.Fatal("reading without a time")
		}
	})
}

func TestOpenPriceReplay(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/prices.csv"
	csv := "timestamp,price\n2025-07-14T00:00:00Z,20.5\n2025-07-14T00:15:00Z,-3\n2025-07-14T00:30:00Z,950\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenPriceReplay(path, market.PriceOptions{}, origin, 900, false) // 15 min per wall second
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{20.5, -3, 950} {
		got, err := r.Latest(origin.Add(time.Duration(i) * time.Second))
		if err != nil || got.Value != want {
			t.Errorf("second %d: %v, %v; want %v", i, got.Value, err, want)
		}
	}
	bad := dir + "/bad.csv"
	os.WriteFile(bad, []byte("timestamp,price\n2025-07-14T00:00:00Z,cheap\n"), 0o644)
	if _, err := OpenPriceReplay(bad, market.PriceOptions{}, origin, 1, false); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad file err = %v, want it to name line 2", err)
	}
	if _, err := OpenHashpriceReplay(dir+"/missing.csv", 0, origin, 1, false); err == nil {
		t.Error("missing BTC file accepted")
	}
}
