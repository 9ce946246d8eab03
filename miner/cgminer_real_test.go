package miner

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The cgminer_* fixtures are stock cgminer 4.11.1 replies for a USB ASIC
// rig of two devices (AVM driver), written from the shapes cgminer's api.c
// emits: STATUS without Description for an unknown command, MHS fields
// formatted %.2f, percentages already ×100 (%.4f), bare true/false, pool
// counters inside STATS, the JSON join {"cmd":[reply],...,"id":1} and the
// text join CMD=cmd|reply..., every reply NUL-terminated.

// rawServer answers each request with fixed bytes chosen by the exact
// request it received, then closes: one request per connection, as
// cgminer does.
type rawServer struct {
	ln    net.Listener
	mu    sync.Mutex
	reply map[string][]byte // request bytes → reply bytes
	got   []string
}

func newRawServer(t *testing.T, reply map[string][]byte) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, reply: reply}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 8192)
				n, _ := c.Read(buf)
				req := string(buf[:n])
				s.mu.Lock()
				s.got = append(s.got, req)
				out, ok := s.reply[req]
				s.mu.Unlock()
				if !ok {
					out = fixture(t, "cgminer_invalid.json")
					if !bytes.HasPrefix(buf[:n], []byte("{")) {
						out = fixture(t, "cgminer_invalid.txt")
					}
				}
				c.Write(out)
			}()
		}
	}()
	return s
}

func (s *rawServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonReq(cmd string) string { return `{"command":"` + cmd + `","parameter":""}` }

// cgminerSingles maps each JSON single request to its fixture.
func cgminerSingles(t *testing.T) map[string][]byte {
	m := map[string][]byte{}
	for _, c := range []string{"summary", "devs", "stats", "pools", "version", "config"} {
		m[jsonReq(c)] = fixture(t, "cgminer_"+c+".json")
	}
	return m
}

// checkCGMinerReading checks the Reading the cgminer 4.11.1 fixtures
// describe. MHS values are MH/s: 7912345.67 MH/s = 7.91234567 TH/s.
func checkCGMinerReading(t *testing.T, r Reading) {
	t.Helper()
	approx(t, "hashrate (MHS 5s)", r.HashrateTHs, 7.91234567)
	approx(t, "hashrate avg (MHS av)", r.HashrateAvgTHs, 7.89345612)
	approx(t, "hw error rate (Device Hardware% 0.0204)", r.HWErrorRate, 0.000204)
	if r.Uptime != 7260*time.Second || r.Accepted != 1520 || r.Rejected != 3 || r.HWErrors != 41 {
		t.Errorf("uptime %v accepted %d rejected %d hw %d, want 2h1m0s 1520 3 41", r.Uptime, r.Accepted, r.Rejected, r.HWErrors)
	}
	if len(r.Boards) != 2 {
		t.Fatalf("boards = %+v, want the two ASC devices from devs", r.Boards)
	}
	approx(t, "ASC0 hashrate", r.Boards[0].HashrateTHs, 3.96123456)
	approx(t, "ASC1 hashrate", r.Boards[1].HashrateTHs, 3.95111111)
	if r.Boards[1].Index != 1 || r.Boards[0].HWErrors != 19 {
		t.Errorf("board index %d hw %d, want 1 and 19", r.Boards[1].Index, r.Boards[0].HWErrors)
	}
	approx(t, "chip max (devs Temperature)", r.ChipMaxC, 44.25)
	if len(r.Pools) != 2 || !r.Pools[0].Alive || !r.Pools[0].Active || r.Pools[1].Alive || r.Pools[1].Active {
		t.Errorf("pools = %+v, want pool 0 alive+active, pool 1 dead", r.Pools)
	}
	if r.Pools[0].User != "bc1qexampleworker.usb,rig=1" || r.Pools[0].Accepted != 1520 {
		t.Errorf("pool 0 = %+v", r.Pools[0])
	}
	if r.State != StateHashing {
		t.Errorf("state = %s, want hashing", r.State)
	}
	if !r.PowerEstimated {
		t.Error("cgminer reports no power; want PowerEstimated")
	}
}

func TestStockCGMinerReading(t *testing.T) {
	for _, tc := range []struct {
		name  string
		multi bool // serve the JSON join for summary+devs+stats+pools
	}{{"parallel singles after E 14", false}, {"JSON multi-command", true}} {
		t.Run(tc.name, func(t *testing.T) {
			replies := cgminerSingles(t)
			if tc.multi {
				replies[jsonReq("summary+devs+stats+pools")] = fixture(t, "cgminer_multi.json")
			}
			s := newRawServer(t, replies)
			host, port := s.host()
			m, err := Dial(context.Background(), Target{Host: host, CGMinerPort: port}, Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if m.Dialect() != DialectCGMiner || m.Identity().Firmware != "CGMiner 4.11.1" {
				t.Errorf("detected %s %+v, want cgminer, CGMiner 4.11.1", m.Dialect(), m.Identity())
			}
			r, err := m.Read(context.Background())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			checkCGMinerReading(t, r)
			// A second poll must not retry a refused multi-command.
			before := len(s.requests())
			if _, err := m.Read(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := 1
			if !tc.multi {
				want = 4
			}
			if got := len(s.requests()) - before; got != want {
				t.Errorf("second poll sent %d requests, want %d", got, want)
			}
		})
	}
}

func (s *rawServer) host() (string, int) {
	a := s.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// TestCGMinerRealShapes decodes each fixture on its own: status, sections
// and the fields the reading uses.
func TestCGMinerRealShapes(t *testing.T) {
	for _, tc := range []struct {
		file, cmd, section string
		n                  int
		code               int
	}{
		{"cgminer_summary.json", "summary", "SUMMARY", 1, 11},
		{"cgminer_summary.txt", "summary", "SUMMARY", 1, 11},
		{"cgminer_devs.json", "devs", "DEVS", 2, 9},
		{"cgminer_stats.json", "stats", "STATS", 4, 70},
		{"cgminer_pools.json", "pools", "POOLS", 2, 7},
		{"cgminer_pools.txt", "pools", "POOLS", 2, 7},
		{"cgminer_version.json", "version", "VERSION", 1, 22},
		{"cgminer_config.json", "config", "CONFIG", 1, 33},
	} {
		r, err := parseReply(tc.cmd, fixture(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got := len(r.Section(tc.section)); got != tc.n || r.Status.Code != tc.code || r.Status.Description != "cgminer 4.11.1" {
			t.Errorf("%s: %d %s records, status %+v; want %d, code %d", tc.file, got, tc.section, r.Status, tc.n, tc.code)
		}
	}
	st, _ := parseReply("stats", fixture(t, "cgminer_stats.json"))
	if id := strOf(st.Section("STATS")[2], "ID"); id != "POOL0" {
		t.Errorf("STATS[2].ID = %q, want POOL0 (cgminer lists pool stats after devices)", id)
	}
	var r Reading
	if sleeping := statsInto(&r, st.Section("STATS")); sleeping || len(r.Boards) != 0 || len(r.FansRPM) != 0 {
		t.Errorf("device/pool STATS produced boards %v fans %v sleeping %v, want none", r.Boards, r.FansRPM, sleeping)
	}
	dv, _ := parseReply("devs", fixture(t, "cgminer_devs.json"))
	if v, _ := Int(dv.Section("DEVS")[0]["Device Elapsed"]); v != 7258 {
		t.Errorf("Device Elapsed = %d, want 7258", v)
	}
	cf, _ := parseReply("config", fixture(t, "cgminer_config.json"))
	if n := intOf(cf.First("CONFIG"), "ASC Count"); n != 2 {
		t.Errorf("ASC Count = %d, want 2", n)
	}
	// The text and JSON summaries carry the same figures.
	js, _ := parseReply("summary", fixture(t, "cgminer_summary.json"))
	tx, _ := parseReply("summary", fixture(t, "cgminer_summary.txt"))
	var a, b Reading
	fromCGMiner(&a, map[string]*Response{"summary": js})
	fromCGMiner(&b, map[string]*Response{"summary": tx})
	if a.HashrateTHs != b.HashrateTHs || a.HWErrorRate != b.HWErrorRate || a.Uptime != b.Uptime || a.Accepted != b.Accepted {
		t.Errorf("text summary %+v differs from JSON %+v", b, a)
	}
}

// TestCGMinerInvalidCommand: cgminer's unknown-command reply carries no
// Description; it must still become an APIError with code 14, in both
// formats, and trigger the multi-command fallback.
func TestCGMinerInvalidCommand(t *testing.T) {
	for _, f := range []string{"cgminer_invalid.json", "cgminer_invalid.txt"} {
		_, err := parseReply("foo", fixture(t, f))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 14 || ae.Status != "E" || ae.Msg != "Invalid command" {
			t.Errorf("%s: %v, want APIError E 14 Invalid command", f, err)
		}
	}
	for _, plain := range []bool{false, true} {
		s := newRawServer(t, map[string][]byte{
			jsonReq("summary"): fixture(t, "cgminer_summary.json"),
			jsonReq("pools"):   fixture(t, "cgminer_pools.json"),
			"summary":          fixture(t, "cgminer_summary.txt"),
			"pools":            fixture(t, "cgminer_pools.txt"),
		})
		c := &CGMiner{Addr: s.ln.Addr().String(), Plain: plain}
		rs, err := c.Multi(context.Background(), "summary", "pools")
		if err != nil {
			t.Fatalf("plain=%v: %v", plain, err)
		}
		if rs["summary"].First("SUMMARY") == nil || len(rs["pools"].Section("POOLS")) != 2 {
			t.Errorf("plain=%v: replies %v", plain, rs)
		}
		if got := s.requests(); len(got) != 3 {
			t.Errorf("plain=%v: server saw %q, want the refused join then two singles", plain, got)
		}
	}
}

// TestCGMinerTextJoin: a plain `summary+devs+stats+pools` gets cgminer's
// text join (CMD=summary|STATUS=...|...), which must read like the JSON one.
func TestCGMinerTextJoin(t *testing.T) {
	s := newRawServer(t, map[string][]byte{"summary+devs+stats+pools": fixture(t, "cgminer_multi.txt")})
	c := &CGMiner{Addr: s.ln.Addr().String(), Plain: true}
	rs, err := c.Multi(context.Background(), "summary", "devs", "stats", "pools")
	if err != nil {
		t.Fatal(err)
	}
	r := Reading{}
	fromCGMiner(&r, rs)
	r.classify(false, false)
	r.estimatePower()
	r.Pools = poolsOf(rs["pools"].Section("POOLS"))
	checkCGMinerReading(t, r)
	if n := len(rs["stats"].Section("STATS")); n != 4 {
		t.Errorf("STATS records = %d, want 4", n)
	}
	for _, bad := range []string{"CMD=summary|", "CMD=|STATUS=S|", "CMD=summary|SUMMARY,Elapsed=1|"} {
		if _, err := parseTextJoin([]byte(bad)); err == nil {
			t.Errorf("parseTextJoin(%q) succeeded, want an error", bad)
		}
	}
}

// TestRollingHashKey: cgminer names the rolling average after --log
// ("MHS 10s" with --log 10).
func TestRollingHashKey(t *testing.T) {
	raw := []byte(`{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}],"SUMMARY":[{"Elapsed":60,"MHS av":1000000.00,"MHS 10s":2500000.00,"MHS 1m":900000.00}],"id":1}` + "\x00")
	resp, err := parseReply("summary", raw)
	if err != nil {
		t.Fatal(err)
	}
	var r Reading
	fromCGMiner(&r, map[string]*Response{"summary": resp})
	approx(t, "hashrate (MHS 10s)", r.HashrateTHs, 2.5)
}

// TestFanPlaceholders: fan_num real fans among zero placeholders.
func TestFanPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		name string
		fans map[int]any
		n    int
		want []int
	}{
		{"S9 fan3 and fan6 of 8", map[int]any{1: 0, 2: 0, 3: 5880, 4: 0, 5: 0, 6: 6000, 7: 0, 8: 0}, 2, []int{3, 6}},
		{"S19 from fan5", map[int]any{1: 0, 2: 0, 3: 0, 4: 0, 5: 5400, 6: 5460, 7: 5520, 8: 5400}, 4, []int{5, 6, 7, 8}},
		{"S19 stopped fan5 kept", map[int]any{1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 5460, 7: 5520, 8: 5400}, 4, []int{5, 6, 7, 8}},
		{"bitmain driver fan1..16", map[int]any{1: 1200, 2: 1260, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0}, 2, []int{1, 2}},
		{"no fan_num", map[int]any{1: 0, 2: 3000}, 0, []int{1, 2}},
	} {
		got := fanKeys(tc.fans, tc.n)
		if len(got) != len(tc.want) {
			t.Errorf("%s: fans %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: fans %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// TestCGMinerNoDevices: cgminer answers devs with STATUS E code 10 ("No
// ASCs") when no device is attached; the reading is taken without it.
func TestCGMinerNoDevices(t *testing.T) {
	replies := cgminerSingles(t)
	replies[jsonReq("devs")] = []byte(`{"STATUS":[{"STATUS":"E","When":1700003600,"Code":10,"Msg":"No ASCs","Description":"cgminer 4.11.1"}],"id":1}` + "\x00")
	s := newRawServer(t, replies)
	host, port := s.host()
	m, err := Open(Target{Host: host, CGMinerPort: port}, DialectCGMiner, Identity{}, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatalf("Read with no devices: %v", err)
	}
	approx(t, "hashrate", r.HashrateTHs, 7.91234567)
	if len(r.Boards) != 0 || len(r.Pools) != 2 {
		t.Errorf("boards %v pools %d, want none and 2", r.Boards, len(r.Pools))
	}
}
