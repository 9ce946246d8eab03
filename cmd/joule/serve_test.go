package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/internal/testenv"
)

// lockedBuf is a buffer the command's goroutine writes while the test reads.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond (a readiness check on a running server) for up to 30 s
// of wall time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

const serveViewer = "viewer-0123456789abcdef0123456789abcdef"

func TestRunServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A free port, the same on every miner's address: the config names it.
	_, portText, _ := net.SplitHostPort(freeAddr(t))
	var port int
	fmt.Sscan(portText, &port)
	f, err := emulator.NewFleet(emulator.Config{Mix: "s21:luxos=2,s19jpro:luxos=2", Net: netip.AddrFrom4([4]byte{127, 71, 0, 0}), Speed: 10,
		Ports: emulator.Ports{CGMiner: port}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ips := map[string][]string{} // model key → addresses
	for _, m := range f.Miners() {
		if int(m.CGMiner.Port()) != port {
			t.Skipf("emulator fell back to port %d; the config needs %d", m.CGMiner.Port(), port)
		}
		ips[m.ModelKey] = append(ips[m.ModelKey], m.Addr.String())
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`site:
  name: serve-test
  interconnect_mw: 0.05
  tiers:
    - name: s21
      count: 2
      profiles: [{name: stock, ths: 200, w: 3500}]
      sleep_w: 25
    - name: s19jpro
      count: 2
      profiles: [{name: stock, ths: 104, w: 3068}]
      sleep_w: 25
miners:
  - {tier: s21, firmware: luxos, ips: "%s", ports: {cgminer: %d}}
  - {tier: s19jpro, firmware: auto, ips: "%s", ports: {cgminer: %d}}
feeds:
  price: {kind: manual, value: 30, webhook_secret_env: JOULE_TEST_PRICE_HOOK}
  hashprice: {kind: constant, value: 0.05}
store: {sqlite: %s}
api:
  listen: %s
  tokens: [{name: v, role: viewer, secret: %s}]
controller: {interval: 200ms}
`, strings.Join(ips["s21"], ","), port, strings.Join(ips["s19jpro"], ","), port, filepath.Join(dir, "j.db"), addr, serveViewer)
	path := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const hook = "hook-secret-0123456789"
	t.Setenv("JOULE_TEST_PRICE_HOOK", hook)
	var out, errb lockedBuf
	if err := runServe(ctx, []string{"--config", path, "--check"}, &out, &errb); err != nil || !strings.Contains(out.String(), "ok") {
		t.Fatalf("--check: %v %s", err, out.String())
	}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, []string{"--config", path}, &out, &errb) }()
	var snap api.Snapshot
	waitFor(t, "status", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+serveViewer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&snap) == nil
	})
	if snap.MinerStates["hashing"] != 4 || snap.Site != "serve-test" {
		t.Errorf("snapshot %+v", snap)
	}
	// The price webhook: wrong secret refused, right secret sets the price.
	post := func(secret string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/price", strings.NewReader(`{"value": 123.5}`))
		req.Header.Set("X-Joule-Secret", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != 401 {
		t.Errorf("webhook with a wrong secret: HTTP %d, want 401", code)
	}
	if code := post(hook); code != 204 {
		t.Errorf("webhook: HTTP %d, want 204", code)
	}
	waitFor(t, "webhook price in status", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+serveViewer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var s api.Snapshot
		return json.NewDecoder(resp.Body).Decode(&s) == nil && s.PriceUSDMWh == 123.5
	})
	resp, err := http.Get("http://" + addr + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("status without a token: HTTP %d, want 401", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v (stderr %s)", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestRunServeBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("site:\n  name: x\n  interconnect_mw: 1\nminers:\n  - tier: nope\n    ips: 127.0.0.1\n"), 0o600)
	var out, errb lockedBuf
	err := runServe(context.Background(), []string{"--config", path}, &out, &errb)
	if err == nil || !regexp.MustCompile(`bad.yaml:5: miners\[0\].tier`).MatchString(err.Error()) {
		t.Fatalf("err = %v, want the file, line 5 and field miners[0].tier", err)
	}
	if err := runServe(context.Background(), nil, &out, &errb); err == nil {
		t.Fatal("no --config: want an error")
	}
}

// TestRunDemo starts the one-command demo, checks the API and loads the
// dashboard in headless Chromium: the power chart and the fleet table must
// render from the live controller.
func TestRunDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuf
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, []string{"--addr", "127.0.0.1:0", "--speed", "120"}, &out, &errb) }()
	re := regexp.MustCompile(`dashboard:\s+(http://\S+)`)
	var url string
	waitFor(t, "demo URL", func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil || strings.Contains(errb.String(), "demo:")
	})
	if url == "" {
		t.Fatalf("demo failed: %s", errb.String())
	}
	var snap api.Snapshot
	waitFor(t, "status", func() bool {
		resp, err := http.Get(url + "api/v1/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&snap) == nil
	})
	total := 0
	for _, n := range snap.MinerStates {
		total += n
	}
	if total != 200 || snap.GPUs.Total != 32 || snap.PriceUSDMWh == 0 {
		t.Errorf("demo snapshot: %d miners, %d GPUs, price %v", total, snap.GPUs.Total, snap.PriceUSDMWh)
	}
	chrome := testenv.Tool(t, "chromium")
	actx, acancel := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chrome), chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	defer acancel()
	cctx, ccancel := chromedp.NewContext(actx)
	defer ccancel()
	tctx, tcancel := context.WithTimeout(cctx, 60*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.querySelectorAll("#power-chart path").length > 0 && document.querySelectorAll("#fleet tbody tr").length >= 100`,
		chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		t.Fatalf("dashboard did not render the power chart and fleet table: %v", err)
	}
	// Every fleet row's Health cell carries the failure predictor's risk,
	// with its reasoning as the tooltip.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.querySelectorAll("#fleet td.health-cell .risk").length >= 100 &&
		(document.querySelector("#fleet td.health-cell").getAttribute("title") || "").length > 0`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("dashboard fleet table shows no health risk: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not shut down")
	}
}

// A taken port is a clear error, not a crash, for both commands.
func TestServeAndDemoPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errb lockedBuf
	err = runDemo(context.Background(), []string{"--addr", ln.Addr().String()}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("demo on a taken port: %v, want an error suggesting --addr", err)
	}
	dir := t.TempDir()
	cfg := strings.Replace(serveMin, "LISTEN", ln.Addr().String(), 1)
	cfg = strings.Replace(cfg, "DB", filepath.Join(dir, "j.db"), 1)
	path := filepath.Join(dir, "s.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	err = runServe(context.Background(), []string{"--config", path}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "api.listen") {
		t.Errorf("serve on a taken port: %v, want an error naming api.listen", err)
	}
}

const serveMin = `site:
  name: x
  interconnect_mw: 1
  tiers: [{name: a, count: 1, profiles: [{name: stock, ths: 100, w: 3000}], sleep_w: 25}]
miners: [{tier: a, firmware: luxos, ips: 127.0.0.1}]
feeds:
  price: {kind: manual, value: 30}
  hashprice: {kind: constant, value: 0.05}
store: {sqlite: DB}
api: {listen: LISTEN}
`
