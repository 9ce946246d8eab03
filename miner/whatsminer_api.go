package miner

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// WhatsminerPort is the port of the Whatsminer API v3.
const WhatsminerPort = 4433

// Whatsminer codes for a bad token or a missing permission.
const (
	wmCodeInvalidCommand = -1
	wmCodeTokenError     = -4
)

// WhatsminerAPI is a client of the Whatsminer API v3: a 4-byte little-endian
// length, then JSON, in both directions, one request per connection.
type WhatsminerAPI struct {
	Addr     string // host:port
	Timeout  time.Duration
	Account  string // "super" for set.* commands
	Password string
	Dialer   func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now supplies the request timestamp for tokens; nil means time.Now.
	Now func() time.Time
}

// WhatsminerReply is one decoded API v3 reply.
type WhatsminerReply struct {
	Code int
	When int64
	Msg  any // object for data replies, string for errors
	Desc string
}

// Object returns Msg as an object, or nil.
func (r *WhatsminerReply) Object() map[string]any {
	m, _ := r.Msg.(map[string]any)
	return m
}

// Get sends an unauthenticated get.* command.
func (w *WhatsminerAPI) Get(ctx context.Context, cmd string, param any) (*WhatsminerReply, error) {
	req := map[string]any{"cmd": cmd}
	if param != nil {
		req["param"] = param
	}
	r, err := w.do(ctx, req)
	return r, wrap(w.Addr, cmd, err)
}

// Set sends a set.* command with a token: it fetches the salt from
// get.device.info, then signs cmd, password, salt and timestamp.
func (w *WhatsminerAPI) Set(ctx context.Context, cmd string, param any) (*WhatsminerReply, error) {
	info, err := w.Get(ctx, "get.device.info", nil)
	if err != nil {
		return nil, err
	}
	salt := whatsminerSalt(info.Object())
	if salt == "" {
		return nil, wrap(w.Addr, cmd, fmt.Errorf("%w: get.device.info has no salt", ErrBadReply))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req := map[string]any{
		"cmd":     cmd,
		"ts":      ts,
		"account": w.Account,
		"token":   WhatsminerToken(cmd, w.Password, salt, ts),
	}
	if param != nil {
		req["param"] = param
	}
	r, err := w.do(ctx, req)
	return r, wrap(w.Addr, cmd, err)
}

// WhatsminerToken is the API v3 token: the first 8 characters of
// base64(sha256(cmd + password + salt + ts)), ts in decimal seconds.
func WhatsminerToken(cmd, password, salt string, ts int64) string {
	sum := sha256.Sum256([]byte(cmd + password + salt + strconv.FormatInt(ts, 10)))
	return base64.StdEncoding.EncodeToString(sum[:])[:8]
}

func whatsminerSalt(m map[string]any) string {
	if s := strOf(m, "salt"); s != "" {
		return s
	}
	for _, k := range []string{"system", "miner"} {
		if sub, ok := m[k].(map[string]any); ok {
			if s := strOf(sub, "salt"); s != "" {
				return s
			}
		}
	}
	return ""
}

func (w *WhatsminerAPI) do(ctx context.Context, req map[string]any) (*WhatsminerReply, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	frame = append(frame, body...)
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, w.Dialer, w.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	raw, err := exchange(ctx, conn, frame, readFrame)
	if err != nil {
		return nil, err
	}
	return parseWhatsminer(raw)
}

// readFrame reads one length-prefixed frame; a short body is a half-written
// reply (the returned bytes are non-empty with the error).
func readFrame(conn net.Conn) ([]byte, error) {
	var hdr [4]byte
	n, err := io.ReadFull(conn, hdr[:])
	if err != nil {
		return hdr[:n], err
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	if size > maxReply {
		return nil, fmt.Errorf("%w: frame length %d exceeds %d", ErrBadReply, size, maxReply)
	}
	buf := make([]byte, size)
	n, err = io.ReadFull(conn, buf)
	if err != nil {
		return append(hdr[:], buf[:n]...), fmt.Errorf("frame of %d bytes: %w", size, err)
	}
	return buf, nil
}

func parseWhatsminer(raw []byte) (*WhatsminerReply, error) {
	body, dmg, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !dmg.Benign() {
		return nil, fmt.Errorf("%w: reply ends inside %d open objects", ErrTruncated, dmg.OpenAtEOF)
	}
	codeV, ok := Lookup(body, "code")
	if !ok {
		return nil, fmt.Errorf("%w: no code in reply", ErrBadReply)
	}
	code, _ := Int(codeV)
	r := &WhatsminerReply{Code: int(code), Msg: body["msg"], Desc: strOf(body, "desc")}
	r.When = intOf(body, "when")
	if r.Code != 0 {
		msg, _ := String(r.Msg)
		return r, &APIError{Code: r.Code, Msg: msg, Description: r.Desc, Auth: r.Code == wmCodeTokenError}
	}
	return r, nil
}
