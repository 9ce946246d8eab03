package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/api/apitest"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/internal/testenv"
	"github.com/jouleworks/joule/web"
)

const viewerTok = "viewer-0123456789abcdef0123456789abcdef"

// site serves the dashboard and the API on one loopback server, backed by
// the api fake's example site.
func site(t *testing.T, modify ...func(*apitest.Example)) *httptest.Server {
	t.Helper()
	ex := apitest.NewExample(time.Now().UTC().Truncate(time.Minute))
	for _, m := range modify {
		m(ex)
	}
	s, err := api.New(api.Config{Site: ex.Site, History: ex.Hist, Tokens: []api.Token{{Name: "vera", Secret: viewerTok, Role: api.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.Handler())
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestStaticFiles(t *testing.T) {
	srv := site(t)
	cases := []struct {
		path, ctype, want string
	}{
		{"/", "text/html", `<svg id="power-chart"`},
		{"/app.js", "javascript", "function drawPower"},
		{"/style.css", "text/css", "--mining"},
	}
	for _, c := range cases {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(b), c.want) {
			t.Errorf("GET %s: %d %s, want 200 %s containing %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype, c.want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", c.path, csp)
		}
		// Nothing may load from another origin.
		for _, bad := range []string{"http://", "https://", "//cdn"} {
			if c.path != "/app.js" && strings.Contains(string(b), bad) {
				t.Errorf("%s references %q", c.path, bad)
			}
		}
	}
	resp, _ := http.Post(srv.URL+"/", "text/plain", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

// TestDashboardRenders loads the dashboard in headless Chromium and checks
// that the power chart drew its series and the fleet table has rows. Set
// JOULE_SCREENSHOT=/path.png to keep a screenshot.
func TestDashboardRenders(t *testing.T) {
	chromium := testenv.Tool(t, "chromium", "chromium-browser")
	// The controller's clock runs apart from the browser's (the demo replays
	// a market scenario in simulated time): the status line must show it.
	simNow := time.Date(2025, 7, 14, 20, 3, 7, 0, time.UTC)
	srv := site(t, func(ex *apitest.Example) {
		inner := ex.Site.SnapshotFunc
		ex.Site.SnapshotFunc = func(c context.Context) (api.Snapshot, error) {
			s, err := inner(c)
			s.Time = simNow
			return s, err
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1100),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	var mu sync.Mutex
	var jsErrors []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			jsErrors = append(jsErrors, msg)
			mu.Unlock()
		}
	}))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#token="+viewerTok)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#power-chart path.series").length >= 3 && document.querySelectorAll("#fleet tbody tr").length > 0`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("dashboard did not render: %v (js errors: %v)", err, jsErrors)
	}
	type result struct {
		Series    int    `json:"series"`
		Fleet     int    `json:"fleet"`
		Decisions int    `json:"decisions"`
		Mining    string `json:"mining"`
		Cap       string `json:"cap"`
		Updated   string `json:"updated"`
		Price     string `json:"price"`
		Health    string `json:"health"`
		HealthTip string `json:"healthTip"`
		Alarm     int    `json:"alarm"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[result](`({
		series: document.querySelectorAll("#power-chart path.series").length,
		fleet: document.querySelectorAll("#fleet tbody tr").length,
		decisions: document.querySelectorAll("#decisions > li").length,
		mining: document.querySelector("#power-chart path.series.mining").getAttribute("d"),
		cap: (document.querySelector("#power-chart path.cap") || {getAttribute: () => ""}).getAttribute("d"),
		updated: document.getElementById("updated").textContent,
		price: document.getElementById("k-price").textContent,
		health: document.querySelectorAll("#fleet tbody tr")[3].querySelector("td.health-cell").textContent,
		healthTip: document.querySelectorAll("#fleet tbody tr")[3].querySelector("td.health-cell").getAttribute("title"),
		alarm: document.querySelectorAll("#fleet td.health-cell .risk.alarm").length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Series != 3 || strings.Count(got.Mining, "L") < 100 || got.Cap == "" {
		t.Errorf("power chart: %d series, mining path with %d segments, cap %q; want 3 series over the 6 h window and a cap line",
			got.Series, strings.Count(got.Mining, "L"), got.Cap)
	}
	if got.Fleet != 20 || got.Decisions == 0 {
		t.Errorf("fleet rows = %d (want 20), decisions = %d", got.Fleet, got.Decisions)
	}
	if got.Updated != "updated 20:03:07 UTC" || got.Price != "87.40" {
		t.Errorf("status line %q, price %q; want \"updated 20:03:07 UTC\" (the controller's clock) and 87.40", got.Updated, got.Price)
	}
	if got.Health != "warning fan wear 87% · ~5 h" || !strings.Contains(got.HealthTip, "fan 2 runs 10.9 % below") || got.Alarm != 1 {
		t.Errorf("health cell %q (tooltip %q), %d alarms; want the fan-wear risk with its reason, one alarm", got.Health, got.HealthTip, got.Alarm)
	}
	if p := os.Getenv("JOULE_SCREENSHOT"); p != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Errorf("JavaScript errors: %v", jsErrors)
	}
}

// browser starts headless Chromium with the flags CI uses.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromium := testenv.Tool(t, "chromium", "chromium-browser")
	actx, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDashboardAsksForToken checks that without a token the page shows the
// login form rather than failing silently.
func TestDashboardAsksForToken(t *testing.T) {
	ctx := browser(t)
	srv := site(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("login").hidden`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("login form never shown: %v", err)
	}
}

// TestDashboardShowsFailSafe checks that a stale price feed is shown as a
// banner and a marked source row.
func TestDashboardShowsFailSafe(t *testing.T) {
	ctx := browser(t)
	srv := site(t, func(ex *apitest.Example) {
		inner := ex.Site.SnapshotFunc
		ex.Site.SnapshotFunc = func(c context.Context) (api.Snapshot, error) {
			s, err := inner(c)
			s.Feeds = feed.Evaluate(feed.Curtail, s.Time,
				feed.State{Name: "ercot HB_HUBAVG", Role: "price", MaxAge: 30 * time.Minute, Have: true, Reading: feed.Reading{Value: 87.4, At: s.Time.Add(-50 * time.Minute)}, Err: "GET np6-905-cd: 504 Gateway Timeout"})
			return s, err
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#token="+viewerTok)); err != nil {
		t.Fatal(err)
	}
	banner, err := chromedp.Run(ctx, chromedp.Poll[string](`!document.getElementById("banner").hidden && document.getElementById("banner").textContent`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("fail-safe banner never shown: %v", err)
	}
	if !strings.Contains(banner, "Fail-safe active (curtail)") || !strings.Contains(banner, "50m0s old") {
		t.Errorf("banner = %q", banner)
	}
	stale, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sources tr.stale").length`))
	if err != nil || stale != 1 {
		t.Errorf("stale source rows = %d, %v; want 1", stale, err)
	}
}
