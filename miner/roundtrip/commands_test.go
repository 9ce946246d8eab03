package roundtrip

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/miner"
)

// readCommands lists, per firmware, every read command of its 4028 API and
// the section its reply must carry ("" means the firmware refuses the
// command, as the real one does: btminer has no stats or config).
var readCommands = map[emulator.Firmware]map[string]string{
	emulator.Stock: {"version": "VERSION", "summary": "SUMMARY", "stats": "STATS", "devs": "DEVS",
		"edevs": "DEVS", "pools": "POOLS", "config": "CONFIG"},
	emulator.LuxOS: {"version": "VERSION", "summary": "SUMMARY", "stats": "STATS", "devs": "DEVS",
		"edevs": "DEVS", "pools": "POOLS", "config": "CONFIG", "power": "POWER", "profiles": "PROFILES",
		"profileget": "PROFILE", "atm": "ATM", "fans": "FANS", "temps": "TEMPS"},
	emulator.Braiins: {"version": "VERSION", "summary": "SUMMARY", "stats": "STATS", "devs": "DEVS",
		"edevs": "DEVS", "pools": "POOLS", "config": "CONFIG", "tunerstatus": "TUNERSTATUS",
		"fans": "FANS", "temps": "TEMPS"},
	emulator.Whatsminer: {"version": "VERSION", "summary": "SUMMARY", "devs": "DEVS", "edevs": "DEVS",
		"pools": "POOLS", "stats": "", "config": ""},
}

// TestEveryReadCommand sends every read command of every dialect, in both
// the JSON and the plain request form, and the multi-command form where
// the firmware supports it.
func TestEveryReadCommand(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 13, Net: testNet(156)})
	f.Advance(20 * time.Minute)
	ctx := context.Background()
	for _, mi := range f.Miners() {
		for _, plain := range []bool{false, true} {
			c := &miner.CGMiner{Addr: mi.CGMiner.String(), Plain: plain}
			for cmd, section := range readCommands[mi.Firmware] {
				var params []string
				if cmd == "profileget" {
					params = []string{"0"}
				}
				r, err := c.Do(ctx, cmd, params...)
				if section == "" {
					var ae *miner.APIError
					if !errors.As(err, &ae) || ae.Code != 14 {
						t.Errorf("%s %s: err = %v, want STATUS E code 14", mi.Firmware, cmd, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s %s (plain %v): %v", mi.Firmware, cmd, plain, err)
					continue
				}
				if len(r.Section(section)) == 0 || r.Status.Status != "S" || r.Status.When == 0 {
					t.Errorf("%s %s: status %+v, section %s has %d entries", mi.Firmware, cmd, r.Status, section, len(r.Section(section)))
				}
			}
		}
		c := &miner.CGMiner{Addr: mi.CGMiner.String()}
		rs, err := c.Multi(ctx, "summary", "devs", "pools")
		if err != nil {
			t.Errorf("%s summary+devs+pools: %v", mi.Firmware, err)
			continue
		}
		for cmd, sec := range map[string]string{"summary": "SUMMARY", "devs": "DEVS", "pools": "POOLS"} {
			if rs[cmd] == nil || len(rs[cmd].Section(sec)) == 0 {
				t.Errorf("%s multi: %s part missing", mi.Firmware, cmd)
			}
		}
	}
}

// TestWhatsminerAPI3Reads reads each API v3 get command.
func TestWhatsminerAPI3Reads(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 1, Mix: "m50s:whatsminer=1", Seed: 14, Net: testNet(157)})
	f.Advance(20 * time.Minute)
	mi := f.Miner(0)
	api := &miner.WhatsminerAPI{Addr: mi.API3.String()}
	ctx := context.Background()
	info, err := api.Get(ctx, "get.device.info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := miner.String(info.Object()["salt"]); len(s) != 8 {
		t.Errorf("salt %q, want 8 characters", s)
	}
	for _, p := range []string{"summary", "edevs", "pools"} {
		r, err := api.Get(ctx, "get.miner.status", p)
		if err != nil {
			t.Fatalf("get.miner.status %s: %v", p, err)
		}
		if r.Object()[p] == nil {
			t.Errorf("get.miner.status %s: no %q in msg %v", p, p, r.Msg)
		}
	}
	_, err = api.Get(ctx, "get.miner.status", "nonsense")
	var ae *miner.APIError
	if !errors.As(err, &ae) || ae.Code >= 0 {
		t.Errorf("bad param: err = %v, want a negative code", err)
	}
}
