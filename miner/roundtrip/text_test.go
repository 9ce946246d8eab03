package roundtrip

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/miner"
)

// TestPlainTextRequests: stock bmminer answers plain-text requests in
// cgminer's text format (`STATUS=S,...|SUMMARY,...|`); the client decodes
// it to the same figures as the JSON reply to the same command, and a
// refused command's text STATUS E still becomes an APIError. Dialects whose
// firmware answers JSON to plain requests decode as before.
func TestPlainTextRequests(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 13, Net: testNet(158)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	for _, mi := range f.Miners() {
		t.Run(mi.Firmware.String(), func(t *testing.T) {
			text := &miner.CGMiner{Addr: mi.CGMiner.String(), Plain: true, Timeout: 2 * time.Second}
			js := &miner.CGMiner{Addr: mi.CGMiner.String(), Timeout: 2 * time.Second}
			for _, tc := range []struct {
				cmd, section, key string
			}{
				{"summary", "SUMMARY", "Elapsed"},
				{"pools", "POOLS", "Accepted"},
				{"version", "VERSION", "API"},
				{"devs", "DEVS", "Temperature"},
			} {
				if mi.Firmware == emulator.Braiins && tc.cmd == "devs" {
					continue
				}
				rt, err := text.Do(ctx, tc.cmd)
				if err != nil {
					t.Fatalf("plain %s: %v", tc.cmd, err)
				}
				rj, err := js.Do(ctx, tc.cmd)
				if err != nil {
					t.Fatalf("JSON %s: %v", tc.cmd, err)
				}
				if rt.Status.Status != "S" || rt.Status.Code != rj.Status.Code || rt.Status.Msg != rj.Status.Msg {
					t.Errorf("%s: text STATUS %+v, JSON %+v", tc.cmd, rt.Status, rj.Status)
				}
				st, sj := rt.Section(tc.section), rj.Section(tc.section)
				if len(st) == 0 || len(st) != len(sj) {
					t.Fatalf("%s: %d %s entries in text, %d in JSON", tc.cmd, len(st), tc.section, len(sj))
				}
				gt, _ := miner.String(st[len(st)-1][tc.key])
				gj, _ := miner.String(sj[len(sj)-1][tc.key])
				if gt == "" || gt != gj {
					t.Errorf("%s %s: text %q, JSON %q", tc.cmd, tc.key, gt, gj)
				}
			}
			if mi.Firmware != emulator.Stock {
				return
			}
			// The stats board record: chips, fans, temperatures, hashrate.
			rt, err := text.Do(ctx, "stats")
			if err != nil {
				t.Fatal(err)
			}
			rj, err := js.Do(ctx, "stats")
			if err != nil {
				t.Fatal(err)
			}
			bt, bj := rt.Section("STATS"), rj.Section("STATS")
			if len(bt) == 0 || len(bj) != 2 {
				t.Fatalf("STATS: %d text entries, %d JSON", len(bt), len(bj))
			}
			board := bt[len(bt)-1]
			for _, k := range []string{"chain_acs1", "temp_chip1", "fan5", "GHS 5s", "chain_rate2", "Mode", "total_rateideal"} {
				a, _ := miner.String(board[k])
				b, _ := miner.String(bj[1][k])
				if a == "" || a != b {
					t.Errorf("stats %s: text %q, JSON %q", k, a, b)
				}
			}
			if ok, bad := miner.ChipMap(board["chain_acs1"].(string)); ok == 0 || bad != 0 {
				t.Errorf("chain_acs1 from text: %d ok, %d bad", ok, bad)
			}
			gh, _ := miner.Float(board["GHS 5s"])
			if want := f.Telemetry(mi.Index).HashGH; !near(gh, want, 0.01) {
				t.Errorf("GHS 5s from text = %.1f, want %.1f", gh, want)
			}
			_, err = text.Do(ctx, "curtail", "x", "sleep")
			var ae *miner.APIError
			if !errors.As(err, &ae) || ae.Status != "E" || ae.Code != 45 {
				t.Errorf("refused command in text = %v, want APIError E 45", err)
			}
			wantNamed(t, err, mi.CGMiner.String(), nil)
		})
	}
}

// TestPlainMultiCommand: a plain `summary+stats+pools` gets cgminer's text
// join from stock bmminer (CMD=summary|STATUS=...|...), JSON joins from
// LUXminer, and E 14 from bosminer and btminer, which the client answers
// with parallel single requests. Every form must read to the same figures
// as the JSON multi-command.
func TestPlainMultiCommand(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 13, Net: testNet(159)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	for _, mi := range f.Miners() {
		t.Run(mi.Firmware.String(), func(t *testing.T) {
			cmds := []string{"summary", "pools"}
			if mi.Firmware == emulator.Stock || mi.Firmware == emulator.LuxOS {
				cmds = append(cmds, "stats")
			}
			text := &miner.CGMiner{Addr: mi.CGMiner.String(), Plain: true, Timeout: 2 * time.Second}
			js := &miner.CGMiner{Addr: mi.CGMiner.String(), Timeout: 2 * time.Second}
			rt, err := text.Multi(ctx, cmds...)
			if err != nil {
				t.Fatalf("plain %v: %v", cmds, err)
			}
			rj, err := js.Multi(ctx, cmds...)
			if err != nil {
				t.Fatalf("JSON %v: %v", cmds, err)
			}
			for _, cmd := range cmds {
				if rt[cmd] == nil || rt[cmd].Status.Code != rj[cmd].Status.Code {
					t.Fatalf("%s: plain %+v, JSON %+v", cmd, rt[cmd], rj[cmd])
				}
			}
			at, _ := miner.String(rt["summary"].First("SUMMARY")["Elapsed"])
			aj, _ := miner.String(rj["summary"].First("SUMMARY")["Elapsed"])
			if at == "" || at != aj {
				t.Errorf("summary Elapsed: plain %q, JSON %q", at, aj)
			}
			if n, m := len(rt["pools"].Section("POOLS")), len(rj["pools"].Section("POOLS")); n == 0 || n != m {
				t.Errorf("pools: plain %d, JSON %d", n, m)
			}
		})
	}
}
