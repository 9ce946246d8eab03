package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// testNet gives each test its own 127.B.0.0/16 so parallel test binaries
// (this package and miner/) do not meet on the same addresses.
func testNet(b byte) netip.Addr { return netip.AddrFrom4([4]byte{127, b, 0, 0}) }

func startFleet(t testing.TB, cfg Config) *Fleet {
	t.Helper()
	f, err := NewFleet(cfg)
	if err != nil {
		t.Fatalf("NewFleet: %v", err)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rawCG sends one request over a plain TCP connection and reads to EOF.
func rawCG(t testing.TB, ap netip.AddrPort, req string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", ap.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", ap, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read %s: %v", ap, err)
	}
	return b
}

func TestStockSummaryPlainTCP(t *testing.T) {
	f := startFleet(t, Config{Count: 2, Mix: "s19jpro:stock=1", Seed: 1, Net: testNet(201)})
	m := f.Miners()[0]
	if m.Firmware != Stock || m.Model != "Antminer S19j Pro" {
		t.Fatalf("miner 0 = %s %s, want stock Antminer S19j Pro", m.Firmware, m.Model)
	}
	for _, req := range []string{"summary", `{"command":"summary","parameter":""}`} {
		b := rawCG(t, m.CGMiner, req)
		if len(b) == 0 || b[len(b)-1] != 0 {
			t.Fatalf("%s: reply does not end in NUL: %q", req, b)
		}
		var r struct {
			STATUS []struct {
				STATUS      string
				When        int64
				Code        int
				Msg         string
				Description string
			}
			SUMMARY []map[string]any
			ID      int `json:"id"`
		}
		if err := json.Unmarshal(bytes.TrimRight(b, "\x00"), &r); err != nil {
			t.Fatalf("%s: %v in %s", req, err, b)
		}
		if len(r.STATUS) != 1 || r.STATUS[0].STATUS != "S" || r.STATUS[0].Code != 11 || r.STATUS[0].Msg != "Summary" {
			t.Fatalf("%s: STATUS = %+v", req, r.STATUS)
		}
		if got, ok := r.SUMMARY[0]["GHS 5s"].(string); !ok || got == "" {
			t.Fatalf("%s: GHS 5s = %#v, want a string (bmminer quirk)", req, r.SUMMARY[0]["GHS 5s"])
		}
	}
}
