package gpu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SetBatch claims or releases GPUs so that exactly n are claimed for batch
// work (capped at the pool) and returns how many are claimed. Asking for
// the current claim changes nothing, so the call is idempotent.
func (e *Emulator) SetBatch(_ context.Context, n int) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batch = min(e.n, max(n, 0))
	return e.batch, nil
}

// BatchClient sets the batch claim of an emulated pool (or any endpoint
// speaking the same protocol) over HTTP: GET /state, then POST
// /batch/claim?n= or /batch/release?n= with the difference.
type BatchClient struct {
	// URL is the pool's base URL, e.g. http://127.0.0.1:9400.
	URL     string
	Client  *http.Client  // default: http.DefaultClient
	Timeout time.Duration // per request, default 5 s
}

// SetBatch implements the same contract as (*Emulator).SetBatch.
func (b BatchClient) SetBatch(ctx context.Context, n int) (int, error) {
	st, err := b.do(ctx, http.MethodGet, "/state")
	if err != nil {
		return 0, err
	}
	switch {
	case n > st.Claimed:
		st, err = b.do(ctx, http.MethodPost, "/batch/claim?n="+strconv.Itoa(n-st.Claimed))
	case n < st.Claimed:
		st, err = b.do(ctx, http.MethodPost, "/batch/release?n="+strconv.Itoa(st.Claimed-max(n, 0)))
	}
	if err != nil {
		return 0, err
	}
	return st.Claimed, nil
}

func (b BatchClient) do(ctx context.Context, method, path string) (PoolState, error) {
	var st PoolState
	base, err := url.Parse(strings.TrimSuffix(b.URL, "/") + path)
	if err != nil {
		return st, fmt.Errorf("gpu batch %s: %w", b.URL, err)
	}
	t := b.Timeout
	if t <= 0 {
		t = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base.String(), nil)
	if err != nil {
		return st, fmt.Errorf("gpu batch %s: %w", base, err)
	}
	cl := b.Client
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		return st, fmt.Errorf("gpu batch %s %s: %w", method, base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, fmt.Errorf("gpu batch %s %s: %w", method, base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("gpu batch %s %s: HTTP %d: %s", method, base, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("gpu batch %s %s: decode state: %w", method, base, err)
	}
	return st, nil
}
