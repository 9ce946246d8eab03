package roundtrip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/emulator/physics"
	"github.com/jouleworks/joule/miner"
)

func wantNamed(t *testing.T, err error, host string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one naming %s", host)
	}
	if !strings.Contains(err.Error(), "miner "+host) {
		t.Errorf("error %q does not name miner %s", err, host)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q is not %v", err, target)
	}
}

// TestErrorsAgainstEmulator: a wrong password, a refused command, a closed
// port and a reply that never comes each give a clear error naming the
// miner, on every dialect where the case exists.
func TestErrorsAgainstEmulator(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 9, Net: testNet(154)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	wrong := miner.Options{Timeout: 2 * time.Second, Credentials: func(_ miner.Target, d miner.Dialect) miner.Credentials {
		return miner.Credentials{User: miner.DefaultCredentials[d].User, Password: "not-the-password"}
	}}
	byFw := map[emulator.Firmware]emulator.MinerInfo{}
	for _, mi := range f.Miners() {
		byFw[mi.Firmware] = mi
	}

	t.Run("wrong password", func(t *testing.T) {
		for _, fw := range []emulator.Firmware{emulator.Stock, emulator.Braiins, emulator.Whatsminer} {
			mi := byFw[fw]
			m, err := miner.Dial(ctx, target(mi), wrong)
			if err != nil {
				t.Fatal(err)
			}
			var op func() error
			switch fw {
			case emulator.Stock:
				op = func() error { _, err := m.SetProfile(ctx, "low"); return err }
			case emulator.Braiins:
				op = func() error { _, err := m.SetPowerTarget(ctx, 2800); return err }
			case emulator.Whatsminer:
				op = func() error { _, err := m.SetPowerTarget(ctx, 2800); return err }
			}
			err = op()
			wantNamed(t, err, mi.Addr.String(), miner.ErrAuth)
			t.Logf("%s: %v", fw, err)
		}
	})

	t.Run("refused command", func(t *testing.T) {
		// Stock 4028 is read-only; LuxOS refuses profileset while ATM runs.
		mi := byFw[emulator.Stock]
		_, err := (&miner.CGMiner{Addr: mi.CGMiner.String()}).Do(ctx, "curtail", "x", "sleep")
		wantNamed(t, err, mi.CGMiner.String(), nil)
		var ae *miner.APIError
		if !errors.As(err, &ae) || ae.Status != "E" {
			t.Errorf("error %v, want an APIError with STATUS E", err)
		}
		lux := byFw[emulator.LuxOS]
		cg := &miner.CGMiner{Addr: lux.CGMiner.String()}
		resp, err := cg.Do(ctx, "logon")
		if err != nil {
			t.Fatal(err)
		}
		sid, _ := miner.String(resp.First("SESSION")["SessionID"])
		_, err = cg.Do(ctx, "profileset", sid, "-1")
		cg.Do(ctx, "logoff", sid)
		wantNamed(t, err, lux.CGMiner.String(), nil)
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), "ATM") {
			t.Errorf("error %v, want the firmware's ATM refusal", err)
		}
		// Whatsminer refuses a power limit outside the model's range.
		wm := byFw[emulator.Whatsminer]
		m, _ := miner.Dial(ctx, target(wm), miner.Options{})
		_, err = m.SetPowerTarget(ctx, 100)
		wantNamed(t, err, wm.Addr.String(), nil)
		if !errors.As(err, &ae) || ae.Code >= 0 {
			t.Errorf("error %v, want a negative Whatsminer code", err)
		}
	})

	t.Run("session held by another controller", func(t *testing.T) {
		lux := byFw[emulator.LuxOS]
		cg := &miner.CGMiner{Addr: lux.CGMiner.String()}
		resp, err := cg.Do(ctx, "logon")
		if err != nil {
			t.Fatal(err)
		}
		sid, _ := miner.String(resp.First("SESSION")["SessionID"])
		m, _ := miner.Dial(ctx, target(lux), miner.Options{})
		_, err = m.Sleep(ctx)
		wantNamed(t, err, lux.CGMiner.String(), nil)
		if !strings.Contains(err.Error(), "logon") {
			t.Errorf("error %q should say the logon was refused", err)
		}
		cg.Do(ctx, "logoff", sid)
		if _, err := m.Sleep(ctx); err != nil {
			t.Errorf("sleep after the other session ended: %v", err)
		}
	})

	t.Run("closed port", func(t *testing.T) {
		// Nothing listens on 4029 of a LuxOS miner's address.
		mi := byFw[emulator.LuxOS]
		tg := target(mi)
		tg.CGMinerPort = 4029
		m, _ := miner.Open(tg, miner.DialectLuxOS, miner.Identity{}, miner.Options{})
		_, err := m.Read(ctx)
		wantNamed(t, err, tg.CGMinerAddr(), nil)
		if !strings.Contains(err.Error(), "refused") {
			t.Errorf("error %q should say connection refused", err)
		}
		_, err = m.Sleep(ctx)
		wantNamed(t, err, tg.CGMinerAddr(), nil)
	})

	t.Run("whatsminer API v3 off", func(t *testing.T) {
		// With 4433 closed the Whatsminer is still read through btminer's
		// 4028 API; a command that needs API v3 names the closed port.
		mi := byFw[emulator.Whatsminer]
		tg := target(mi)
		tg.WhatsminerPort = 4434
		m, _ := miner.Open(tg, miner.DialectWhatsminer, miner.Identity{Model: mi.Model}, miner.Options{})
		r, err := m.Read(ctx)
		if err != nil {
			t.Fatalf("read through 4028: %v", err)
		}
		tel := f.Telemetry(mi.Index)
		if !near(r.HashrateTHs, tel.HashGH/1000, 0.01) || !near(r.PowerW, tel.PowerW, 0.01) || len(r.FansRPM) != 2 || r.InletC == 0 {
			t.Errorf("btminer reading %.1f TH/s %.0f W fans %v inlet %.1f, want %.1f TH/s %.0f W", r.HashrateTHs, r.PowerW, r.FansRPM, r.InletC, tel.HashGH/1000, tel.PowerW)
		}
		_, err = m.SetPowerTarget(ctx, 3000)
		if err == nil {
			// SetPowerTarget reads first (works) and then needs 4433.
			t.Fatal("power target with API v3 off succeeded")
		}
		wantNamed(t, err, tg.WhatsminerAddr(), nil)
	})

	t.Run("half-written reply", func(t *testing.T) {
		// The network fault in "cut" mode at its failure point: the miner
		// reads the request, writes a random prefix of its real reply and
		// closes. Every dialect's 4028 reply, and Whatsminer's framed API
		// v3 reply, must give ErrTruncated naming the miner.
		fault := func(i int) {
			t.Helper()
			if err := f.InjectFault(i, physics.Fault{Kind: physics.NetworkTimeout, Start: f.Elapsed() - 1, FailAt: f.Elapsed(), Mode: physics.NetCut}); err != nil {
				t.Fatal(err)
			}
			f.Advance(time.Second)
		}
		for _, fw := range []emulator.Firmware{emulator.Stock, emulator.LuxOS, emulator.Braiins, emulator.Whatsminer} {
			mi := byFw[fw]
			fault(mi.Index)
			// Several requests: each is cut at a different random point.
			for k := range 5 {
				cg := &miner.CGMiner{Addr: mi.CGMiner.String(), Timeout: 2 * time.Second}
				_, err := cg.Do(ctx, "summary")
				wantNamed(t, err, mi.CGMiner.String(), miner.ErrTruncated)
				if k == 0 {
					t.Logf("%s: %v", fw, err)
				}
			}
			m, _ := miner.Open(target(mi), dialectOf[fw], miner.Identity{Make: mi.Make, Model: mi.Model}, miner.Options{Timeout: 2 * time.Second})
			_, err := m.Read(ctx)
			wantNamed(t, err, mi.Addr.String(), miner.ErrTruncated)
			if fw == emulator.Whatsminer {
				_, err := m.SetPowerTarget(ctx, 3000)
				wantNamed(t, err, mi.Addr.String(), nil)
			}
			f.Repair(mi.Index)
			f.Advance(time.Second)
			if _, err := m.Read(ctx); err != nil {
				t.Errorf("%s after repair: %v", fw, err)
			}
		}
	})

	t.Run("dropped connection", func(t *testing.T) {
		// The network-timeout fault at its failure point: connections are
		// accepted and dropped without a reply.
		i := byFw[emulator.LuxOS].Index
		if err := f.InjectFault(i, physics.Fault{Kind: physics.NetworkTimeout, Start: f.Elapsed() - 1, FailAt: f.Elapsed(), Mode: physics.NetDrop}); err != nil {
			t.Fatal(err)
		}
		f.Advance(time.Second)
		mi := f.Miner(i)
		m, _ := miner.Dial(ctx, miner.Target{Host: mi.Addr.String(), Dialect: miner.DialectLuxOS, CGMinerPort: int(mi.CGMiner.Port())}, miner.Options{Timeout: time.Second})
		_, err := m.Read(ctx)
		wantNamed(t, err, mi.CGMiner.String(), nil)
		if !strings.Contains(err.Error(), "reset") && !errors.Is(err, miner.ErrTruncated) {
			t.Errorf("error %q should say the connection was reset or closed without a reply", err)
		}
	})
}
