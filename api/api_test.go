package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/api/apitest"
	"github.com/jouleworks/joule/internal/testenv"
)

var now = time.Date(2025, 7, 14, 20, 0, 0, 0, time.UTC)

const (
	viewerTok   = "viewer-0123456789abcdef0123456789abcdef"
	operatorTok = "operator-0123456789abcdef0123456789abcdef"
	adminTok    = "admin-0123456789abcdef0123456789abcdef"
)

func newServer(t *testing.T, public api.Role) (*httptest.Server, *apitest.Example) {
	t.Helper()
	ex := apitest.NewExample(now)
	s, err := api.New(api.Config{Site: ex.Site, History: ex.Hist, Public: public, Now: func() time.Time { return now }, MutationsPerMinute: -1,
		Tokens: []api.Token{{Name: "vera", Secret: viewerTok, Role: api.Viewer}, {Name: "otto", Secret: operatorTok, Role: api.Operator}, {Name: "ada", Secret: adminTok, Role: api.Admin}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, ex
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var authCases = []struct {
	name, method, path, token, body string
	status                          int
	wwwAuth                         string
}{
	{"no token", "GET", "/api/v1/status", "", "", 401, `Bearer realm="joule"`},
	{"unknown token", "GET", "/api/v1/status", "nope", "", 401, `error="invalid_token"`},
	{"prefix of a token", "GET", "/api/v1/status", viewerTok[:20], "", 401, `error="invalid_token"`},
	{"viewer reads", "GET", "/api/v1/status", viewerTok, "", 200, ""},
	{"viewer metrics", "GET", "/metrics", viewerTok, "", 200, ""},
	{"viewer curtails", "POST", "/api/v1/curtail", viewerTok, `{"mw":5,"within_s":600}`, 403, `error="insufficient_scope"`},
	{"operator curtails", "POST", "/api/v1/curtail", operatorTok, `{"mw":5,"within_s":600}`, 202, ""},
	{"operator sets price", "POST", "/api/v1/price/manual", operatorTok, `{"price_usd_mwh":55}`, 200, ""},
	{"operator overrides", "POST", "/api/v1/mode/override", operatorTok, `{"mode":"curtail","reason":"x"}`, 403, `insufficient_scope`},
	{"admin overrides", "POST", "/api/v1/mode/override", adminTok, `{"mode":"curtail","for_s":3600,"reason":"storm"}`, 200, ""},
	{"no token on mutation", "POST", "/api/v1/curtail", "", `{"mw":5,"within_s":600}`, 401, `Bearer realm="joule"`},
	{"healthz is open", "GET", "/healthz", "", "", 200, ""},
	{"wrong method", "DELETE", "/api/v1/status", adminTok, "", 405, ""},
	{"unknown endpoint", "GET", "/api/v1/nope", adminTok, "", 404, ""},
}

func TestAuth(t *testing.T) {
	srv, _ := newServer(t, api.RoleNone)
	for _, c := range authCases {
		resp, body := do(t, srv, c.method, c.path, c.token, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d (%s), want %d", c.name, resp.StatusCode, body, c.status)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, c.wwwAuth) || (c.wwwAuth == "" && got != "") {
			t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, got, c.wwwAuth)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Basic dXNlcjpwdw==")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_request") {
		t.Errorf("basic auth: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestPublicViewer(t *testing.T) {
	srv, _ := newServer(t, api.Viewer)
	if resp, _ := do(t, srv, "GET", "/api/v1/miners", "", ""); resp.StatusCode != 200 {
		t.Fatalf("public read: %d", resp.StatusCode)
	}
	if resp, _ := do(t, srv, "POST", "/api/v1/curtail", "", `{"mw":5,"within_s":60}`); resp.StatusCode != 401 {
		t.Fatalf("public mutation: %d, want 401", resp.StatusCode)
	}
}

var badBodies = []struct {
	path, body string
	status     int
	want       string
}{
	{"/api/v1/curtail", `{"mw":"lots","within_s":600}`, 400, `field "mw": want float64, got JSON string`},
	{"/api/v1/curtail", `{"within_s":600}`, 400, `field "mw": required`},
	{"/api/v1/curtail", `{"mw":-3,"within_s":600}`, 400, `field "mw": want > 0`},
	{"/api/v1/curtail", `{"mw":5}`, 400, `field "deadline": required`},
	{"/api/v1/curtail", `{"mw":5,"within_s":600,"deadline":"2025-07-14T20:10:00Z"}`, 400, `field "within_s": give deadline or within_s, not both`},
	{"/api/v1/curtail", `{"mw":5,"deadline":"2025-07-14T19:00:00Z"}`, 400, `field "deadline": want a time within the next 24 h`},
	{"/api/v1/curtail", `{"mw":5,"deadline":"tomorrow"}`, 400, `field "deadline": want an RFC 3339 time`},
	{"/api/v1/curtail", `{"mw":5,"within_s":0}`, 400, `field "within_s": want 0 < within_s`},
	{"/api/v1/curtail", `{"mw":5,"within_s":600,"megawatts":5}`, 400, `field "megawatts": unknown field`},
	{"/api/v1/curtail", `{"mw":5,`, 400, `body: truncated JSON`},
	{"/api/v1/curtail", `{"mw":5}}`, 400, `body`},
	{"/api/v1/curtail", `[1,2]`, 400, `want api.CurtailBody`},
	{"/api/v1/curtail", ``, 400, `body: empty`},
	{"/api/v1/curtail", `{"mw":5,"within_s":60,"reason":"` + strings.Repeat("x", 70000) + `"}`, 413, `body larger than 65536 bytes`},
	{"/api/v1/price/manual", `{}`, 400, `field "price_usd_mwh": required`},
	{"/api/v1/price/manual", `{"price_usd_mwh":9000}`, 400, `field "price_usd_mwh": want -250..5000`},
	{"/api/v1/price/manual", `{"hashprice_usd_th_day":-1}`, 400, `field "hashprice_usd_th_day"`},
	{"/api/v1/mode/override", `{"mode":"turbo","reason":"x"}`, 400, `field "mode": want one of auto, mine, curtail, hold`},
	{"/api/v1/mode/override", `{"mode":"mine"}`, 400, `field "reason": required`},
	{"/api/v1/mode/override", `{"mode":"mine","for_s":60,"until":"2025-07-15T00:00:00Z","reason":"x"}`, 400, `field "for_s"`},
	{"/api/v1/mode/override", `{"mode":"mine","until":"2025-07-13T00:00:00Z","reason":"x"}`, 400, `field "until": 2025-07-13T00:00:00Z is in the past`},
}

func TestBadBodies(t *testing.T) {
	srv, ex := newServer(t, api.RoleNone)
	for _, c := range badBodies {
		resp, body := do(t, srv, "POST", c.path, adminTok, c.body)
		var e struct{ Error string }
		json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != c.status || !strings.Contains(e.Error, c.want) {
			b := c.body
			if len(b) > 60 {
				b = b[:60]
			}
			t.Errorf("POST %s %s: %d %q, want %d containing %q", c.path, b, resp.StatusCode, e.Error, c.status, c.want)
		}
	}
	if len(ex.Calls) != 0 {
		t.Fatalf("bad requests reached the site: %+v", ex.Calls)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/curtail", strings.NewReader(`mw=5`))
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d, want 415", resp.StatusCode)
	}
}

func TestCurtailAndEvent(t *testing.T) {
	srv, ex := newServer(t, api.RoleNone)
	resp, body := do(t, srv, "POST", "/api/v1/curtail", operatorTok, `{"mw":12.5,"within_s":600,"reason":"ERS-10 deployment"}`)
	if resp.StatusCode != 202 {
		t.Fatalf("curtail: %d %s", resp.StatusCode, body)
	}
	var cr api.CurtailResponse
	json.Unmarshal([]byte(body), &cr)
	if cr.ID != 1 || !cr.Deadline.Equal(now.Add(10*time.Minute)) || resp.Header.Get("Location") != "/api/v1/events/1" {
		t.Fatalf("curtail response %+v, Location %q", cr, resp.Header.Get("Location"))
	}
	req := ex.Calls[0].(api.CurtailRequest)
	if req.Actor != "api:otto" || req.MW != 12.5 || req.Reason != "ERS-10 deployment" {
		t.Fatalf("site got %+v", req)
	}
	resp, body = do(t, srv, "GET", cr.StatusURL, viewerTok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"requested_mw": 12.5`) {
		t.Fatalf("event: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, srv, "GET", "/api/v1/events/99", viewerTok, ""); resp.StatusCode != 404 {
		t.Fatalf("missing event: %d", resp.StatusCode)
	}
	if resp, body := do(t, srv, "GET", "/api/v1/events/abc", viewerTok, ""); resp.StatusCode != 400 || !strings.Contains(body, "positive integer") {
		t.Fatalf("bad event id: %d %s", resp.StatusCode, body)
	}
}

func TestReads(t *testing.T) {
	srv, _ := newServer(t, api.RoleNone)
	cases := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/v1/status", 200, `"cap_mw": 100`},
		{"/api/v1/miners", 200, `"count": 20`},
		{"/api/v1/miners?health=offline", 200, `"count": 1`},
		{"/api/v1/decisions?limit=2", 200, `"policy": "joule"`},
		{"/api/v1/decisions?limit=0", 400, "query parameter limit"},
		{"/api/v1/decisions?since=yesterday", 400, "query parameter since"},
		{"/api/v1/audit", 200, `"actor": "controller"`},
		{"/api/v1/telemetry?metrics=mining_mw,price&window=1h", 200, `"metric": "price"`},
		{"/api/v1/telemetry?metrics=bogus", 400, `bogus`},
		{"/api/v1/telemetry", 400, "query parameter metrics: required"},
		{"/api/v1/telemetry?metrics=price&res=5m", 400, "resolution"},
		{"/api/v1/telemetry?metrics=price&window=-1h", 400, "query parameter window"},
	}
	for _, c := range cases {
		resp, body := do(t, srv, "GET", c.path, viewerTok, "")
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d, want %d containing %q; body %.200s", c.path, resp.StatusCode, c.status, c.want, body)
		}
	}
	_, body := do(t, srv, "GET", "/api/v1/telemetry?metrics=mining_mw&window=1h", viewerTok, "")
	var tr api.TelemetryResponse
	json.Unmarshal([]byte(body), &tr)
	if len(tr.Series) != 1 || len(tr.Series[0].Points) != 60 {
		t.Fatalf("1h of 1m points: %+v", tr)
	}
}

func TestNewRejectsBadTokens(t *testing.T) {
	ex := apitest.NewExample(now)
	cases := [][]api.Token{
		{{Name: "a", Secret: "short", Role: api.Viewer}},
		{{Name: "", Secret: viewerTok, Role: api.Viewer}},
		{{Name: "a", Secret: viewerTok, Role: api.Viewer}, {Name: "a", Secret: adminTok, Role: api.Admin}},
		{{Name: "a", Secret: viewerTok, Role: api.RoleNone}},
	}
	for _, toks := range cases {
		if _, err := api.New(api.Config{Site: ex.Site, History: ex.Hist, Tokens: toks}); err == nil {
			t.Errorf("New accepted tokens %+v", toks)
		}
	}
	if _, err := api.ParseRole("root"); err == nil {
		t.Error("ParseRole(root) accepted")
	}
}

func TestMetricsPassPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	srv, _ := newServer(t, api.RoleNone)
	do(t, srv, "GET", "/api/v1/status", viewerTok, "") // a request so the API counter has a series
	resp, body := do(t, srv, "GET", "/metrics", viewerTok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`joule_site_power_watts{workload="mining"} 6.18e+07`,
		`joule_site_power_watts{workload="curtailed"} 2.81e+07`,
		`joule_hashrate_hashes_per_second 3.31e+18`,
		`joule_price_usd_per_mwh 87.4`,
		`joule_hashprice_usd_per_th_day 0.0491`,
		`joule_profit_usd_per_hour`,
		`joule_miners{state="sleeping"} 5`,
		`joule_reconciler_backlog 4`,
		`joule_commands_total{outcome="failed"} 1`,
		`joule_alert_active{alert="fan_degraded",severity="warning"} 1`,
		`joule_failsafe_active{mode="hold"} 0`,
		`joule_feed_age_seconds{role="price",source="ercot HB_HUBAVG"} 420`,
		`joule_api_requests_total{code="200",route="GET /api/v1/status"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

func TestMutationRateLimit(t *testing.T) {
	ex := apitest.NewExample(now)
	var clock atomic.Int64 // ns since now; the server reads it on another goroutine
	s, err := api.New(api.Config{Site: ex.Site, History: ex.Hist, Now: func() time.Time { return now.Add(time.Duration(clock.Load())) }, MutationsPerMinute: 3,
		Tokens: []api.Token{{Name: "otto", Secret: operatorTok, Role: api.Operator}, {Name: "ada", Secret: adminTok, Role: api.Admin}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for i := range 3 {
		if resp, body := do(t, srv, "POST", "/api/v1/price/manual", operatorTok, `{"price_usd_mwh":50}`); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := do(t, srv, "POST", "/api/v1/price/manual", operatorTok, `{"price_usd_mwh":50}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("4th request: %d Retry-After %q %s; want 429 after 20 s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another token has its own bucket; reads are never limited.
	if resp, _ := do(t, srv, "POST", "/api/v1/price/manual", adminTok, `{"price_usd_mwh":50}`); resp.StatusCode != 200 {
		t.Fatalf("other token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, srv, "GET", "/api/v1/status", operatorTok, ""); resp.StatusCode != 200 {
		t.Fatalf("read while limited: %d", resp.StatusCode)
	}
	clock.Store(int64(20 * time.Second))
	if resp, _ := do(t, srv, "POST", "/api/v1/price/manual", operatorTok, `{"price_usd_mwh":50}`); resp.StatusCode != 200 {
		t.Fatalf("after refill: %d", resp.StatusCode)
	}
}

// TestCurtailRetryIsIdempotent: a retried curtail request with the same
// request_id gets the first event back instead of shedding the load again; a
// new id is a new event.
func TestCurtailRetryIsIdempotent(t *testing.T) {
	srv, ex := newServer(t, api.RoleNone)
	body := `{"mw":5,"within_s":600,"request_id":"dr-42"}`
	resp, first := do(t, srv, "POST", "/api/v1/curtail", operatorTok, body)
	if resp.StatusCode != 202 {
		t.Fatalf("first request: %d %s, want 202", resp.StatusCode, first)
	}
	resp, again := do(t, srv, "POST", "/api/v1/curtail", operatorTok, body)
	if resp.StatusCode != 200 {
		t.Fatalf("retry: %d %s, want 200", resp.StatusCode, again)
	}
	var a, b api.CurtailResponse
	if err := json.Unmarshal([]byte(first), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(again), &b); err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !a.Deadline.Equal(b.Deadline) {
		t.Fatalf("retry answered %+v, want the first event %+v", b, a)
	}
	if n := len(ex.Events); n != 1 {
		t.Fatalf("%d events after a retry, want 1", n)
	}
	resp, _ = do(t, srv, "POST", "/api/v1/curtail", operatorTok, `{"mw":5,"within_s":600,"request_id":"dr-43"}`)
	if resp.StatusCode != 202 || len(ex.Events) != 2 {
		t.Fatalf("new request id: %d with %d events, want 202 and 2", resp.StatusCode, len(ex.Events))
	}
	long := strings.Repeat("x", 201)
	if resp, msg := do(t, srv, "POST", "/api/v1/curtail", operatorTok, `{"mw":5,"within_s":600,"request_id":"`+long+`"}`); resp.StatusCode != 400 || !strings.Contains(msg, "request_id") {
		t.Fatalf("over-long request_id: %d %s, want 400 naming request_id", resp.StatusCode, msg)
	}
}
