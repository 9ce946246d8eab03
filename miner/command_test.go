package miner

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(2, 3) // 2 per second, bursts of 3
		start := time.Now()
		for range 7 {
			if err := l.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// 3 at once, then 4 more at 2/s: 2 s.
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("7 commands took %v, want 2s", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with no token and a short deadline = %v, want deadline exceeded", err)
		}
	})
}

// fakeMiner is a Miner whose telemetry follows a script in virtual time.
type fakeMiner struct {
	mu     sync.Mutex
	state  State
	sleeps int
	delay  time.Duration // sleep command → sleeping
}

func (f *fakeMiner) Read(context.Context) (Reading, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Reading{Addr: "10.0.0.7", State: f.state, PowerW: 3000}, nil
}
func (f *fakeMiner) Sleep(context.Context) (Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == StateSleeping {
		return AlreadyDone, nil
	}
	f.sleeps++
	time.AfterFunc(f.delay, func() { f.mu.Lock(); f.state = StateSleeping; f.mu.Unlock() })
	return Sent, nil
}
func (f *fakeMiner) Wake(context.Context) (Outcome, error)                { return Sent, nil }
func (f *fakeMiner) SetPowerTarget(context.Context, int) (Outcome, error) { return Sent, nil }
func (f *fakeMiner) SetProfile(context.Context, string) (Outcome, error)  { return Sent, nil }
func (f *fakeMiner) Reboot(context.Context) (Outcome, error)              { return Sent, nil }
func (f *fakeMiner) Blink(context.Context, bool) (Outcome, error)         { return Sent, nil }
func (f *fakeMiner) Target() Target                                       { return Target{Host: "10.0.0.7"} }
func (f *fakeMiner) Dialect() Dialect                                     { return DialectLuxOS }
func (f *fakeMiner) Identity() Identity                                   { return Identity{} }

func TestCommanderConfirmsAndAudits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		c := &Commander{Limiter: NewLimiter(1, 1), Log: slog.New(slog.NewTextHandler(&log, nil)),
			Confirm: 10 * time.Second, ConfirmEvery: time.Second}
		m := &fakeMiner{state: StateHashing, delay: 3 * time.Second}
		res := c.Run(context.Background(), m, Action{Kind: "sleep"})
		if res.Err != nil || !res.Confirms || res.Reading.State != StateSleeping || res.Outcome != Sent {
			t.Fatalf("result %+v, want sent and confirmed sleeping", res)
		}
		if res.Took < 3*time.Second || res.Took > 4*time.Second {
			t.Errorf("confirmed after %v, want 3–4 s (polled every second)", res.Took)
		}
		res = c.Run(context.Background(), m, Action{Kind: "sleep"})
		if res.Outcome != AlreadyDone || m.sleeps != 1 {
			t.Errorf("second sleep outcome %v with %d sleeps sent, want already and 1", res.Outcome, m.sleeps)
		}
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "miner=10.0.0.7") || !strings.Contains(lines[0], "action=sleep") ||
			!strings.Contains(lines[0], "outcome=sent") || !strings.Contains(lines[1], "outcome=already") {
			t.Errorf("audit log:\n%s", log.String())
		}
	})
}

func TestWaitStateTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &fakeMiner{state: StateHashing}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := WaitState(ctx, m, time.Second, StateSleeping)
		if err == nil || r.State != StateHashing || !strings.Contains(err.Error(), "still hashing") || !strings.Contains(err.Error(), "10.0.0.7") {
			t.Errorf("WaitState = %v, %v; want an error naming the miner and its state", r.State, err)
		}
	})
}

var selectionCases = []struct {
	sel     Selection
	want    []string
	wantErr string
}{
	{Selection{IPs: "10.0.0.5, 10.0.0.9"}, []string{"10.0.0.5", "10.0.0.9"}, ""},
	{Selection{CIDR: "10.0.1.0/30"}, []string{"10.0.1.1", "10.0.1.2"}, ""},
	{Selection{CIDR: "10.0.1.8/31"}, []string{"10.0.1.8", "10.0.1.9"}, ""},
	{Selection{Ranges: "10.0.2.254-10.0.3.1"}, []string{"10.0.2.254", "10.0.2.255", "10.0.3.0", "10.0.3.1"}, ""},
	{Selection{IPs: "10.0.0.1", Ranges: "10.0.0.1-10.0.0.2"}, []string{"10.0.0.1", "10.0.0.2"}, ""},
	{Selection{}, nil, "no miners selected"},
	{Selection{IPs: "10.0.0.300"}, nil, `--ips "10.0.0.300"`},
	{Selection{CIDR: "10.0.0.0/8"}, nil, "larger than a /16"},
	{Selection{Ranges: "10.0.0.9-10.0.0.1"}, nil, "before the first"},
	{Selection{Ranges: "10.0.0.9"}, nil, "want first-last"},
}

func TestSelection(t *testing.T) {
	for _, tc := range selectionCases {
		got, err := tc.sel.Addrs()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tc.sel, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.sel, err)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if strings.Join(s, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%+v = %v, want %v", tc.sel, s, tc.want)
		}
	}
}

var versionCases = []struct {
	version map[string]any
	dialect Dialect
	model   string
}{
	{map[string]any{"LUXminer": "2024.11.1", "Type": "Antminer S19 XP"}, DialectLuxOS, "Antminer S19 XP"},
	{map[string]any{"BOSminer": "bosminer-plus-tuner 1.2.0", "BOSer": "x"}, DialectBraiins, ""},
	{map[string]any{"BMMiner": "1.0.0", "Type": "Antminer S19j Pro"}, DialectAntminer, "Antminer S19j Pro"},
	{map[string]any{"CGMiner": "4.9.0", "Type": "Antminer S9"}, DialectAntminer, "Antminer S9"},
	{map[string]any{"BTMiner": "20240603.18.REL", "Type": "WhatsMiner M50S"}, DialectWhatsminer, "WhatsMiner M50S"},
	{map[string]any{"CGMiner": "4.12.0"}, DialectCGMiner, ""},
}

func TestClassifyVersion(t *testing.T) {
	for _, tc := range versionCases {
		d, id := classifyVersion(tc.version)
		if d != tc.dialect || id.Model != tc.model {
			t.Errorf("classifyVersion(%v) = %s %q, want %s %q", tc.version, d, id.Model, tc.dialect, tc.model)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/good.json"
	os.WriteFile(good, []byte(`{"default":{"user":"root","password":"site"},"whatsminer":{"user":"super","password":"wm"},"10.0.0.9":{"user":"root","password":"odd"}}`), 0o600)
	cf, err := LoadCredentials(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		d    Dialect
		want string
	}{{"10.0.0.9", DialectWhatsminer, "odd"}, {"10.0.0.1", DialectWhatsminer, "wm"}, {"10.0.0.1", DialectAntminer, "site"}} {
		if got := cf.For(Target{Host: tc.host}, tc.d); got.Password != tc.want {
			t.Errorf("For(%s, %s) = %+v, want password %q", tc.host, tc.d, got, tc.want)
		}
	}
	for body, want := range map[string]string{
		`{"avalon":{"user":"a","password":"b"}}`: `key "avalon"`,
		`{"default":{"user":"a"}}`:               "password",
		`{"default":{"user":"a","pass":"b"}}`:    "unknown field",
		`[1]`:                                    "cannot unmarshal",
	} {
		p := dir + "/bad.json"
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := LoadCredentials(p); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadCredentials(%s) = %v, want an error naming the file and %q", body, err, want)
		}
	}
}
