package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/jouleworks/joule/emulator/physics"
)

// The Braiins OS+ REST API (/api/v1/): login for a bearer token, then
// power target and actions.

// restTokenTTL is how long a login token lives, simulated seconds.
const restTokenTTL = 3600

type restError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Braiins (gRPC-style) error codes used on the wire.
const (
	restInvalidArgument = 3
	restUnauthenticated = 16
)

func restLogin(w http.ResponseWriter, r *http.Request) {
	n := nodeOf(r)
	body, err := readBody(r)
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, restError{restInvalidArgument, "invalid login request: " + err.Error()})
		return
	}
	if req.Username != "root" || req.Password != n.info.Password {
		writeJSON(w, http.StatusUnauthorized, restError{restUnauthenticated, "Invalid username or password"})
		return
	}
	n.mu.Lock()
	if len(n.bosTokens) >= 64 {
		clear(n.bosTokens)
	}
	tok := randToken(n.rng, 32)
	n.bosTokens[tok] = n.m.Now() + restTokenTTL
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "timeout_s": restTokenTTL})
}

// bearer checks the Authorization: Bearer token (Braiins also accepts the
// bare token in Authorization).
func bearer(h func(w http.ResponseWriter, r *http.Request, n *node)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := nodeOf(r)
		tok := strings.TrimSpace(r.Header.Get("Authorization"))
		tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
		n.mu.Lock()
		exp, ok := n.bosTokens[tok]
		valid := ok && tok != "" && n.m.Now() < exp
		if ok && !valid {
			delete(n.bosTokens, tok)
		}
		n.mu.Unlock()
		if !valid {
			msg := "missing or invalid token"
			if ok {
				msg = "token expired"
			}
			writeJSON(w, http.StatusUnauthorized, restError{restUnauthenticated, msg})
			return
		}
		h(w, r, n)
	}
}

func restGetTarget(w http.ResponseWriter, r *http.Request, n *node) {
	n.mu.Lock()
	t := n.m.PowerTarget()
	if t == 0 {
		t = n.m.Spec().PowerW
	}
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int64{"watt": int64(t + 0.5)})
}

func restSetTarget(w http.ResponseWriter, r *http.Request, n *node) {
	body, err := readBody(r)
	var req struct {
		Watt *int64 `json:"watt"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Watt == nil {
		writeJSON(w, http.StatusBadRequest, restError{restInvalidArgument, `want {"watt":<integer>}`})
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	lo, hi := int64(n.m.SteadyPower(0.3)+1), int64(n.m.SteadyPower(1.2))
	if *req.Watt < lo || *req.Watt > hi {
		msg := "power target " + itoa64(*req.Watt) + " W outside " + itoa64(lo) + "…" + itoa64(hi) + " W"
		n.record(Command{Kind: CmdPowerTarget, Protocol: "rest", Wire: "PUT /api/v1/performance/power-target", Param: itoa64(*req.Watt), Refused: msg})
		writeJSON(w, http.StatusBadRequest, restError{restInvalidArgument, msg})
		return
	}
	changed := n.m.SetPowerTarget(float64(*req.Watt))
	n.record(Command{Kind: CmdPowerTarget, Protocol: "rest", Wire: "PUT /api/v1/performance/power-target", Param: itoa64(*req.Watt), Changed: changed})
	writeJSON(w, http.StatusOK, map[string]int64{"watt": *req.Watt})
}

func restAction(kind CommandKind) func(w http.ResponseWriter, r *http.Request, n *node) {
	return func(w http.ResponseWriter, r *http.Request, n *node) {
		n.mu.Lock()
		var changed bool
		switch kind {
		case CmdSleep:
			changed = n.m.Sleep()
		case CmdWake:
			changed = n.m.Wake()
		case CmdReboot:
			changed = n.m.Reboot()
		}
		n.record(Command{Kind: kind, Protocol: "rest", Wire: r.Method + " " + r.URL.Path, Changed: changed})
		n.mu.Unlock()
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func restLocate(w http.ResponseWriter, r *http.Request, n *node) {
	body, err := readBody(r)
	var req struct {
		Enable *bool `json:"enable"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Enable == nil {
		writeJSON(w, http.StatusBadRequest, restError{restInvalidArgument, `want {"enable":true|false}`})
		return
	}
	n.mu.Lock()
	changed := n.m.SetLED(*req.Enable)
	n.record(Command{Kind: CmdBlink, Protocol: "rest", Wire: "PUT /api/v1/actions/locate", Param: "enable=" + boolStr(*req.Enable), Changed: changed})
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": *req.Enable})
}

func restDetails(w http.ResponseWriter, r *http.Request, n *node) {
	n.mu.Lock()
	t := n.tel()
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"uid": n.info.Serial, "hostname": n.info.Name, "mac_address": n.info.MAC,
		"platform": "Antminer", "miner_identity": map[string]string{"brand": "Antminer", "model": n.info.Model, "name": n.info.Model},
		"bos_version":       map[string]string{"current": bosVersion},
		"bosminer_uptime_s": int64(t.Uptime), "system_uptime_s": int64(t.OSUptime),
		"status": stateName(t.State),
	})
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

func stateName(s physics.State) string { return s.String() }
