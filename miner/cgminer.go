package miner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one request (dial, write, read) when the caller's
// context has no earlier deadline.
const DefaultTimeout = 5 * time.Second

// maxReply caps a reply; the biggest real stats replies are tens of KB.
const maxReply = 4 << 20

// CGMinerPort is the API port of cgminer, bmminer, bosminer, LUXminer and
// btminer.
const CGMinerPort = 4028

// CGMiner is a client of the cgminer-family API on TCP 4028: one request per
// connection, the reply read to EOF (a trailing NUL is optional) and
// repaired by Repair before decoding. The zero value plus Addr is usable.
type CGMiner struct {
	Addr    string        // host:port
	Timeout time.Duration // per request; 0 means DefaultTimeout
	// Plain sends `cmd|param` instead of the JSON request form. Real
	// cgminer and stock bmminer then answer in cgminer's text format
	// (`STATUS=S,...|SUMMARY,...|`), others in JSON; Do decodes both.
	Plain bool
	// Dialer, when set, replaces net.Dialer (tests, proxies).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

	// noMulti remembers that this firmware refused a multi-command request,
	// so later polls go straight to parallel single requests.
	noMulti atomic.Bool
}

// Status is one STATUS entry of a cgminer reply.
type Status struct {
	Status      string // S success, I info, W warning, E error, F fatal
	When        int64
	Code        int
	Msg         string
	Description string
}

// Response is one decoded cgminer reply.
type Response struct {
	Command string
	Status  Status
	Body    map[string]any
	Damage  Damage
}

// Section returns the named reply section ("SUMMARY", "STATS", ...), matched
// without regard to case, as a list of objects. A section sent as a bare
// object is returned as a one-element list.
func (r *Response) Section(name string) []map[string]any {
	v, ok := Lookup(r.Body, name)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	case map[string]any:
		return []map[string]any{x}
	}
	return nil
}

// First returns the first object of a section, or nil.
func (r *Response) First(name string) map[string]any {
	s := r.Section(name)
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// Do sends one command with optional comma-joined parameters and returns the
// decoded reply. A STATUS E or F becomes an *APIError; every error is an
// *Error naming c.Addr and the command.
func (c *CGMiner) Do(ctx context.Context, cmd string, params ...string) (*Response, error) {
	param := strings.Join(params, ",")
	raw, err := c.roundTrip(ctx, c.request(cmd, param))
	if err != nil {
		return nil, wrap(c.Addr, cmd, err)
	}
	r, err := parseReply(cmd, raw)
	return r, wrap(c.Addr, cmd, err)
}

func (c *CGMiner) request(cmd, param string) []byte {
	if c.Plain {
		if param == "" {
			return []byte(cmd)
		}
		return []byte(cmd + "|" + param)
	}
	b, _ := json.Marshal(struct {
		Command   string `json:"command"`
		Parameter string `json:"parameter"`
	}{cmd, param})
	return b
}

// roundTrip dials, writes req and reads the reply to EOF under the request
// deadline; ctx cancellation aborts the I/O at once.
func (c *CGMiner) roundTrip(ctx context.Context, req []byte) ([]byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, c.Dialer, c.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return exchange(ctx, conn, req, func(conn net.Conn) ([]byte, error) {
		raw, err := io.ReadAll(io.LimitReader(conn, maxReply+1))
		if err != nil && len(raw) > 0 && ctx.Err() == nil {
			// Some builds reset the connection right after a complete
			// reply; only a reply that is itself cut short is half-written.
			if _, dmg, rerr := Repair(raw); rerr == nil && !dmg.Truncated {
				err = nil
			}
		}
		return raw, err
	})
}

func dial(ctx context.Context, d func(context.Context, string, string) (net.Conn, error), addr string) (net.Conn, error) {
	if d != nil {
		return d(ctx, "tcp", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr)
}

// exchange writes req and reads a reply with read, honouring ctx's deadline
// and cancellation. A read that fails after some bytes arrived is a
// half-written reply.
func exchange(ctx context.Context, conn net.Conn, req []byte, read func(net.Conn) ([]byte, error)) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("write request: %w", err))
	}
	raw, err := read(conn)
	if len(raw) > maxReply {
		return nil, fmt.Errorf("%w: reply exceeds %d bytes", ErrBadReply, maxReply)
	}
	if err != nil {
		if len(raw) > 0 {
			return nil, fmt.Errorf("%w: %d bytes then %v", ErrTruncated, len(raw), ctxErr(ctx, err))
		}
		return nil, fmt.Errorf("read reply: %w", ctxErr(ctx, err))
	}
	if len(raw) == 0 {
		// cgminer accepts and at once closes connections from addresses
		// its --api-allow does not list, so say so.
		return nil, fmt.Errorf("%w: connection closed without a reply (is this host in the miner's api-allow list?)", ErrTruncated)
	}
	return raw, nil
}

// ctxErr prefers the context's error over the I/O error it caused, so a
// cancelled request says "context canceled", not "i/o timeout".
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

// parseReply decodes one reply and turns STATUS E/F into an *APIError.
func parseReply(cmd string, raw []byte) (*Response, error) {
	if isTextReply(raw) {
		body, err := parseTextReply(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadReply, err)
		}
		return fromBody(cmd, body, Damage{})
	}
	body, dmg, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !dmg.Benign() {
		return nil, fmt.Errorf("%w: reply of %d bytes ends inside %d open objects", ErrTruncated, len(raw), dmg.OpenAtEOF)
	}
	return fromBody(cmd, body, dmg)
}

func fromBody(cmd string, body map[string]any, dmg Damage) (*Response, error) {
	r := &Response{Command: cmd, Body: body, Damage: dmg}
	st, ok := statusOf(body)
	if !ok {
		return r, fmt.Errorf("%w: no STATUS in reply", ErrBadReply)
	}
	r.Status = st
	switch strings.ToUpper(st.Status) {
	case "E", "F":
		return r, &APIError{Status: strings.ToUpper(st.Status), Code: st.Code, Msg: st.Msg, Description: st.Description}
	}
	return r, nil
}

// statusOf reads STATUS as the documented one-element list, as a bare object,
// or (old btminer) as the letter itself with When/Code/Msg beside it.
func statusOf(body map[string]any) (Status, bool) {
	v, ok := Lookup(body, "STATUS")
	if !ok {
		return Status{}, false
	}
	var m map[string]any
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			m, _ = x[0].(map[string]any)
		}
	case map[string]any:
		m = x
	case string:
		m = body
	}
	if m == nil {
		return Status{}, false
	}
	var st Status
	if s, ok := m["STATUS"].(string); ok {
		st.Status = s
	}
	if v, ok := Lookup(m, "When"); ok {
		st.When, _ = Int(v)
	}
	if v, ok := Lookup(m, "Code"); ok {
		c, _ := Int(v)
		st.Code = int(c)
	}
	if v, ok := Lookup(m, "Msg"); ok {
		st.Msg, _ = String(v)
	}
	if v, ok := Lookup(m, "Description"); ok {
		st.Description, _ = String(v)
	}
	return st, st.Status != ""
}

// cgminer's code for an unknown command, which multi-command requests get
// from firmware that does not support them.
const codeInvalidCommand = 14

// Multi sends several read commands as one `a+b` request and returns each
// reply by command. Firmware that refuses multi-command requests (STATUS E
// code 14, "Invalid command") gets the commands as parallel single requests
// instead. A failure of any one command fails the call.
func (c *CGMiner) Multi(ctx context.Context, cmds ...string) (map[string]*Response, error) {
	op := strings.Join(cmds, "+")
	if len(cmds) == 1 {
		r, err := c.Do(ctx, cmds[0])
		if err != nil {
			return nil, err
		}
		return map[string]*Response{cmds[0]: r}, nil
	}
	if c.noMulti.Load() {
		return c.parallel(ctx, cmds)
	}
	raw, err := c.roundTrip(ctx, c.request(op, ""))
	if err != nil {
		return nil, wrap(c.Addr, op, err)
	}
	body, dmg, err := decodeMulti(raw)
	if err != nil {
		return nil, wrap(c.Addr, op, err)
	}
	if _, hasStatus := Lookup(body, "STATUS"); hasStatus {
		_, err := fromBody(op, body, dmg)
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == codeInvalidCommand || strings.Contains(strings.ToLower(ae.Msg), "invalid command")) {
			c.noMulti.Store(true)
			return c.parallel(ctx, cmds)
		}
		if err == nil {
			err = fmt.Errorf("%w: single reply to a multi-command request", ErrBadReply)
		}
		return nil, wrap(c.Addr, op, err)
	}
	out := make(map[string]*Response, len(cmds))
	for _, cmd := range cmds {
		v, ok := Lookup(body, cmd)
		if !ok {
			return nil, wrap(c.Addr, op, fmt.Errorf("%w: no %q part in reply", ErrBadReply, cmd))
		}
		var part map[string]any
		switch x := v.(type) {
		case []any:
			if len(x) > 0 {
				part, _ = x[0].(map[string]any)
			}
		case map[string]any:
			part = x
		}
		if part == nil {
			return nil, wrap(c.Addr, op, fmt.Errorf("%w: %q part is not an object", ErrBadReply, cmd))
		}
		r, err := fromBody(cmd, part, dmg)
		if err != nil {
			return nil, wrap(c.Addr, cmd, err)
		}
		out[cmd] = r
	}
	return out, nil
}

// decodeMulti decodes the reply to a multi-command request in any of its
// forms: JSON (`{"summary":[{...}],"devs":[{...}],"id":1}`), cgminer's
// text join for plain requests (`CMD=summary|STATUS=...|SUMMARY,...|CMD=devs|...`),
// or a single STATUS reply (text or JSON) from firmware that refused it.
func decodeMulti(raw []byte) (map[string]any, Damage, error) {
	switch {
	case isTextJoin(raw):
		body, err := parseTextJoin(raw)
		if err != nil {
			return nil, Damage{}, fmt.Errorf("%w: %v", ErrBadReply, err)
		}
		return body, Damage{}, nil
	case isTextReply(raw):
		body, err := parseTextReply(raw)
		if err != nil {
			return nil, Damage{}, fmt.Errorf("%w: %v", ErrBadReply, err)
		}
		return body, Damage{}, nil
	}
	body, dmg, err := Decode(raw)
	if err != nil {
		return nil, dmg, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !dmg.Benign() {
		return nil, dmg, fmt.Errorf("%w: reply of %d bytes ends inside %d open objects", ErrTruncated, len(raw), dmg.OpenAtEOF)
	}
	return body, dmg, nil
}

func (c *CGMiner) parallel(ctx context.Context, cmds []string) (map[string]*Response, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		out  = make(map[string]*Response, len(cmds))
		errs = make([]error, len(cmds))
	)
	for i, cmd := range cmds {
		wg.Go(func() {
			r, err := c.Do(ctx, cmd)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			out[cmd] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
