package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
)

// minersFleet starts one emulated miner of each firmware in 127.171.0.0/16.
func minersFleet(t *testing.T) (*emulator.Fleet, []string) {
	t.Helper()
	f, err := emulator.NewFleet(emulator.Config{Count: 4, Seed: 21, Listen: emulator.ListenPerMiner,
		Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1",
		Net: netip.AddrFrom4([4]byte{127, 171, 0, 0})})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	f.Advance(30 * time.Minute)
	// The emulator binds the real ports when it can; pass whatever it got.
	var ports []string
	for _, mi := range f.Miners() {
		if mi.HTTP.IsValid() {
			ports = append(ports, "--http-port", strconv.Itoa(int(mi.HTTP.Port())))
			break
		}
	}
	ports = append(ports, "--port", strconv.Itoa(int(f.Miner(0).CGMiner.Port())))
	return f, ports
}

func runM(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runMiners(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestMinersScan(t *testing.T) {
	f, ports := minersFleet(t)
	out, _, err := runM(t, append([]string{"scan", "--cidr", "127.171.1.0/29", "--json", "--timeout", "500ms"}, ports...)...)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	var rows []struct {
		Addr, Dialect, Model, State string
		THs                         float64 `json:"ths"`
		Watts                       float64 `json:"watts"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("scan --json: %v\n%s", err, out)
	}
	if len(rows) != 4 {
		t.Fatalf("scan found %d miners, want 4 (127.171.1.5-6 are empty):\n%s", len(rows), out)
	}
	want := map[string]string{}
	for _, mi := range f.Miners() {
		want[mi.Addr.String()] = mi.Model
	}
	for _, r := range rows {
		if want[r.Addr] != r.Model || r.State != "hashing" || r.THs < 90 || r.Watts < 2500 {
			t.Errorf("row %+v, want model %q hashing at ≥ 90 TH/s", r, want[r.Addr])
		}
	}
	table, stderr, err := runM(t, append([]string{"scan", "--range", "127.171.1.1-127.171.1.4"}, ports...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ADDRESS", "MAKE/MODEL", "TH/s", "127.171.1.4", "WhatsMiner M50S", "~"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
	if !strings.Contains(stderr, "4 of 4 addresses answered") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestMinersSleepWakeProfile(t *testing.T) {
	f, ports := minersFleet(t)
	var lux string
	var luxIdx int
	for _, mi := range f.Miners() {
		if mi.Firmware == emulator.LuxOS {
			lux, luxIdx = mi.Addr.String(), mi.Index
		}
	}
	// By default the command waits for telemetry: run the emulator's clock
	// meanwhile so the LuxOS miner powers down.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				f.Advance(time.Second)
			}
		}
	}()
	out, stderr, err := runM(t, append([]string{"sleep", "--ips", lux}, ports...)...)
	close(done)
	if err != nil {
		t.Fatalf("sleep: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, lux) || !strings.Contains(out, "sleep: ok, confirmed sleeping") {
		t.Errorf("sleep output %q, want confirmed by telemetry", out)
	}
	if !strings.Contains(stderr, "miner command") || !strings.Contains(stderr, "action=sleep") {
		t.Errorf("no audit line in %q", stderr)
	}
	f.Advance(30 * time.Second)
	out, _, err = runM(t, append([]string{"sleep", "--ips", lux, "--json"}, ports...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct{ Addr, Outcome, Action string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0].Outcome != "already" {
		t.Errorf("second sleep --json = %s (%v), want outcome already", out, err)
	}
	// --model picks the LuxOS S19 XP out of the whole block.
	out, _, err = runM(t, append([]string{"profile", "-2", "--cidr", "127.171.1.0/29", "--model", "s19 xp", "--json"}, ports...)...)
	if err != nil {
		t.Fatalf("profile: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0].Addr != lux || rows[0].Action != "profile -2" {
		t.Errorf("profile --model output %s, want only %s", out, lux)
	}
	if _, _, err := runM(t, append([]string{"wake", "--ips", lux, "--wait", "0"}, ports...)...); err != nil {
		t.Errorf("wake: %v", err)
	}
	if c := f.Commands(luxIdx); c.Sleep != 1 || c.Wake != 1 || c.Profile != 1 || c.Repeats != 0 {
		t.Errorf("emulator saw %+v, want one sleep, one profile, one wake, no repeats", c)
	}
}

func TestMinersBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"explode", "--ips", "127.0.0.1"},
		{"sleep"},
		{"power", "lots", "--ips", "127.0.0.1"},
		{"scan", "--cidr", "10.0.0.0/8"},
		{"scan", "--range", "127.0.0.9-127.0.0.1"},
		{"scan", "--ips", "127.0.0.1", "--dialect", "avalon"},
	} {
		_, _, err := runM(t, args...)
		if err == nil || !errors.Is(err, errUsage) {
			t.Errorf("miners %v: err = %v, want a usage error", args, err)
		}
	}
	// A miner that is not there is a failure naming it, not a usage error.
	_, _, err := runM(t, "sleep", "--ips", "127.171.9.9", "--timeout", "200ms")
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("sleep on an empty address: err = %v, want a failure", err)
	}
}
