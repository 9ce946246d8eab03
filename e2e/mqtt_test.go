package e2e

import (
	"encoding/json"
	"log/slog"
	"net"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/grid"
	"github.com/jouleworks/joule/store"
)

// broker starts an in-process MQTT broker on a free loopback port.
func broker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddListener(listeners.NewNet("t", ln)); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return "tcp://" + ln.Addr().String()
}

// A DR request arrives over MQTT; the controller reaches the target before
// the deadline and reports it, retained, on the event topic.
func TestMQTTGridEvent(t *testing.T) {
	h := newHarness(t, opts{params: controller.Params{BatchSize: 8}})
	h.tick()
	url := broker(t)
	b, err := grid.Start(h.ctx, h.ctrl, grid.Options{Broker: url, Prefix: "joule/test", Now: h.fleet.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()

	events := make(chan store.GridEvent, 16)
	rejected := make(chan string, 4)
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("grid-operator"))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	sub := cl.Subscribe("joule/test/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		switch {
		case m.Topic() == "joule/test/rejected":
			rejected <- string(m.Payload())
		case len(m.Topic()) > len("joule/test/events/"):
			var e store.GridEvent
			if json.Unmarshal(m.Payload(), &e) == nil {
				events <- e
			}
		}
	})
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}
	// A malformed request is refused on the rejected topic.
	cl.Publish("joule/test/curtail", 1, false, `{"mw": "lots"}`).WaitTimeout(5 * time.Second)
	select {
	case msg := <-rejected:
		t.Logf("rejected: %s", msg)
	case <-time.After(10 * time.Second):
		t.Fatal("no rejection for a malformed request")
	}
	cl.Publish("joule/test/curtail", 1, false, `{"mw": 0.02, "within_s": 600, "reason": "ERS-10", "request_id": "ercot-1"}`).WaitTimeout(5 * time.Second)
	var created store.GridEvent
	select {
	case created = <-events:
	case <-time.After(10 * time.Second):
		t.Fatal("no event published for the request")
	}
	if created.State != store.EventOpen || created.Source != "mqtt" || created.RequestedMW != 0.02 {
		t.Fatalf("created event %+v", created)
	}
	h.until(5*time.Second, 11*time.Minute, "event achieved", func() bool {
		e, err := h.ctrl.GridEvent(h.ctx, created.ID)
		return err == nil && e.State == store.EventAchieved
	})
	for {
		select {
		case e := <-events:
			if e.State != store.EventAchieved {
				continue
			}
			if e.AchievedMW < 0.02 || e.AchievedAt.After(e.Deadline) {
				t.Fatalf("achieved event %+v", e)
			}
			return
		case <-time.After(10 * time.Second):
			t.Fatal("achieved state not published")
		}
	}
}
