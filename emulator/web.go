package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

type nodeKey struct{}

func nodeOf(r *http.Request) *node { return r.Context().Value(nodeKey{}).(*node) }

// serveHTTP routes a web request to its miner (by the address it was made
// to) and that miner's firmware: the stock Antminer CGI interface or the
// Braiins OS+ REST API.
func (f *Fleet) serveHTTP(w http.ResponseWriter, r *http.Request) {
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	n := f.nodeFor(la)
	if n == nil || !n.serves(svcHTTP) {
		http.NotFound(w, r)
		return
	}
	if !f.gateHTTP(n, w) {
		return
	}
	n.requests.Add(1)
	r = r.WithContext(context.WithValue(r.Context(), nodeKey{}, n))
	if n.info.Firmware == Braiins {
		f.restMux().ServeHTTP(w, r)
		return
	}
	f.cgiMux().ServeHTTP(w, r)
}

// gateHTTP applies the miner's power and network state like gate does for
// raw TCP, hijacking the connection to reset, drop, stall or cut it. A cut
// HTTP reply is a status line and headers promising a body that never
// arrives.
func (f *Fleet) gateHTTP(n *node, w http.ResponseWriter) bool {
	up, stall, cond := n.netState(false)
	if up && !stall {
		return f.apply(nil, up, stall, cond) == vServe
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	defer c.Close()
	if f.apply(c, up, stall, cond) == vCut {
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 512\r\n\r\n{\"STATUS\":"
		_ = c.SetWriteDeadline(time.Now().Add(connTimeout))
		_, _ = c.Write(n.cutReply([]byte(head), len(head)+1))
	}
	return false
}

// writeJSON writes v as a JSON reply.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads a small request body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRequest {
		return nil, errors.New("body too large")
	}
	return b, nil
}

// cgiMux is the stock Antminer web interface.
func (f *Fleet) cgiMux() *http.ServeMux {
	f.muxOnce.Do(f.buildMuxes)
	return f.cgi
}

func (f *Fleet) restMux() *http.ServeMux {
	f.muxOnce.Do(f.buildMuxes)
	return f.rest
}

func (f *Fleet) buildMuxes() {
	f.cgi = http.NewServeMux()
	f.cgi.HandleFunc("/cgi-bin/get_miner_conf.cgi", digestOnly(cgiGetConf))
	f.cgi.HandleFunc("/cgi-bin/set_miner_conf.cgi", digestOnly(cgiSetConf))
	f.cgi.HandleFunc("/cgi-bin/reboot.cgi", digestOnly(cgiReboot))
	f.cgi.HandleFunc("/cgi-bin/blink.cgi", digestOnly(cgiBlink))
	f.cgi.HandleFunc("/cgi-bin/get_system_info.cgi", digestOnly(cgiSystemInfo))
	f.cgi.HandleFunc("/cgi-bin/summary.cgi", digestOnly(cgiSummary))

	f.rest = http.NewServeMux()
	f.rest.HandleFunc("POST /api/v1/auth/login", restLogin)
	f.rest.HandleFunc("GET /api/v1/performance/power-target", bearer(restGetTarget))
	f.rest.HandleFunc("PUT /api/v1/performance/power-target", bearer(restSetTarget))
	f.rest.HandleFunc("PUT /api/v1/actions/pause", bearer(restAction(CmdSleep)))
	f.rest.HandleFunc("PUT /api/v1/actions/resume", bearer(restAction(CmdWake)))
	f.rest.HandleFunc("PUT /api/v1/actions/reboot", bearer(restAction(CmdReboot)))
	f.rest.HandleFunc("PUT /api/v1/actions/locate", bearer(restLocate))
	f.rest.HandleFunc("GET /api/v1/miner/details", bearer(restDetails))
	f.rest.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, restError{Code: 5, Message: "Not found: " + r.URL.Path})
	})
}

// digestOnly wraps a CGI handler with Digest authentication.
func digestOnly(h func(w http.ResponseWriter, r *http.Request, n *node)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := nodeOf(r)
		n.mu.Lock()
		err := n.verifyDigest(r.Header.Get("Authorization"), r.Method, r.RequestURI, n.info.Password)
		if err != nil {
			w.Header().Set("WWW-Authenticate", n.challenge(errors.Is(err, errStaleNonce) && r.Header.Get("Authorization") != ""))
			n.mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "<html><head><title>401 Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>\n")
			return
		}
		n.mu.Unlock()
		h(w, r, n)
	}
}

type cgiPool struct {
	URL  string `json:"url"`
	User string `json:"user"`
	Pass string `json:"pass"`
}

func cgiGetConf(w http.ResponseWriter, r *http.Request, n *node) {
	n.mu.Lock()
	t := n.tel()
	spec := n.m.Spec()
	n.mu.Unlock()
	pools := make([]cgiPool, n.pools)
	for i := range pools {
		pools[i] = cgiPool{URL: "stratum+tcp://stratum" + strconv.Itoa(i+1) + ".pool.invalid:3333", User: "joule." + n.info.Name, Pass: "x"}
	}
	// Key order and string-typed numbers as the stock firmware writes them.
	var b jw
	b.open('{')
	pj, _ := json.Marshal(pools)
	b.raw("pools", string(pj)).
		bool("api-listen", true).bool("api-network", true).
		str("api-groups", "A:stats:pools:devs:summary:version").str("api-allow", "A:0/0,W:*").
		bool("bitmain-fan-ctrl", false).str("bitmain-fan-pwm", "100").bool("bitmain-use-vil", true).
		str("bitmain-freq", strconv.Itoa(int(spec.FreqMHz))).
		str("bitmain-voltage", strconv.Itoa(int(spec.VoltV*100))).
		str("bitmain-ccdelay", "0").str("bitmain-pwth", "0").
		str("bitmain-work-mode", strconv.Itoa(int(t.Mode))).
		int("miner-mode", int64(t.Mode)).str("freq-level", "100").close('}')
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.b)
}

type cgiResult struct {
	Stats string `json:"stats"`
	Code  string `json:"code"`
	Msg   string `json:"msg"`
}

func cgiSetConf(w http.ResponseWriter, r *http.Request, n *node) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, cgiResult{"error", "M001", "POST required"})
		return
	}
	body, err := readBody(r)
	var conf map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(body, &conf)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, cgiResult{"error", "M001", "Invalid JSON"})
		return
	}
	raw, has := conf["miner-mode"]
	if !has {
		writeJSON(w, http.StatusOK, cgiResult{"success", "M000", "OK!"})
		return
	}
	mode, ok := parseMode(raw)
	if !ok {
		writeJSON(w, http.StatusBadRequest, cgiResult{"error", "M001", "Invalid miner-mode: " + string(raw)})
		return
	}
	n.mu.Lock()
	changed := n.m.SetMode(mode)
	kind := CmdWake
	switch mode {
	case 1:
		kind = CmdSleep
	case 3:
		kind = CmdProfile
	}
	n.record(Command{Kind: kind, Protocol: "http", Wire: "set_miner_conf.cgi", Param: "miner-mode=" + strconv.Itoa(int(mode)), Changed: changed})
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, cgiResult{"success", "M000", "OK!"})
}

// parseMode reads miner-mode as a number or a numeric string (both occur).
func parseMode(raw json.RawMessage) (physics.Mode, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	v, err := strconv.Atoi(s)
	if err != nil || (v != 0 && v != 1 && v != 3) {
		return 0, false
	}
	return physics.Mode(v), true
}

func cgiReboot(w http.ResponseWriter, r *http.Request, n *node) {
	n.mu.Lock()
	changed := n.m.Reboot()
	n.record(Command{Kind: CmdReboot, Protocol: "http", Wire: "reboot.cgi", Changed: changed})
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, cgiResult{"success", "R000", "OK!"})
}

func cgiBlink(w http.ResponseWriter, r *http.Request, n *node) {
	body, err := readBody(r)
	var req struct {
		Blink *bool `json:"blink"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Blink == nil {
		writeJSON(w, http.StatusBadRequest, cgiResult{"error", "B001", `want {"blink":true|false}`})
		return
	}
	n.mu.Lock()
	changed := n.m.SetLED(*req.Blink)
	n.record(Command{Kind: CmdBlink, Protocol: "http", Wire: "blink.cgi", Param: "blink=" + strconv.FormatBool(*req.Blink), Changed: changed})
	n.mu.Unlock()
	code := "B100"
	if *req.Blink {
		code = "B000"
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": code})
}

func cgiSystemInfo(w http.ResponseWriter, r *http.Request, n *node) {
	writeJSON(w, http.StatusOK, map[string]string{
		"minertype": n.info.Model, "nettype": "DHCP", "netdevice": "eth0",
		"macaddr": strings.ToUpper(n.info.MAC), "hostname": "Antminer",
		"ipaddress": n.info.Addr.String(), "netmask": "255.255.0.0", "gateway": "", "dnsservers": "",
		"system_mode": "GNU/Linux", "system_kernel_version": "Linux 4.9.113 #1 SMP PREEMPT",
		"system_filesystem_version": "Thu Jul 13 17:55:01 CST 2023", "firmware_version": "2023-07-13",
		"firmware_type": "Release", "serinum": n.info.Serial,
	})
}

func cgiSummary(w http.ResponseWriter, r *http.Request, n *node) {
	n.mu.Lock()
	t := n.tel()
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"STATUS": map[string]any{"STATUS": "S", "when": n.f.cfg.Epoch.Unix() + int64(t.T), "Msg": "summary", "api_version": "1.0.0"},
		"INFO":   map[string]string{"miner_version": "uart_trans.1.3", "CompileTime": "Thu Jul 13 17:55:01 CST 2023", "type": n.info.Model},
		"SUMMARY": []map[string]any{{
			"elapsed": int64(t.Uptime), "rate_5s": round2(t.HashGH), "rate_avg": round2(t.HashAvgGH),
			"rate_ideal": round2(t.IdealGH), "rate_unit": "GH/s", "hw_all": int64(t.HWErrors),
		}},
	})
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
