package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"strings"
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
	for _, req := range []string{`{"command":"summary","parameter":""}`} {
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

// stockTextReplies are plain-text requests to stock bmminer and the shape
// of the text reply each gets (cgminer's api.c text format).
var stockTextReplies = []struct {
	req    string
	status string // the STATUS record up to Description
	next   string // how the second record starts
	recs   int    // records, STATUS included
}{
	{"summary", "STATUS=S,When=1767227400,Code=11,Msg=Summary,", "SUMMARY,Elapsed=", 2},
	{"version", "STATUS=S,When=1767227400,Code=22,Msg=BMMiner versions,", "VERSION,BMMiner=1.0.0,", 2},
	{"stats", "STATUS=S,When=1767227400,Code=70,Msg=BMMiner stats,", "BMMiner=1.0.0,", 3},
	{"pools", "STATUS=S,When=1767227400,Code=7,Msg=3 Pool(s),", "POOL=0,URL=stratum+tcp://stratum1.pool.invalid:3333,", 4},
	{"devs", "STATUS=S,When=1767227400,Code=9,Msg=3 ASC(s),", "ASC=0,Name=BTM,", 4},
	{"pools|0", "STATUS=S,When=1767227400,Code=7,Msg=3 Pool(s),", "POOL=0,", 4},
	{"curtail|x,sleep", "STATUS=E,When=1767227400,Code=45,Msg=Access denied to 'curtail' command,", "", 1},
}

// TestStockPlainTextReplies: real bmminer answers a plain-text request in
// cgminer's text format, NUL-terminated; the JSON form stays JSON.
func TestStockPlainTextReplies(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Mix: "s19jpro:stock", Seed: 1, Net: testNet(202)})
	f.Advance(30 * time.Minute)
	m := f.Miner(0)
	for _, tc := range stockTextReplies {
		b := rawCG(t, m.CGMiner, tc.req)
		if len(b) < 2 || b[len(b)-1] != 0 || b[len(b)-2] != '|' {
			t.Fatalf("%s: reply does not end in \"|\" NUL: %q", tc.req, b)
		}
		recs := strings.Split(strings.TrimSuffix(string(b[:len(b)-1]), "|"), "|")
		if len(recs) != tc.recs {
			t.Errorf("%s: %d records, want %d: %q", tc.req, len(recs), tc.recs, b)
		}
		if !strings.HasPrefix(recs[0], tc.status) || !strings.HasSuffix(recs[0], ",Description=bmminer 1.0.0") {
			t.Errorf("%s: STATUS record %q, want %q…Description=bmminer 1.0.0", tc.req, recs[0], tc.status)
		}
		if tc.next != "" && (len(recs) < 2 || !strings.HasPrefix(recs[1], tc.next)) {
			t.Errorf("%s: second record %q, want it to start %q", tc.req, recs[1], tc.next)
		}
		if bytes.ContainsAny(b, "{}\"") {
			t.Errorf("%s: JSON syntax in a text reply: %q", tc.req, b)
		}
	}
	// An unknown command: cgminer's STATUS has no Description for code 14.
	if b := string(rawCG(t, m.CGMiner, "nosuch")); b != "STATUS=E,When=1767227400,Code=14,Msg=Invalid command|\x00" {
		t.Errorf("nosuch: %q, want cgminer's E 14 record without Description", b)
	}
	// A plain multi-command gets cgminer's text join: CMD=<cmd>| before each reply.
	join := string(rawCG(t, m.CGMiner, "summary+devs"))
	if !strings.HasPrefix(join, "CMD=summary|STATUS=S,When=1767227400,Code=11,Msg=Summary,Description=bmminer 1.0.0|SUMMARY,Elapsed=") ||
		!strings.Contains(join, "|CMD=devs|STATUS=S,When=1767227400,Code=9,Msg=3 ASC(s),Description=bmminer 1.0.0|ASC=0,") ||
		!strings.HasSuffix(join, "|\x00") || strings.ContainsAny(join, "{}\"") {
		t.Errorf("summary+devs text join: %q", join)
	}
	// The board record of stats carries the same figures as JSON.
	b := string(rawCG(t, m.CGMiner, "stats"))
	for _, k := range []string{"STATS=0,ID=BC50,", ",fan5=", ",chain_acs1= oooooooo", ",temp_chip1=", ",Mode=0,"} {
		if !strings.Contains(b, k) {
			t.Errorf("stats text lacks %q: %s", k, b)
		}
	}
}
