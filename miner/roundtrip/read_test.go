package roundtrip

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/miner"
)

// Each test runs its fleet in its own 127.B.0.0/16 so tests never share an
// address; B values 150–179 belong to this package.
func testNet(b byte) netip.Addr { return netip.AddrFrom4([4]byte{127, b, 0, 0}) }

// allDialects is one miner of every firmware the emulator speaks.
const allDialects = "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1"

var dialectOf = map[emulator.Firmware]miner.Dialect{
	emulator.Stock:      miner.DialectAntminer,
	emulator.LuxOS:      miner.DialectLuxOS,
	emulator.Braiins:    miner.DialectBraiins,
	emulator.Whatsminer: miner.DialectWhatsminer,
}

func startFleet(t testing.TB, cfg emulator.Config) *emulator.Fleet {
	t.Helper()
	f, err := emulator.NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// target is how the client reaches emulated miner mi, on whatever ports the
// emulator reports.
func target(mi emulator.MinerInfo) miner.Target {
	t := miner.Target{Host: mi.Addr.String(), CGMinerPort: int(mi.CGMiner.Port())}
	if mi.HTTP.IsValid() {
		t.HTTPPort = int(mi.HTTP.Port())
	}
	if mi.API3.IsValid() {
		t.WhatsminerPort = int(mi.API3.Port())
	}
	return t
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(1, math.Abs(want))
}

// TestDetectAndReadEveryDialect detects each firmware and checks the Reading
// against the emulator's own physics telemetry.
func TestDetectAndReadEveryDialect(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 3, Net: testNet(150)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	for i, mi := range f.Miners() {
		t.Run(mi.Firmware.String(), func(t *testing.T) {
			m, err := miner.Dial(ctx, target(mi), miner.Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			if want := dialectOf[mi.Firmware]; m.Dialect() != want {
				t.Fatalf("dialect = %s, want %s", m.Dialect(), want)
			}
			r, err := m.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			tel := f.Telemetry(i)
			if r.Model != mi.Model || r.Make != mi.Make {
				t.Errorf("make/model = %q %q, want %q %q", r.Make, r.Model, mi.Make, mi.Model)
			}
			if r.Firmware == "" {
				t.Error("firmware empty")
			}
			if !near(r.HashrateTHs, tel.HashGH/1000, 0.01) {
				t.Errorf("hashrate = %.3f TH/s, want %.3f", r.HashrateTHs, tel.HashGH/1000)
			}
			if mi.Firmware == emulator.Stock {
				if !r.PowerEstimated {
					t.Error("stock firmware measures no power; want an estimate")
				}
			} else if r.PowerEstimated || !near(r.PowerW, tel.PowerW, 0.01) {
				t.Errorf("power = %.0f W (estimated %v), want measured %.0f", r.PowerW, r.PowerEstimated, tel.PowerW)
			}
			if r.State != miner.StateHashing {
				t.Errorf("state = %s, want hashing", r.State)
			}
			if len(r.Boards) != tel.NBoards {
				t.Errorf("boards = %d, want %d", len(r.Boards), tel.NBoards)
			}
			if len(r.FansRPM) != tel.NFans {
				t.Errorf("fans = %v, want %d", r.FansRPM, tel.NFans)
			}
			if r.ChipMaxC <= 0 || r.Uptime <= 0 {
				t.Errorf("chip max %.1f °C, uptime %v: want both reported", r.ChipMaxC, r.Uptime)
			}
			if len(r.Pools) == 0 || !r.Pools[0].Active {
				t.Errorf("pools = %+v, want an active first pool", r.Pools)
			}
			wantChips := 0
			for b := 0; b < tel.NBoards; b++ {
				wantChips += tel.Boards[b].ChipsOK
			}
			if r.ChipsFound != wantChips {
				t.Errorf("chips found = %d, want %d", r.ChipsFound, wantChips)
			}
		})
	}
}

// TestPlainTCPClient reads the emulator with nothing but net.Dial and
// io.ReadAll: a JSON request gets JSON with the documented STATUS block (and
// a trailing NUL from bmminer); a plain one gets the same from every dialect
// but bmminer, which answers in cgminer's text format as real builds do.
func TestPlainTCPClient(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 4, Net: testNet(151)})
	f.Advance(10 * time.Minute)
	for _, mi := range f.Miners() {
		for _, req := range []string{"summary", `{"command":"summary","parameter":""}`} {
			c, err := net.Dial("tcp", mi.CGMiner.String())
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(req))
			raw, err := io.ReadAll(c)
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			if mi.Firmware == emulator.Stock && (len(raw) == 0 || raw[len(raw)-1] != 0) {
				t.Errorf("%s %s: reply does not end in NUL: %q", mi.Firmware, req, tail(raw))
			}
			if mi.Firmware == emulator.Stock && req == "summary" {
				// bmminer answers a plain request in cgminer's text format.
				if !bytes.HasPrefix(raw, []byte("STATUS=S,When=")) || !bytes.Contains(raw, []byte(",Code=11,Msg=Summary,Description=")) || !bytes.Contains(raw, []byte("|SUMMARY,Elapsed=")) {
					t.Errorf("stock plain summary: want the text format, got %.200q", raw)
				}
				continue
			}
			var reply struct {
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
			if err := json.Unmarshal(bytes.TrimRight(raw, "\x00"), &reply); err != nil {
				t.Fatalf("%s %s: not JSON: %v\n%s", mi.Firmware, req, err, raw)
			}
			st := reply.STATUS
			if len(st) != 1 || st[0].STATUS != "S" || st[0].Code != 11 || st[0].Msg != "Summary" || st[0].When == 0 || st[0].Description == "" {
				t.Errorf("%s %s: STATUS = %+v, want one S entry code 11 Summary with When and Description", mi.Firmware, req, st)
			}
			if len(reply.SUMMARY) != 1 {
				t.Errorf("%s %s: SUMMARY has %d entries, want 1", mi.Firmware, req, len(reply.SUMMARY))
			}
		}
	}
}

func tail(b []byte) []byte {
	if len(b) > 40 {
		return b[len(b)-40:]
	}
	return b
}

// TestTruncatedBmminerQuirk: with the emulator's truncation quirk on, every
// stock reply ends in `"id":0` without the closing brace; the client must
// still read the miner.
func TestTruncatedBmminerQuirk(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 1, Mix: "s19jpro:stock=1", Seed: 5, Net: testNet(152), Truncate: true})
	f.Advance(30 * time.Minute)
	mi := f.Miner(0)
	c, err := net.Dial("tcp", mi.CGMiner.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("summary"))
	raw, _ := io.ReadAll(c)
	c.Close()
	if json.Valid(bytes.TrimRight(raw, "\x00")) {
		t.Fatalf("quirk not active: reply is valid JSON: %q", tail(raw))
	}
	m, err := miner.Dial(context.Background(), target(mi), miner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatalf("read with truncated replies: %v", err)
	}
	if r.HashrateTHs < 90 || len(r.Boards) != 3 {
		t.Errorf("hashrate %.1f boards %d, want a full S19j Pro reading", r.HashrateTHs, len(r.Boards))
	}
}
