package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // America/Chicago on hosts without a zoneinfo database
)

// ERCOT Public API (https://apiexplorer.ercot.com): real-time settlement
// point prices, report NP6-905-CD, 15-minute intervals.
const (
	ERCOTBaseURL  = "https://api.ercot.com/api/public-reports"
	ERCOTSPPPath  = "/np6-905-cd/spp_node_zone_hub"
	ERCOTTokenURL = "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
	// ERCOTClientID is the public client id of ERCOT's API sign-in flow.
	ERCOTClientID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
)

var chicago = func() *time.Location {
	l, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	return l
}()

// TokenSource returns a valid ERCOT ID token.
type TokenSource interface {
	Token(ctx context.Context, now time.Time) (string, error)
}

// StaticToken is an ID token obtained elsewhere.
type StaticToken string

// Token implements TokenSource.
func (s StaticToken) Token(context.Context, time.Time) (string, error) { return string(s), nil }

// ERCOTLogin obtains ID tokens with the username and password of an ERCOT
// API Explorer account (resource-owner password flow) and caches each until
// five minutes before it expires (ERCOT issues them for one hour).
type ERCOTLogin struct {
	URL      string // default ERCOTTokenURL
	Username string
	Password string
	Client   *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token implements TokenSource.
func (l *ERCOTLogin) Token(ctx context.Context, now time.Time) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.token != "" && now.Before(l.expires) {
		return l.token, nil
	}
	u := l.URL
	if u == "" {
		u = ERCOTTokenURL
	}
	form := url.Values{
		"username":      {l.Username},
		"password":      {l.Password},
		"grant_type":    {"password"},
		"scope":         {"openid " + ERCOTClientID + " offline_access"},
		"client_id":     {ERCOTClientID},
		"response_type": {"id_token"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("ercot login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client(l.Client).Do(req)
	if err != nil {
		return "", fmt.Errorf("ercot login: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ercot login: %s: %s", resp.Status, snippet(body))
	}
	var tr struct {
		IDToken   string          `json:"id_token"`
		ExpiresIn json.RawMessage `json:"expires_in"` // B2C sends a string or a number
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" {
		return "", fmt.Errorf("ercot login: response has no id_token: %s", snippet(body))
	}
	secs, err := strconv.Atoi(strings.Trim(string(tr.ExpiresIn), `"`))
	if err != nil || secs <= 0 {
		secs = 3600
	}
	l.token, l.expires = tr.IDToken, now.Add(time.Duration(secs)*time.Second-5*time.Minute)
	return l.token, nil
}

// ERCOT polls the real-time settlement point price of one settlement point.
type ERCOT struct {
	Label           string
	BaseURL         string // default ERCOTBaseURL
	SubscriptionKey string // Ocp-Apim-Subscription-Key from the API Explorer profile
	Tokens          TokenSource
	SettlementPoint string // e.g. HB_HUBAVG, LZ_WEST
	Client          *http.Client

	mu      sync.Mutex
	last    Reading
	have    bool
	lastErr error
}

var _ Poller = (*ERCOT)(nil)

// Name implements Source.
func (e *ERCOT) Name() string { return e.Label }

// Latest implements Source.
func (e *ERCOT) Latest(time.Time) (Reading, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.have {
		if e.lastErr != nil {
			return Reading{}, fmt.Errorf("%s: %w (last poll: %v)", e.Label, ErrNoData, e.lastErr)
		}
		return Reading{}, fmt.Errorf("%s: %w", e.Label, ErrNoData)
	}
	return e.last, nil
}

// LastError implements Errorer: the error of the latest poll, nil if it
// succeeded.
func (e *ERCOT) LastError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// Poll implements Poller: it fetches today's and yesterday's intervals (in
// Central time) and keeps the newest.
func (e *ERCOT) Poll(ctx context.Context, now time.Time) error {
	r, err := e.fetch(ctx, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastErr = err
	if err == nil && (!e.have || !r.At.Before(e.last.At)) {
		e.last, e.have = r, true
	}
	return err
}

func (e *ERCOT) fetch(ctx context.Context, now time.Time) (Reading, error) {
	if e.SettlementPoint == "" || e.SubscriptionKey == "" || e.Tokens == nil {
		return Reading{}, fmt.Errorf("%s: settlement point, subscription key and token are required", e.Label)
	}
	tok, err := e.Tokens.Token(ctx, now)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", e.Label, err)
	}
	base := e.BaseURL
	if base == "" {
		base = ERCOTBaseURL
	}
	day := now.In(chicago)
	q := url.Values{
		"settlementPoint":  {e.SettlementPoint},
		"deliveryDateFrom": {day.AddDate(0, 0, -1).Format(time.DateOnly)},
		"deliveryDateTo":   {day.Format(time.DateOnly)},
		"size":             {"500"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+ERCOTSPPPath+"?"+q.Encode(), nil)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", e.Label, err)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", e.SubscriptionKey)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := client(e.Client).Do(req)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", e.Label, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Reading{}, fmt.Errorf("%s: read response: %w", e.Label, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Reading{}, fmt.Errorf("%s: GET %s: %s: %s", e.Label, ERCOTSPPPath, resp.Status, snippet(body))
	}
	r, err := ParseERCOTSPP(body, e.SettlementPoint)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", e.Label, err)
	}
	r.Received, r.Source = now, e.Label
	return r, nil
}

// ParseERCOTSPP reads an NP6-905-CD response — {"_meta":…, "fields":[{"name":
// "deliveryDate"},…], "data":[["2025-07-14",16,3,"HB_HUBAVG","SH",41.2,false],…]}
// — and returns the newest interval of settlement point sp. Columns are found
// by field name, so ERCOT adding or reordering fields does not break it.
func ParseERCOTSPP(body []byte, sp string) (Reading, error) {
	var doc struct {
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
		Data [][]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return Reading{}, fmt.Errorf("ercot response: %w", err)
	}
	col := map[string]int{}
	for i, f := range doc.Fields {
		col[f.Name] = i
	}
	for _, need := range []string{"deliveryDate", "deliveryHour", "deliveryInterval", "settlementPoint", "settlementPointPrice"} {
		if _, ok := col[need]; !ok {
			return Reading{}, fmt.Errorf("ercot response: field %q missing from fields", need)
		}
	}
	var best Reading
	found := false
	for n, row := range doc.Data {
		get := func(name string) (json.RawMessage, error) {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return nil, fmt.Errorf("ercot response: data row %d: no %s", n, name)
			}
			return row[i], nil
		}
		raw, err := get("settlementPoint")
		if err != nil {
			return Reading{}, err
		}
		var point string
		if json.Unmarshal(raw, &point) != nil || point != sp {
			continue
		}
		var date string
		var hour, interval int
		var price float64
		var dst bool
		for _, f := range []struct {
			name string
			dst  any
		}{{"deliveryDate", &date}, {"deliveryHour", &hour}, {"deliveryInterval", &interval}, {"settlementPointPrice", &price}} {
			raw, err := get(f.name)
			if err != nil {
				return Reading{}, err
			}
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return Reading{}, fmt.Errorf("ercot response: data row %d field %s value %s: %v", n, f.name, snippet(raw), err)
			}
		}
		if i, ok := col["DSTFlag"]; ok && i < len(row) {
			var v any
			json.Unmarshal(row[i], &v)
			dst = v == true || v == "Y" || v == "y" || v == "true"
		}
		at, err := intervalStart(date, hour, interval, dst)
		if err != nil {
			return Reading{}, fmt.Errorf("ercot response: data row %d: %w", n, err)
		}
		if !found || at.After(best.At) {
			best, found = Reading{Value: price, At: at}, true
		}
	}
	if !found {
		return Reading{}, fmt.Errorf("ercot response: no rows for settlement point %s: %w", sp, ErrNoData)
	}
	return best, nil
}

// intervalStart converts ERCOT's delivery date, hour ending (1–24) and
// 15-minute interval (1–4) in Central Prevailing Time to an instant. dst
// marks the repeated hour on the autumn change, which is the later of the
// two instants with that wall time.
func intervalStart(date string, hour, interval int, dst bool) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, chicago)
	if err != nil {
		return time.Time{}, fmt.Errorf("deliveryDate %q: want YYYY-MM-DD", date)
	}
	if hour < 1 || hour > 24 || interval < 1 || interval > 4 {
		return time.Time{}, fmt.Errorf("deliveryHour %d / deliveryInterval %d out of range 1–24 / 1–4", hour, interval)
	}
	t := time.Date(d.Year(), d.Month(), d.Day(), hour-1, (interval-1)*15, 0, 0, chicago)
	later, earlier := t.Add(time.Hour), t.Add(-time.Hour)
	switch {
	case dst && later.Hour() == t.Hour() && later.Minute() == t.Minute():
		t = later
	case !dst && earlier.Hour() == t.Hour() && earlier.Minute() == t.Minute():
		t = earlier
	}
	return t, nil
}

func client(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	return c
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
