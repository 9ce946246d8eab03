package miner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// sharedTransport carries all miner HTTP traffic. Miners' web servers are
// small and slow to accept; keep few idle connections per host.
var sharedTransport = &http.Transport{
	MaxIdleConns:          64,
	MaxIdleConnsPerHost:   1,
	IdleConnTimeout:       30 * time.Second,
	ResponseHeaderTimeout: DefaultTimeout,
}

// httpJSON does one request with a JSON body (nil for none) and decodes a
// JSON reply into out (nil to discard). Non-2xx statuses become errors; 401
// wraps ErrAuth.
func httpJSON(ctx context.Context, c *http.Client, method, url string, hdr http.Header, body, out any) error {
	var rd io.Reader
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		// Digest auth resends the body after the challenge.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("%w: %d bytes then %v", ErrTruncated, len(data), err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: HTTP %d %s", ErrAuth, resp.StatusCode, snippet(data))
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Code: resp.StatusCode, Msg: "HTTP " + resp.Status + " " + snippet(data)}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	fixed, dmg, err := Repair(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !dmg.Benign() {
		return fmt.Errorf("%w: reply of %d bytes ends inside %d open objects", ErrTruncated, len(data), dmg.OpenAtEOF)
	}
	dec := json.NewDecoder(bytes.NewReader(fixed))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// AntminerWeb is the stock Antminer web interface: CGI scripts behind HTTP
// Digest authentication (realm "antMiner Configuration").
type AntminerWeb struct {
	Base     string // "http://host:port"
	User     string
	Password string
	Timeout  time.Duration

	once   sync.Once
	client *http.Client
}

func (a *AntminerWeb) http() *http.Client {
	a.once.Do(func() {
		a.client = &http.Client{
			Transport: &digest.Transport{Username: a.User, Password: a.Password, Transport: sharedTransport},
			Timeout:   orDefault(a.Timeout),
		}
	})
	return a.client
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

func (a *AntminerWeb) addr() string { return strings.TrimPrefix(a.Base, "http://") }

// Antminer miner-mode values in get/set_miner_conf.cgi.
const (
	AntminerModeNormal = 0
	AntminerModeSleep  = 1
	AntminerModeLow    = 3
)

// Conf reads get_miner_conf.cgi. The map keeps every key (pools, fan
// settings, freq-level) so that SetMode can write them back unchanged.
func (a *AntminerWeb) Conf(ctx context.Context) (map[string]any, error) {
	var conf map[string]any
	err := httpJSON(ctx, a.http(), http.MethodGet, a.Base+"/cgi-bin/get_miner_conf.cgi", nil, nil, &conf)
	return conf, wrap(a.addr(), "get_miner_conf", err)
}

// SetMode writes miner-mode, keeping the rest of the configuration as read.
func (a *AntminerWeb) SetMode(ctx context.Context, conf map[string]any, mode int) error {
	next := make(map[string]any, len(conf)+1)
	for k, v := range conf {
		next[k] = v
	}
	next["miner-mode"] = mode
	// get_miner_conf on newer builds reports the mode as bitmain-work-mode
	// (a string); echoing the old value back beside the new miner-mode
	// would send the firmware two different modes.
	if old, ok := next["bitmain-work-mode"]; ok {
		if _, isStr := old.(string); isStr {
			next["bitmain-work-mode"] = fmt.Sprint(mode)
		} else {
			next["bitmain-work-mode"] = mode
		}
	}
	var reply map[string]any
	err := httpJSON(ctx, a.http(), http.MethodPost, a.Base+"/cgi-bin/set_miner_conf.cgi", nil, next, &reply)
	if err == nil {
		err = cgiResult(reply)
	}
	return wrap(a.addr(), fmt.Sprintf("set_miner_conf miner-mode=%d", mode), err)
}

// cgiResult turns {"stats":"error","code":"E001","msg":"..."} into an error.
func cgiResult(reply map[string]any) error {
	if reply == nil {
		return nil
	}
	st := strOf(reply, "stats", "status")
	if st == "" || strings.EqualFold(st, "success") {
		return nil
	}
	return &APIError{Msg: strings.TrimSpace(strOf(reply, "code") + " " + strOf(reply, "msg"))}
}

// Reboot calls reboot.cgi.
func (a *AntminerWeb) Reboot(ctx context.Context) error {
	err := httpJSON(ctx, a.http(), http.MethodGet, a.Base+"/cgi-bin/reboot.cgi", nil, nil, nil)
	return wrap(a.addr(), "reboot", err)
}

// Blink turns the locate LED on or off via blink.cgi.
func (a *AntminerWeb) Blink(ctx context.Context, on bool) error {
	var reply map[string]any
	err := httpJSON(ctx, a.http(), http.MethodPost, a.Base+"/cgi-bin/blink.cgi", nil, map[string]bool{"blink": on}, &reply)
	if err == nil {
		err = cgiResult(reply)
	}
	return wrap(a.addr(), "blink", err)
}

// SystemInfo reads get_system_info.cgi (minertype, firmware version, MAC).
func (a *AntminerWeb) SystemInfo(ctx context.Context) (map[string]any, error) {
	var info map[string]any
	err := httpJSON(ctx, a.http(), http.MethodGet, a.Base+"/cgi-bin/get_system_info.cgi", nil, nil, &info)
	return info, wrap(a.addr(), "get_system_info", err)
}

// BraiinsREST is the Braiins OS+ REST API under /api/v1, authenticated by a
// token from POST /api/v1/auth/login sent as a bearer token.
type BraiinsREST struct {
	Base     string // "http://host:port"
	User     string
	Password string
	Timeout  time.Duration

	mu      sync.Mutex
	token   string
	expires time.Time
}

func (b *BraiinsREST) addr() string { return strings.TrimPrefix(b.Base, "http://") }

func (b *BraiinsREST) http() *http.Client {
	return &http.Client{Transport: sharedTransport, Timeout: orDefault(b.Timeout)}
}

// login returns a cached token, logging in when there is none or it is
// about to expire.
func (b *BraiinsREST) login(ctx context.Context, force bool) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !force && b.token != "" && time.Now().Before(b.expires) {
		return b.token, nil
	}
	var out struct {
		Token    string      `json:"token"`
		TimeoutS json.Number `json:"timeout_s"`
	}
	err := httpJSON(ctx, b.http(), http.MethodPost, b.Base+"/api/v1/auth/login", nil,
		map[string]string{"username": b.User, "password": b.Password}, &out)
	if err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("%w: login reply has no token", ErrBadReply)
	}
	ttl, _ := out.TimeoutS.Int64()
	if ttl <= 0 {
		ttl = 3600
	}
	b.token = out.Token
	// Renew a minute early so a long command never carries a dead token.
	b.expires = time.Now().Add(time.Duration(ttl)*time.Second - time.Minute)
	return b.token, nil
}

// call does an authenticated request, logging in again once if the token
// was refused (expired, or the miner rebooted).
func (b *BraiinsREST) call(ctx context.Context, op, method, path string, body, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := b.login(ctx, attempt > 0)
		if err != nil {
			return wrap(b.addr(), op+": login", err)
		}
		hdr := http.Header{"Authorization": {"Bearer " + tok}}
		err = httpJSON(ctx, b.http(), method, b.Base+path, hdr, body, out)
		if errors.Is(err, ErrAuth) && attempt == 0 {
			continue
		}
		return wrap(b.addr(), op, err)
	}
}

// PowerTarget reads the configured power target in watts.
func (b *BraiinsREST) PowerTarget(ctx context.Context) (float64, error) {
	var out map[string]any
	if err := b.call(ctx, "get power-target", http.MethodGet, "/api/v1/performance/power-target", nil, &out); err != nil {
		return 0, err
	}
	w := floatOf(out, "watt")
	if w == 0 {
		if sub, ok := out["watt"].(map[string]any); ok { // {"watt":{"watt":3250}}
			w = floatOf(sub, "watt")
		}
	}
	return w, nil
}

// SetPowerTarget sets the power target in watts.
func (b *BraiinsREST) SetPowerTarget(ctx context.Context, watts int) error {
	return b.call(ctx, fmt.Sprintf("set power-target %d W", watts), http.MethodPut,
		"/api/v1/performance/power-target", map[string]int{"watt": watts}, nil)
}

// Action calls PUT /api/v1/actions/<name> (pause, resume, reboot, locate).
func (b *BraiinsREST) Action(ctx context.Context, name string, body any) error {
	return b.call(ctx, name, http.MethodPut, "/api/v1/actions/"+name, body, nil)
}
