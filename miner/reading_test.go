package miner

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readingCases are fixture sets written from the documented reply shapes
// of each firmware, with the Reading fields they must produce.
var readingCases = []struct {
	name    string
	dialect Dialect
	files   map[string]string
	multi   bool
	check   func(t *testing.T, r Reading)
}{
	{
		name: "S19j Pro stock bmminer", dialect: DialectAntminer,
		files: map[string]string{"version": "s19jpro_version.json", "summary": "s19jpro_summary.json", "stats": "s19jpro_stats.json", "pools": "s19jpro_pools.json"},
		check: func(t *testing.T, r Reading) {
			approx(t, "hashrate", r.HashrateTHs, 103.87654)
			approx(t, "hashrate avg", r.HashrateAvgTHs, 103.91207)
			approx(t, "hashrate ideal", r.HashrateIdealTHs, 104)
			if r.Model != "Antminer S19j Pro" || r.Make != "Bitmain" {
				t.Errorf("model = %q %q, want Bitmain Antminer S19j Pro", r.Make, r.Model)
			}
			if len(r.Boards) != 3 || r.Boards[0].Index != 6 {
				t.Fatalf("boards = %+v, want chains 6,7,8", r.Boards)
			}
			if r.Boards[1].ChipsFound != 124 || r.Boards[1].ChipsExpected != 126 || r.Boards[1].ChipsBad != 2 {
				t.Errorf("board 7 chips = %d/%d bad %d, want 124/126 bad 2", r.Boards[1].ChipsFound, r.Boards[1].ChipsExpected, r.Boards[1].ChipsBad)
			}
			if r.ChipsFound != 376 || r.ChipsExpected != 378 {
				t.Errorf("chips = %d/%d, want 376/378", r.ChipsFound, r.ChipsExpected)
			}
			if want := []float64{5400, 5460, 5520, 5400}; !equalF(r.FansRPM, want) {
				t.Errorf("fans = %v, want %v (numbered from fan5)", r.FansRPM, want)
			}
			approx(t, "chip max", r.ChipMaxC, 72)
			approx(t, "inlet", r.InletC, 40)
			approx(t, "outlet", r.OutletC, 55.5)
			approx(t, "board 6 rate", r.Boards[0].HashrateTHs, 34.70011)
			approx(t, "hw rate", r.HWErrorRate, 0.000006)
			if r.HWErrors != 87 || r.Accepted != 24870 {
				t.Errorf("hw errors %d accepted %d, want 87 24870", r.HWErrors, r.Accepted)
			}
			if !r.PowerEstimated {
				t.Error("stock firmware reports no power; want PowerEstimated")
			}
			approx(t, "estimated power", r.PowerW, 103.87654*29.5)
			if r.Uptime != 24*time.Hour {
				t.Errorf("uptime = %v, want 24h", r.Uptime)
			}
			if len(r.Pools) != 2 || !r.Pools[0].Active || !r.Pools[0].Alive || r.Pools[1].Alive {
				t.Errorf("pools = %+v", r.Pools)
			}
			if r.State != StateHashing {
				t.Errorf("state = %s, want hashing", r.State)
			}
		},
	},
	{
		name: "LuxOS S19 XP", dialect: DialectLuxOS, multi: true,
		files: map[string]string{"summary": "luxos_summary.json", "stats": "luxos_stats.json", "pools": "s19jpro_pools.json", "power": "luxos_power.json", "config": "luxos_config.json"},
		check: func(t *testing.T, r Reading) {
			approx(t, "hashrate", r.HashrateTHs, 139.8705)
			approx(t, "power", r.PowerW, 3010)
			if r.Profile != "-2" {
				t.Errorf("profile = %q, want -2 (from config)", r.Profile)
			}
			if r.PowerEstimated {
				t.Error("LuxOS measures power; PowerEstimated set")
			}
			if want := []float64{4800, 4860, 4800, 0}; !equalF(r.FansRPM, want) {
				t.Errorf("fans = %v, want %v (a stopped fan stays)", r.FansRPM, want)
			}
			if r.ChipsFound != 330 || len(r.Boards) != 3 {
				t.Errorf("chips %d boards %d, want 330 and 3", r.ChipsFound, len(r.Boards))
			}
			approx(t, "chip max", r.ChipMaxC, 70)
		},
	},
	{
		name: "Braiins OS+ S19j Pro", dialect: DialectBraiins,
		files: map[string]string{"summary": "braiins_summary.json", "devs": "braiins_devs.json", "fans": "braiins_fans.json", "temps": "braiins_temps.json", "tunerstatus": "braiins_tunerstatus.json", "pools": "braiins_pools.json", "devdetails": "braiins_devdetails.json"},
		check: func(t *testing.T, r Reading) {
			approx(t, "hashrate (MHS 5s)", r.HashrateTHs, 98.1204567)
			approx(t, "power", r.PowerW, 3210)
			approx(t, "power limit", r.PowerLimitW, 3250)
			if len(r.FansRPM) != 4 || len(r.Boards) != 3 || r.ChipsFound != 377 || r.ChipsExpected != 378 {
				t.Errorf("fans %v boards %d chips %d/%d", r.FansRPM, len(r.Boards), r.ChipsFound, r.ChipsExpected)
			}
			approx(t, "chip max", r.ChipMaxC, 69.5)
		},
	},
}

func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %g, want %g", what, got, want)
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadingFromFixtures(t *testing.T) {
	for _, tc := range readingCases {
		t.Run(tc.name, func(t *testing.T) {
			s := newFixtureServer(t, tc.files)
			s.multi = tc.multi
			host, port := s.host()
			m, err := Open(Target{Host: host, CGMinerPort: port}, tc.dialect, Identity{}, Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.Read(context.Background())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func TestReadingWhatsminerFixture(t *testing.T) {
	summary, _ := os.ReadFile(filepath.Join("testdata", "whatsminer_summary.json"))
	edevs, _ := os.ReadFile(filepath.Join("testdata", "whatsminer_edevs.json"))
	addr := whatsminerFixture(t, func(req map[string]any) []byte {
		switch req["param"] {
		case "summary":
			return summary
		case "edevs":
			return edevs
		}
		return []byte(`{"code":-2,"when":1700000000,"msg":"invalid param","desc":"get.miner.status"}`)
	})
	api := &WhatsminerAPI{Addr: addr, Timeout: 2 * time.Second}
	w := &whatsminer{base: &base{t: Target{Host: "127.0.0.1"}, d: DialectWhatsminer, id: Identity{Model: "WhatsMiner M50S"}}, api: api}
	r, err := w.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "hashrate", r.HashrateTHs, 125.9)
	approx(t, "ideal", r.HashrateIdealTHs, 126)
	approx(t, "power", r.PowerW, 3270)
	approx(t, "inlet", r.InletC, 27.5)
	approx(t, "outlet", r.OutletC, 52)
	approx(t, "chip max", r.ChipMaxC, 78)
	if r.ChipsFound != 332 || len(r.FansRPM) != 2 || r.Make != "MicroBT" || r.State != StateHashing {
		t.Errorf("chips %d fans %v make %q state %s", r.ChipsFound, r.FansRPM, r.Make, r.State)
	}
	if r.Uptime != time.Hour {
		t.Errorf("uptime = %v, want 1h", r.Uptime)
	}
}

// The btminer 4028 summary ends in `"id":1` without the closing brace, has
// a trailing comma, inf and MHS units: all must decode.
func TestTruncatedBtminerSummary(t *testing.T) {
	s := newFixtureServer(t, map[string]string{"summary": "whatsminer_btminer_summary_truncated.json"})
	c := &CGMiner{Addr: s.addr()}
	resp, err := c.Do(context.Background(), "summary")
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	var r Reading
	fromCGMiner(&r, map[string]*Response{"summary": resp})
	approx(t, "hashrate", r.HashrateTHs, 125.9)
	approx(t, "power", r.PowerW, 3270)
	approx(t, "power limit", r.PowerLimitW, 3300)
	if r.HWErrorRate != 0 {
		t.Errorf("Device Hardware%% inf should read as missing, got %g", r.HWErrorRate)
	}
}

var quantityCases = []struct {
	in     any
	want   float64
	unit   string
	scaled bool
}{
	{"3250 W", 3250, "W", false},
	{"262K", 262000, "", true},
	{"13.5T", 13.5e12, "", true},
	{"110 GH/s", 110e9, "H/s", true},
	{"85%", 85, "%", false},
	{"71 °C", 71, "C", false},
	{"2.8kW", 2800, "W", true},
	{"-12.5", -12.5, "", false},
	{"1e3", 1000, "", false},
}

func TestQuantity(t *testing.T) {
	for _, tc := range quantityCases {
		got, unit, scaled, ok := Quantity(tc.in)
		if !ok || math.Abs(got-tc.want) > 1e-9*math.Abs(tc.want) || unit != tc.unit || scaled != tc.scaled {
			t.Errorf("Quantity(%q) = %g %q %v %v, want %g %q %v", tc.in, got, unit, scaled, ok, tc.want, tc.unit, tc.scaled)
		}
	}
	for _, bad := range []any{"", "W", "abc", true, nil, "inf"} {
		if _, _, _, ok := Quantity(bad); ok {
			t.Errorf("Quantity(%v) ok, want not a number", bad)
		}
	}
}

// FuzzReading checks that extracting a Reading from any decodable reply
// never panics, whichever section the bytes land in.
func FuzzReading(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	texts, _ := filepath.Glob("testdata/*.txt") // cgminer text replies, single and joined
	for _, p := range append(files, texts...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = parseWhatsminer(in)
		_, _ = parseTextReply(in)
		_, _ = parseReply("summary", in)
		_, _ = parseTextJoin(in)
		_, _, _ = decodeMulti(in)
		body, dmg, err := Decode(in)
		if err != nil {
			return
		}
		resp, _ := fromBody("x", body, dmg)
		rs := map[string]*Response{}
		for _, c := range []string{"summary", "stats", "devs", "pools", "power", "tunerstatus", "fans", "temps"} {
			rs[c] = resp
		}
		var r Reading
		sleep := fromCGMiner(&r, rs)
		r.classify(sleep, r.PowerW > 0)
		r.estimatePower()
		var w Reading
		fromWhatsminer(&w, body, body, body)
		if msg, ok := body["msg"].(map[string]any); ok {
			fromWhatsminer(&w, msg, msg, msg)
		}
	})
}

// BenchmarkDecodeStats is the client's per-reply cost on the biggest poll
// reply: a bmminer stats reply (with its `}{` quirk) decoded and read.
//
//	go test ./miner -run '^$' -bench DecodeStats
func BenchmarkDecodeStats(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "s19jpro_stats.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		resp, err := parseReply("stats", raw)
		if err != nil {
			b.Fatal(err)
		}
		var r Reading
		fromCGMiner(&r, map[string]*Response{"stats": resp})
	}
}
