// Package api serves the controller's HTTP API under /api/v1 (JSON, bearer
// tokens with viewer < operator < admin roles) and its Prometheus /metrics,
// on top of two small interfaces the controller and store implement: Site
// and History.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures New.
type Config struct {
	Site    Site
	History History
	Tokens  []Token
	// Public is the role granted to requests without a token (RoleNone:
	// every request needs one). `joule demo` on loopback uses Viewer.
	Public Role
	// Now is the clock (default time.Now); relative query windows use it.
	Now func() time.Time
	// Logger for server-side errors (default slog.Default()).
	Logger *slog.Logger
	// MaxBody bounds request bodies in bytes (default 64 KiB).
	MaxBody int64
	// MutationsPerMinute bounds the POST requests each token may make
	// (a token bucket with that burst); 0 means 30, negative disables.
	MutationsPerMinute int
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	tokens   *tokenSet
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	mux      *http.ServeMux
	limiter  *limiter

	curtailMu sync.Mutex
	recent    RecentRequests // curtail request ids, for safe retries
}

// New validates cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Site == nil || cfg.History == nil {
		return nil, errors.New("api: Site and History are required")
	}
	if cfg.Public < RoleNone || cfg.Public > Admin {
		return nil, fmt.Errorf("api: public role %d out of range", cfg.Public)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	ts, err := newTokenSet(cfg.Tokens, cfg.Public)
	if err != nil {
		return nil, err
	}
	if cfg.MutationsPerMinute == 0 {
		cfg.MutationsPerMinute = 30
	}
	s := &Server{cfg: cfg, tokens: ts, reg: prometheus.NewRegistry(), limiter: newLimiter(cfg.MutationsPerMinute, cfg.Now)}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "joule_api_requests_total", Help: "API requests by route and HTTP status code.",
	}, []string{"route", "code"})
	s.reg.MustRegister(s.requests, newCollector(s), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.routes()
	return s, nil
}

// Registry is the server's private Prometheus registry; the controller may
// register its own collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handler serves /api/v1/..., /metrics and /healthz.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern string, role Role, h http.HandlerFunc) {
		if strings.HasPrefix(pattern, "POST ") {
			h = s.limit(h)
		}
		s.mux.Handle(pattern, s.count(pattern, s.require(role, h)))
	}
	handle("GET /api/v1/status", Viewer, s.status)
	handle("GET /api/v1/miners", Viewer, s.miners)
	handle("GET /api/v1/decisions", Viewer, s.decisions)
	handle("GET /api/v1/audit", Viewer, s.audit)
	handle("GET /api/v1/telemetry", Viewer, s.telemetry)
	handle("GET /api/v1/events/{id}", Viewer, s.event)
	handle("POST /api/v1/curtail", Operator, s.curtail)
	handle("POST /api/v1/price/manual", Operator, s.manualPrice)
	handle("POST /api/v1/mode/override", Admin, s.override)
	metrics := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogAdapter{s.cfg.Logger}})
	handle("GET /metrics", Viewer, metrics.ServeHTTP)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Println(v ...any) { a.l.Error("metrics", "err", fmt.Sprint(v...)) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) count(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.requests.WithLabelValues(route, fmt.Sprint(sw.code)).Inc()
	})
}
