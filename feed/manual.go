package feed

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"
)

// Manual is a value set by an operator (API, CLI) or a webhook.
type Manual struct {
	Label string
	mu    sync.Mutex
	r     Reading
	set   bool
}

// NewManual returns an empty manual source.
func NewManual(label string) *Manual { return &Manual{Label: label} }

// Name implements Source.
func (m *Manual) Name() string { return m.Label }

// Set records value v applying from at (received now). NaN and ±Inf are
// rejected.
func (m *Manual) Set(v float64, at, now time.Time) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: value %v is not a finite number", m.Label, v)
	}
	if at.IsZero() {
		at = now
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.r, m.set = Reading{Value: v, At: at, Received: now, Source: m.Label}, true
	return nil
}

// Latest implements Source.
func (m *Manual) Latest(time.Time) (Reading, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.set {
		return Reading{}, fmt.Errorf("%s: %w", m.Label, ErrNoData)
	}
	return m.r, nil
}

// WebhookBody is what a webhook POST carries: {"value": 42.1, "at": "2025-07-14T15:00:00Z"}.
// "at" is optional (default: when received).
type WebhookBody struct {
	Value *float64  `json:"value"`
	At    time.Time `json:"at"`
}

// maxWebhookBody bounds a webhook request; the body is a few dozen bytes.
const maxWebhookBody = 4 << 10

// Webhook returns a handler that sets m from POSTed WebhookBody JSON. When
// secret is non-empty the request must carry it in the X-Joule-Secret
// header (compared in constant time). now is the clock.
func Webhook(m *Manual, secret string, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed: POST a JSON body", http.StatusMethodNotAllowed)
			return
		}
		if secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Joule-Secret")), []byte(secret)) != 1 {
			http.Error(w, "missing or wrong X-Joule-Secret", http.StatusUnauthorized)
			return
		}
		var b WebhookBody
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			if err == io.EOF {
				err = errors.New("empty body")
			}
			http.Error(w, "bad JSON body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if b.Value == nil {
			http.Error(w, `field "value": required`, http.StatusBadRequest)
			return
		}
		t := now()
		if err := m.Set(*b.Value, b.At, t); err != nil {
			http.Error(w, `field "value": `+err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
