package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// maxRequest bounds a cgminer or API v3 request; real firmware reads one
// small buffer.
const maxRequest = 64 << 10

// connTimeout bounds reading a request and writing a reply (wall time).
const connTimeout = 10 * time.Second

// stallFor is how long a stalled connection is held open without a reply.
const stallFor = 120 * time.Second

// cgRequest is one parsed cgminer API request.
type cgRequest struct {
	Cmds  []string // more than one for a multi-command ("summary+devs"), either form
	Param string
	JSON  bool
}

// Errors of parseCGRequest, answered with cgminer's own codes.
var (
	errEmptyRequest = errors.New("empty request")
	errInvalidJSON  = errors.New("invalid JSON")
	errMissingCmd   = errors.New("missing JSON 'command'")
)

// parseCGRequest reads a request in either form cgminer accepts: plain
// "cmd" or "cmd|param", or JSON {"command":"cmd","parameter":"param"}. A
// trailing NUL or newline is ignored. Either form may join commands with
// '+' (cgminer api.c looks for the join in the command whatever its form;
// a join takes no parameter).
func parseCGRequest(b []byte) (cgRequest, error) {
	b = bytes.TrimRight(b, "\x00 \t\r\n")
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return cgRequest{}, errEmptyRequest
	}
	if b[0] != '{' {
		s := string(b)
		cmd, param, _ := strings.Cut(s, "|")
		req := cgRequest{Param: param}
		for _, c := range strings.Split(cmd, "+") {
			req.Cmds = append(req.Cmds, strings.TrimSpace(c))
		}
		if len(req.Cmds) > 1 {
			req.Param = ""
		}
		return req, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return cgRequest{JSON: true}, errInvalidJSON
	}
	var cmd string
	raw, ok := obj["command"]
	if !ok || json.Unmarshal(raw, &cmd) != nil || strings.TrimSpace(cmd) == "" {
		return cgRequest{JSON: true}, errMissingCmd
	}
	req := cgRequest{JSON: true}
	for _, c := range strings.Split(cmd, "+") {
		req.Cmds = append(req.Cmds, strings.TrimSpace(c))
	}
	if raw, ok := obj["parameter"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			req.Param = s
		} else if t := strings.TrimSpace(string(raw)); t != "null" {
			// Numbers and booleans are passed on as written.
			req.Param = t
		}
	}
	return req, nil
}

// requestComplete reports whether b holds a whole request: a plain one as
// soon as anything arrived (cgminer reads once), a JSON one when its
// outermost object closes.
func requestComplete(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return false
	}
	if b[0] != '{' {
		return true
	}
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth <= 0 {
				return true
			}
		}
	}
	return false
}

// readRequest reads one request: until it is complete, the peer stops
// writing, connTimeout passes before anything arrives, or nothing more
// arrives for requestIdle after the first bytes (cgminer itself reads once).
func readRequest(c net.Conn, complete func([]byte) bool) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(connTimeout))
	var buf []byte
	var tmp [4096]byte
	for {
		k, err := c.Read(tmp[:])
		buf = append(buf, tmp[:k]...)
		if len(buf) > maxRequest {
			return nil, fmt.Errorf("request over %d bytes", maxRequest)
		}
		if complete(buf) {
			return buf, nil
		}
		if err != nil {
			if len(buf) > 0 {
				return buf, nil
			}
			return nil, err
		}
		if len(buf) > 0 {
			_ = c.SetReadDeadline(time.Now().Add(requestIdle))
		}
	}
}

// requestIdle ends a request that stopped arriving before it was complete.
const requestIdle = 250 * time.Millisecond

// verdict is what the network does to one connection.
type verdict uint8

const (
	vServe verdict = iota // answer normally
	vNone                 // no answer: reset, dropped or stalled (already carried out)
	vCut                  // answer with a prefix of the reply, then close
)

// gate applies the miner's power and network state to a new connection.
// Unless it returns vServe or vCut the connection has been dealt with
// (reset, dropped, or held until the stall ends).
func (f *Fleet) gate(n *node, c net.Conn, needAPI bool) verdict {
	up, stall, cond := n.netState(needAPI)
	return f.apply(c, up, stall, cond)
}

// netState decides, for one connection, whether the miner answers at all
// and whether the network stalls it (or, in NetCut mode, cuts it).
func (n *node) netState(needAPI bool) (up, stall bool, cond physics.NetCondition) {
	n.mu.Lock()
	defer n.mu.Unlock()
	up = n.m.HostUp()
	if needAPI {
		up = n.m.APIUp()
	}
	cond = n.m.Network()
	stall = cond.Down || (cond.StallProb > 0 && n.rng.Float64() < cond.StallProb)
	return up, stall, cond
}

// apply carries out netState's decision on c.
func (f *Fleet) apply(c net.Conn, up, stall bool, cond physics.NetCondition) verdict {
	if !up {
		// Nothing listens on a powered-off or booting host: reset.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		return vNone
	}
	if stall {
		switch {
		case cond.Mode == physics.NetCut:
			// The prefix arrives promptly, then the link dies.
			return vCut
		case cond.Down && cond.Mode == physics.NetDrop:
			return vNone
		}
		select {
		case <-f.ctx.Done():
		case <-time.After(stallFor):
		}
		return vNone
	}
	if !f.delay(cond) {
		return vNone
	}
	return vServe
}

// delay waits out the network's added latency; false when the fleet closed
// meanwhile.
func (f *Fleet) delay(cond physics.NetCondition) bool {
	if cond.LatencyS <= 0 {
		return true
	}
	select {
	case <-f.ctx.Done():
		return false
	case <-time.After(time.Duration(cond.LatencyS * float64(time.Second))):
		return true
	}
}

// cutReply is the part of reply a cut connection delivers: a random prefix
// that stops short of the end of the reply's content (a trailing NUL or
// frame does not count), so the reply is always incomplete.
func (n *node) cutReply(reply []byte, content int) []byte {
	if content <= 1 {
		return nil
	}
	n.mu.Lock()
	k := 1 + n.rng.IntN(content-1)
	n.mu.Unlock()
	return reply[:k]
}

// serveCGMiner answers one cgminer-family API connection.
func (f *Fleet) serveCGMiner(n *node, c net.Conn) {
	v := f.gate(n, c, true)
	if v == vNone {
		return
	}
	raw, err := readRequest(c, requestComplete)
	if err != nil {
		return
	}
	n.requests.Add(1)
	reply := n.cgReply(raw)
	if v == vCut {
		reply = n.cutReply(reply, len(bytes.TrimRight(reply, "\x00")))
	}
	_ = c.SetWriteDeadline(time.Now().Add(connTimeout))
	_, _ = c.Write(reply)
}

// cgReply builds the full reply to one raw request, NUL included where the
// dialect sends one.
func (n *node) cgReply(raw []byte) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := n.dialect()
	when := n.when()
	req, err := parseCGRequest(raw)
	var w jw
	w.text = d.text() && !req.JSON
	switch {
	case err != nil:
		code, msg := 14, "Invalid command"
		switch err {
		case errInvalidJSON:
			code, msg = 23, "Invalid JSON"
		case errMissingCmd:
			code, msg = 24, "Missing JSON 'command'"
		}
		w.open('{')
		writeStatus(&w, "E", when, code, msg, statusDescription(d, n, code))
		d.finish(&w, n)
	case len(req.Cmds) > 1:
		if !d.multi() {
			w.open('{')
			writeStatus(&w, "E", when, 14, "Invalid command", statusDescription(d, n, 14))
			d.finish(&w, n)
			break
		}
		if w.text {
			// cgminer's text join: each reply after a CMD=<command> record,
			// nothing around them.
			for _, cmd := range req.Cmds {
				w.b = append(w.b, "CMD="...)
				w.b = appendTextEscaped(w.b, cmd)
				w.b = append(w.b, '|')
				part := jw{text: true, b: w.b}
				d.reply(&part, n, cmd, "", when)
				w.b = part.b
			}
			break
		}
		w.open('{')
		for _, cmd := range req.Cmds {
			w.arr(cmd)
			d.reply(&w, n, cmd, "", when)
			w.close(']')
		}
		w.int("id", 1).close('}')
	default:
		d.reply(&w, n, req.Cmds[0], req.Param, when)
	}
	if d.nul() {
		w.b = append(w.b, 0)
	}
	return w.b
}

// when is the simulated Unix time for STATUS When.
func (n *node) when() int64 {
	return n.f.cfg.Epoch.Unix() + int64(n.m.Now())
}

// writeStatus writes the STATUS block every cgminer reply starts with.
func writeStatus(w *jw, letter string, when int64, code int, msg, desc string) {
	w.arr("STATUS").open('{').
		str("STATUS", letter).int("When", when).int("Code", int64(code)).
		str("Msg", msg)
	if desc != "" {
		w.str("Description", desc)
	}
	w.close('}').close(']')
}

// statusDescription is the STATUS Description of a reply with the given
// code. cgminer leaves it out of "Invalid command" (code 14) replies so as
// not to name itself to random probes (api.c message()); the forks built on
// its api.c (bmminer, LUXminer, btminer) do the same. bosminer is not
// built on it and always names itself.
func statusDescription(d cgDialect, n *node, code int) string {
	if _, bos := d.(bosDialect); code == 14 && !bos {
		return ""
	}
	return d.description(n)
}

// cgDialect is one firmware's cgminer-family API.
type cgDialect interface {
	// reply writes the complete reply object for one command.
	reply(w *jw, n *node, cmd, param string, when int64)
	// finish writes the trailer after a STATUS-only error reply.
	finish(w *jw, n *node)
	description(n *node) string
	multi() bool // accepts "a+b" multi-commands
	nul() bool   // ends replies with a NUL byte
	// text reports whether a plain-text request gets cgminer's text
	// format (textw.go) rather than JSON: true of the real cgminer forks.
	text() bool
}

func (n *node) dialect() cgDialect {
	switch n.info.Firmware {
	case LuxOS:
		return luxDialect{}
	case Braiins:
		return bosDialect{}
	case Whatsminer:
		return btDialect{}
	}
	return bmDialect{}
}

// okReply opens a reply object with its success STATUS block; the dialect
// then writes the command's sections and closes the object.
func okReply(w *jw, d cgDialect, n *node, when int64, code int, msg string) {
	w.open('{')
	writeStatus(w, "S", when, code, msg, d.description(n))
}

// errorReply writes a whole STATUS-only error reply.
func errorReply(w *jw, d cgDialect, n *node, when int64, code int, msg string) {
	w.open('{')
	writeStatus(w, "E", when, code, msg, statusDescription(d, n, code))
	d.finish(w, n)
}

func finishID(w *jw) { w.int("id", 1).close('}') }

func fmtInt(v int) string { return strconv.Itoa(v) }
