package emulator

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// api3Call sends one framed request over a plain connection and decodes
// the framed reply.
func api3Call(t *testing.T, ap netip.AddrPort, req any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(req)
	c, err := net.DialTimeout("tcp", ap.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := c.Write(append(hdr[:], body...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("reply length: %v", err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	reply := make([]byte, n)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("reply body: %v", err)
	}
	if extra, _ := io.ReadAll(c); len(extra) != 0 {
		t.Fatalf("%d bytes after the framed reply; want the server to close", len(extra))
	}
	var v map[string]any
	if err := json.Unmarshal(reply, &v); err != nil {
		t.Fatalf("%v in %s", err, reply)
	}
	return v
}

func TestWhatsminerAPI3(t *testing.T) {
	f, idx := fourDialects(t, 220)
	i := idx[Whatsminer]
	ap := f.Miner(i).API3
	info := api3Call(t, ap, map[string]any{"cmd": "get.device.info"})
	msg, _ := info["msg"].(map[string]any)
	salt, _ := msg["salt"].(string)
	if info["code"] != 0.0 || len(salt) != 8 || info["desc"] != "get.device.info" {
		t.Fatalf("get.device.info = %v", info)
	}
	st := api3Call(t, ap, map[string]any{"cmd": "get.miner.status", "param": "summary,edevs"})
	sum := st["msg"].(map[string]any)["summary"].(map[string]any)
	if hr := sum["hash-realtime"].(float64); hr < 120 || hr > 132 {
		t.Fatalf("hash-realtime %.1f TH/s, want ≈126", hr)
	}
	if p := sum["power-realtime"].(float64); p < 3100 || p > 3450 {
		t.Fatalf("power-realtime %.0f W, want ≈3276", p)
	}

	ts := int64(1700000000)
	bad := api3Call(t, ap, map[string]any{"cmd": "set.miner.service", "param": "stop", "ts": ts, "account": "super", "token": "AAAAAAAA"})
	if bad["code"] != -4.0 {
		t.Fatalf("wrong token: %v, want code -4", bad)
	}
	tok := API3Token("set.miner.service", "super", salt, ts)
	ok := api3Call(t, ap, map[string]any{"cmd": "set.miner.service", "param": "stop", "ts": ts, "account": "super", "token": tok})
	if ok["code"] != 0.0 {
		t.Fatalf("stop with a valid token: %v", ok)
	}
	f.Advance(20 * time.Second)
	if p := f.Telemetry(i).PowerW; p > 30 {
		t.Fatalf("Whatsminer 20 s after service stop: %.1f W, want ≤ 30", p)
	}
	tok = API3Token("set.miner.power_limit", "super", salt, ts+1)
	pl := api3Call(t, ap, map[string]any{"cmd": "set.miner.power_limit", "param": "2800", "ts": ts + 1, "account": "super", "token": tok})
	if pl["code"] != 0.0 {
		t.Fatalf("power_limit: %v", pl)
	}
	if v := api3Call(t, ap, map[string]any{"cmd": "get.nosuch"}); v["code"] != -1.0 {
		t.Fatalf("unknown command: %v, want -1", v)
	}
	if c := f.Commands(i); c.Sleep != 1 || c.PowerTarget != 1 || c.Refused != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestAPI3TokenKnownValue(t *testing.T) {
	// base64(sha256("set.miner.service" + "super" + "abcdefgh" + "1700000000")), first 8.
	if got := API3Token("set.miner.service", "super", "abcdefgh", 1700000000); len(got) != 8 {
		t.Fatalf("token %q, want 8 chars", got)
	}
	a := API3Token("set.miner.service", "super", "abcdefgh", 1700000000)
	b := API3Token("set.miner.service", "super", "abcdefgh", 1700000001)
	if a == b {
		t.Fatal("token does not depend on ts")
	}
}

// rawAPI3 sends one framed request and returns whatever arrives until the
// server closes, framing included.
func rawAPI3(t *testing.T, ap netip.AddrPort, body []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", ap.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := c.Write(append(hdr[:], body...)); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return b
}
