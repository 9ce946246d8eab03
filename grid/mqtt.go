// Package grid brings grid operator requests (demand response, ERS-10
// style: shed this many MW within ten minutes) to the controller over MQTT,
// and reports each event's progress back: the MW achieved and when.
//
// Topics, under a prefix such as joule/<site>:
//
//	<prefix>/curtail          in:  {"mw": 2.5, "within_s": 600, "reason": "...", "request_id": "..."}
//	                               (or "deadline": RFC 3339 instead of within_s)
//	<prefix>/events/<id>      out: the grid event as JSON, retained, on creation and every change
//	<prefix>/rejected         out: {"request_id": "...", "error": "..."} for a request that was refused
package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/store"
)

// Site is what the bridge needs of the controller.
type Site interface {
	Curtail(ctx context.Context, r controller.EventRequest) (int64, error)
	OnEvent(l controller.EventListener)
}

var _ Site = (*controller.Controller)(nil)

// Request is the JSON body of a curtail message.
type Request struct {
	MW        *float64 `json:"mw"`
	WithinS   *float64 `json:"within_s"`
	Deadline  string   `json:"deadline"`
	Reason    string   `json:"reason"`
	RequestID string   `json:"request_id"`
}

// ErrBadRequest marks a curtail message that could not be used.
var ErrBadRequest = errors.New("bad curtail request")

// ParseRequest validates a curtail message at time now, returning the MW
// and deadline. It is pure.
func ParseRequest(payload []byte, now time.Time) (Request, float64, time.Time, error) {
	var r Request
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, 0, time.Time{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return r, 0, time.Time{}, fmt.Errorf("%w: data after the JSON object", ErrBadRequest)
	}
	var at time.Time
	if r.Deadline != "" {
		t, err := time.Parse(time.RFC3339, r.Deadline)
		if err != nil {
			return r, 0, time.Time{}, fmt.Errorf("%w: field \"deadline\": want RFC 3339", ErrBadRequest)
		}
		at = t
	}
	deadline, err := api.CurtailDeadline(now, r.MW, r.WithinS, at, r.Reason)
	if err != nil {
		return r, 0, time.Time{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return r, *r.MW, deadline, nil
}

// Options configure Start.
type Options struct {
	Broker   string // tcp://host:1883
	Prefix   string // topic prefix, e.g. joule/site-a
	ClientID string
	Username string
	Password string
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger
}

// Bridge is a running MQTT connection for grid events.
type Bridge struct {
	c      mqtt.Client
	o      Options
	site   Site
	ctx    context.Context
	cancel context.CancelFunc
	ready  atomic.Bool

	// seen maps request ids already turned into events to those events:
	// curtail arrives at QoS 1, at least once, and a redelivered request
	// must not shed the same megawatts twice.
	mu   sync.Mutex
	seen api.RecentRequests
}

// Start connects to the broker, subscribes to <prefix>/curtail and
// publishes event changes. Stop disconnects.
func Start(ctx context.Context, site Site, o Options) (*Bridge, error) {
	if o.Prefix == "" {
		return nil, errors.New("grid: topic prefix is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ClientID == "" {
		o.ClientID = "joule-" + strings.ReplaceAll(o.Prefix, "/", "-")
	}
	b := &Bridge{o: o, site: site}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	opts := mqtt.NewClientOptions().AddBroker(o.Broker).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectTimeout(10 * time.Second).
		// Resubscribe after a reconnect: the session is not persistent.
		SetCleanSession(true).SetOnConnectHandler(func(mqtt.Client) {
		if !b.ready.Load() {
			return // the first connect: Start subscribes itself
		}
		if err := b.subscribe(); err != nil {
			o.Logger.Error("mqtt resubscribe", "err", err)
		}
	})
	b.c = mqtt.NewClient(opts)
	t := b.c.Connect()
	if !t.WaitTimeout(15 * time.Second) {
		b.c.Disconnect(0)
		return nil, fmt.Errorf("grid: mqtt %s: connect timed out", o.Broker)
	}
	if err := t.Error(); err != nil {
		return nil, fmt.Errorf("grid: mqtt %s: %w", o.Broker, err)
	}
	// Subscribe now as well as on every (re)connect, so nothing published
	// after Start returns is missed.
	if err := b.subscribe(); err != nil {
		b.c.Disconnect(0)
		return nil, err
	}
	b.ready.Store(true)
	site.OnEvent(b.publish)
	return b, nil
}

func (b *Bridge) subscribe() error {
	t := b.c.Subscribe(b.o.Prefix+"/curtail", 1, b.handle)
	if !t.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("grid: mqtt subscribe %s/curtail: timed out", b.o.Prefix)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("grid: mqtt subscribe %s/curtail: %w", b.o.Prefix, err)
	}
	return nil
}

// handle is the curtail topic's message handler.
func (b *Bridge) handle(_ mqtt.Client, m mqtt.Message) {
	r, mw, deadline, err := ParseRequest(m.Payload(), b.o.Now())
	if err == nil {
		// Hold the lock across Curtail so a redelivery racing the first
		// copy still finds it.
		b.mu.Lock()
		defer b.mu.Unlock()
		if id, dup := b.seen.Lookup(r.RequestID); dup {
			b.o.Logger.Info("mqtt curtail repeated; already event", "request_id", r.RequestID, "id", id)
			return
		}
		var id int64
		id, err = b.site.Curtail(b.ctx, controller.EventRequest{Source: "mqtt", Requester: "mqtt:" + orDefault(r.RequestID, m.Topic()),
			MW: mw, Deadline: deadline, Reason: r.Reason})
		if err == nil {
			b.seen.Remember(r.RequestID, id)
			b.o.Logger.Info("mqtt grid event", "id", id, "mw", mw, "deadline", deadline)
			return
		}
	}
	b.o.Logger.Warn("mqtt curtail rejected", "err", err)
	body, _ := json.Marshal(map[string]string{"request_id": r.RequestID, "error": err.Error()})
	b.c.Publish(b.o.Prefix+"/rejected", 1, false, body)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// publish sends an event's state, retained, so a late subscriber sees it.
func (b *Bridge) publish(e store.GridEvent) {
	body, err := json.Marshal(e)
	if err != nil {
		return
	}
	b.c.Publish(fmt.Sprintf("%s/events/%d", b.o.Prefix, e.ID), 1, true, body)
}

// Stop disconnects from the broker.
func (b *Bridge) Stop() {
	b.cancel()
	b.c.Disconnect(250)
}
