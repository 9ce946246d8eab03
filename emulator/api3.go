package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// Whatsminer API v3 on TCP 4433: each direction is a 4-byte little-endian
// length followed by that many bytes of JSON; one request per connection.

// api3Request is a Whatsminer API v3 request.
type api3Request struct {
	Cmd     string          `json:"cmd"`
	Param   json.RawMessage `json:"param,omitempty"`
	TS      json.RawMessage `json:"ts,omitempty"`
	Account string          `json:"account,omitempty"`
	Token   string          `json:"token,omitempty"`
}

// API v3 result codes.
const (
	api3OK           = 0
	api3InvalidCmd   = -1
	api3InvalidParam = -2
	api3TokenError   = -4
)

var errFrame = errors.New("bad frame")

// readFrame reads one length-prefixed frame of at most max bytes.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: length: %v", errFrame, err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0 || int64(n) > int64(max) {
		return nil, fmt.Errorf("%w: length %d outside 1…%d", errFrame, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: body: %v", errFrame, err)
	}
	return b, nil
}

// appendFrame appends payload with its length prefix.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// parseAPI3 decodes a request body.
func parseAPI3(b []byte) (api3Request, error) {
	var req api3Request
	if err := json.Unmarshal(b, &req); err != nil {
		return req, err
	}
	if strings.TrimSpace(req.Cmd) == "" {
		return req, errors.New("missing cmd")
	}
	return req, nil
}

// API3Token computes the Whatsminer API v3 token for a set.* command: the
// first 8 characters of std base64(sha256(cmd + password + salt + ts)).
func API3Token(cmd, password, salt string, ts int64) string {
	h := sha256.Sum256([]byte(cmd + password + salt + strconv.FormatInt(ts, 10)))
	return base64.StdEncoding.EncodeToString(h[:])[:8]
}

func (f *Fleet) serveAPI3(n *node, c net.Conn) {
	v := f.gate(n, c, false)
	if v == vNone {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(connTimeout))
	body, err := readFrame(c, maxRequest)
	if err != nil {
		return
	}
	n.requests.Add(1)
	reply := appendFrame(nil, n.api3Reply(body))
	if v == vCut {
		// The length prefix promises more than arrives.
		reply = n.cutReply(reply, len(reply))
	}
	_ = c.SetWriteDeadline(time.Now().Add(connTimeout))
	_, _ = c.Write(reply)
}

// api3Reply answers one request body.
func (n *node) api3Reply(body []byte) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	when := n.when()
	req, err := parseAPI3(body)
	if err != nil {
		return api3Err(when, api3InvalidCmd, "invalid command: "+err.Error(), "")
	}
	if strings.HasPrefix(req.Cmd, "set.") {
		if msg := n.api3Auth(req); msg != "" {
			n.record(Command{Kind: api3Kind(req.Cmd), Protocol: "api3", Wire: req.Cmd, Param: string(req.Param), Refused: msg})
			return api3Err(when, api3TokenError, msg, req.Cmd)
		}
	}
	switch req.Cmd {
	case "get.device.info":
		return api3OKReply(when, req.Cmd, n.api3DeviceInfo())
	case "get.miner.status":
		var param string
		if json.Unmarshal(req.Param, &param) != nil {
			param = "summary"
		}
		msg := map[string]any{}
		t := n.tel()
		for _, p := range strings.Split(param, ",") {
			switch strings.TrimSpace(p) {
			case "summary":
				msg["summary"] = n.api3Summary(t)
			case "edevs":
				msg["edevs"] = api3Edevs(t)
			case "pools":
				msg["pools"] = n.api3Pools(t)
			default:
				return api3Err(when, api3InvalidParam, "invalid param: "+p, req.Cmd)
			}
		}
		return api3OKReply(when, req.Cmd, msg)
	case "set.miner.service":
		var p string
		_ = json.Unmarshal(req.Param, &p)
		var kind CommandKind
		var changed bool
		switch p {
		case "stop":
			kind, changed = CmdSleep, n.m.Sleep()
		case "start":
			kind, changed = CmdWake, n.m.Wake()
		case "restart":
			kind, changed = CmdReboot, n.m.Restart()
		default:
			return api3Err(when, api3InvalidParam, "invalid param: want start, stop or restart", req.Cmd)
		}
		n.record(Command{Kind: kind, Protocol: "api3", Wire: req.Cmd, Param: p, Changed: changed})
		return api3OKReply(when, req.Cmd, "ok")
	case "set.miner.power_limit":
		w, ok := jsonNumber(req.Param)
		lo, hi := n.m.SteadyPower(0.3)+1, n.m.SteadyPower(1.2)
		if !ok || w < lo || w > hi {
			msg := fmt.Sprintf("invalid param: power limit %s outside %.0f…%.0f W", string(req.Param), lo, hi)
			n.record(Command{Kind: CmdPowerTarget, Protocol: "api3", Wire: req.Cmd, Param: string(req.Param), Refused: msg})
			return api3Err(when, api3InvalidParam, msg, req.Cmd)
		}
		changed := n.m.SetPowerTarget(w)
		n.record(Command{Kind: CmdPowerTarget, Protocol: "api3", Wire: req.Cmd, Param: strconv.Itoa(int(w)), Changed: changed})
		return api3OKReply(when, req.Cmd, "ok")
	case "set.system.reboot":
		changed := n.m.Reboot()
		n.record(Command{Kind: CmdReboot, Protocol: "api3", Wire: req.Cmd, Changed: changed})
		return api3OKReply(when, req.Cmd, "ok")
	case "set.system.led":
		var p string
		if json.Unmarshal(req.Param, &p) != nil {
			// Object form ({"color":"red","period":...}) means blink.
			p = "blink"
		}
		changed := n.m.SetLED(p != "auto")
		n.record(Command{Kind: CmdBlink, Protocol: "api3", Wire: req.Cmd, Param: p, Changed: changed})
		return api3OKReply(when, req.Cmd, "ok")
	}
	return api3Err(when, api3InvalidCmd, "invalid command", req.Cmd)
}

func api3Kind(cmd string) CommandKind {
	switch cmd {
	case "set.miner.power_limit":
		return CmdPowerTarget
	case "set.system.reboot":
		return CmdReboot
	case "set.system.led":
		return CmdBlink
	}
	return CmdWake
}

// api3Auth checks account, ts and token of a set.* request; "" means ok.
// ts is not compared with the clock: clients send wall time while the
// emulator runs on simulated time.
func (n *node) api3Auth(req api3Request) string {
	if req.Account != "super" {
		return "token error: account must be super"
	}
	ts, err := strconv.ParseInt(strings.Trim(string(req.TS), `"`), 10, 64)
	if err != nil {
		return "token error: missing or bad ts"
	}
	want := API3Token(req.Cmd, n.info.Password, n.wmSalt, ts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(req.Token)) != 1 {
		return "token error"
	}
	return ""
}

func jsonNumber(raw json.RawMessage) (float64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && v == v
}

// api3Body is one API v3 reply: msg is the payload object on success and
// the error text otherwise; both go out in the same four-key envelope.
func api3Body(when int64, code int, msg any, desc string) []byte {
	b, _ := json.Marshal(struct {
		Code int    `json:"code"`
		When int64  `json:"when"`
		Msg  any    `json:"msg"`
		Desc string `json:"desc"`
	}{code, when, msg, desc})
	return b
}

func api3OKReply(when int64, desc string, msg any) []byte { return api3Body(when, api3OK, msg, desc) }

func api3Err(when int64, code int, msg, desc string) []byte { return api3Body(when, code, msg, desc) }

func (n *node) api3DeviceInfo() map[string]any {
	t := n.tel()
	spec := n.m.Spec()
	working := "true"
	if t.State != physics.Hashing && t.State != physics.Ramping {
		working = "false"
	}
	return map[string]any{
		"salt": n.wmSalt,
		"network": map[string]string{
			"ip": n.info.Addr.String(), "proto": "dhcp", "netmask": "255.255.0.0",
			"mac": strings.ToUpper(n.info.MAC), "hostname": "WhatsMiner",
		},
		"miner": map[string]any{
			"working": working, "type": strings.TrimPrefix(spec.Model, "WhatsMiner "), "model": spec.Model,
			"hash-board": spec.ChipName, "cointype": "BTC", "board-num": spec.Boards,
			"miner-sn": n.info.Serial, "power-limit-set": int64(powerLimit(n, t)),
			"firmware-version": btVersion,
		},
		"system": map[string]any{
			"api": "3.0.1", "platform": "H616", "fwversion": btVersion,
			"ledstatus": map[bool]string{true: "blink", false: "auto"}[t.LED], "btrunning": n.m.APIUp(),
		},
		"power": map[string]any{
			"type": "P221B", "mode": "normal", "vin": 230.0, "iin": round2(t.PowerW / 230),
			"vout": round2(t.PSUVout), "pin": int64(t.PowerW + 0.5),
		},
	}
}

func (n *node) api3Summary(t *physics.Telemetry) map[string]any {
	fanIn, fanOut := 0.0, 0.0
	if t.NFans > 0 {
		fanIn, fanOut = t.Fans[0], t.Fans[t.NFans-1]
	}
	return map[string]any{
		"elapsed": int64(t.Uptime), "bootup-time": int64(t.OSUptime),
		"freq-avg": int64(t.FreqMHz + 0.5), "target-freq": int64(n.m.Spec().FreqMHz),
		"factory-hash":  round2(t.NomGH / 1000),
		"hash-realtime": round2(t.HashGH / 1000), "hash-average": round2(t.HashAvgGH / 1000),
		"temp-inlet": round2(t.InletC), "temp-outlet": round2(t.OutletC),
		"environment-temperature": round2(t.InletC),
		"fan-speed-in":            int64(fanIn), "fan-speed-out": int64(fanOut),
		"power-realtime": int64(t.PowerW + 0.5), "power-limit": int64(powerLimit(n, t)),
		"power-efficiency": round2(joulesPerTH(t)),
		"chip-temp-min":    round2(minChipTemp(t)), "chip-temp-avg": round2(avgChipTemp(t)), "chip-temp-max": round2(maxChip(t)),
		"hardware-errors": int64(t.HWErrors),
		"upfreq-complete": boolInt(t.State == physics.Hashing),
		"accepted":        int64(t.Accepted), "rejected": int64(t.Rejected),
	}
}

func api3Edevs(t *physics.Telemetry) []map[string]any {
	out := make([]map[string]any, 0, t.NBoards)
	for b := 0; b < t.NBoards; b++ {
		bt := &t.Boards[b]
		status := "alive"
		if bt.Lost {
			status = "dead"
		}
		out = append(out, map[string]any{
			"id": b, "slot": b, "status": status,
			"hash-average": round2(bt.HashGH / 1000), "factory-hash": round2(t.NomGH / 1000 / float64(t.NBoards)),
			"chip-temp-min": round2(bt.ChipInC), "chip-temp-avg": round2(bt.ChipC), "chip-temp-max": round2(chipMax(bt)),
			"chip-num": bt.Chips, "effective-chips": bt.ChipsOK, "freq": int64(t.FreqMHz + 0.5),
			"hardware-errors": int64(bt.HWErrors),
		})
	}
	return out
}

func (n *node) api3Pools(t *physics.Telemetry) []map[string]any {
	out := make([]map[string]any, 0, n.pools)
	for p := 0; p < n.pools; p++ {
		acc := int64(0)
		if p == 0 {
			acc = int64(t.Accepted)
		}
		out = append(out, map[string]any{
			"id": p + 1, "url": "stratum+tcp://stratum" + strconv.Itoa(p+1) + ".pool.invalid:3333",
			"account": "joule." + n.info.Name, "status": "alive", "stratum-active": p == 0, "accepted": acc,
		})
	}
	return out
}
