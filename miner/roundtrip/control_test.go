package roundtrip

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator"
	"github.com/jouleworks/joule/miner"
)

// untilState advances the emulator's simulated clock in steps and reads the
// miner through the client after each step, until the reading satisfies ok.
// It returns the simulated time that took and the confirming reading. Read
// errors are expected on the way (stock firmware restarts its API on wake).
func untilState(t *testing.T, f *emulator.Fleet, m miner.Miner, step, limit time.Duration, ok func(miner.Reading) bool) (time.Duration, miner.Reading) {
	t.Helper()
	ctx := context.Background()
	var last miner.Reading
	var lastErr error
	for el := time.Duration(0); el <= limit; el += step {
		r, err := m.Read(ctx)
		if err == nil {
			last, lastErr = r, nil
			if ok(r) {
				return el, r
			}
		} else {
			lastErr = err
		}
		f.Advance(step)
	}
	t.Fatalf("not reached within %v simulated: last reading state %s %.0f W %.1f TH/s (last error %v)", limit, last.State, last.PowerW, last.HashrateTHs, lastErr)
	return 0, last
}

// timing is what the documentation says each firmware takes; the emulator
// must match it as seen through the client's telemetry.
type timing struct {
	sleepMax   time.Duration // command → sleeping at control-board power
	wakeMin    time.Duration // command → hashing again (telemetry state)
	wakeMax    time.Duration
	sleepWatts float64 // measured sleep power ceiling (0: firmware does not measure)
}

var timings = map[emulator.Firmware]timing{
	// LuxOS docs: curtail sleep drops to ~25 W within seconds, wakeup back
	// hashing in under 10 s.
	emulator.LuxOS: {sleepMax: 5 * time.Second, wakeMax: 10 * time.Second, sleepWatts: 40},
	// Stock: miner-mode 1 → 0 restarts bmminer: chain init and frequency
	// ramp, minutes.
	emulator.Stock: {sleepMax: 30 * time.Second, wakeMin: time.Minute, wakeMax: 10 * time.Minute},
	// Braiins OS+: pause/resume restarts the tuner on saved profiles.
	emulator.Braiins: {sleepMax: 10 * time.Second, wakeMax: 2 * time.Minute, sleepWatts: 60},
	// Whatsminer: service start is a cold miner start, 1–2 minutes.
	emulator.Whatsminer: {sleepMax: 15 * time.Second, wakeMin: time.Minute, wakeMax: 3 * time.Minute, sleepWatts: 60},
}

// TestControlEveryDialect drives every command of every dialect against the
// emulator, checks the emulator saw exactly the commands that were needed
// (idempotent calls send nothing), and checks sleep and wake times read
// back through client telemetry against the documented firmware behaviour.
func TestControlEveryDialect(t *testing.T) {
	f := startFleet(t, emulator.Config{Count: 4, Mix: allDialects, Seed: 7, Net: testNet(153)})
	f.Advance(30 * time.Minute)
	ctx := context.Background()
	for i, mi := range f.Miners() {
		t.Run(mi.Firmware.String(), func(t *testing.T) {
			m, err := miner.Dial(ctx, target(mi), miner.Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			before, err := m.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tm := timings[mi.Firmware]

			// Sleep, confirmed by telemetry, within the documented time.
			if out, err := m.Sleep(ctx); err != nil || out != miner.Sent {
				t.Fatalf("sleep = %v, %v; want sent", out, err)
			}
			took, r := untilState(t, f, m, 500*time.Millisecond, 10*time.Minute, func(r miner.Reading) bool {
				return r.State == miner.StateSleeping && (tm.sleepWatts == 0 || r.PowerW <= tm.sleepWatts)
			})
			if took > tm.sleepMax {
				t.Errorf("sleep confirmed after %v simulated, want ≤ %v", took, tm.sleepMax)
			}
			if tm.sleepWatts > 0 && r.PowerEstimated {
				t.Errorf("sleep power is estimated; %s measures it", mi.Firmware)
			}
			t.Logf("sleep: %v to %s at %.0f W", took, r.State, r.PowerW)
			if out, err := m.Sleep(ctx); err != nil || out != miner.AlreadyDone {
				t.Errorf("second sleep = %v, %v; want already (nothing sent)", out, err)
			}
			if c := f.Commands(i); c.Sleep != 1 || c.Repeats != 0 {
				t.Errorf("emulator saw %+v, want exactly one sleep and no repeats", c)
			}

			// A curtailment lasts minutes; by then the firmware's decaying
			// 5 s hashrate average has reached zero.
			f.Advance(10 * time.Minute)

			// Wake: back hashing within the documented time, then to ≥ 90 %
			// of the hashrate before sleep (the 5 s average lags the ramp).
			if out, err := m.Wake(ctx); err != nil || out != miner.Sent {
				t.Fatalf("wake = %v, %v; want sent", out, err)
			}
			took, r = untilState(t, f, m, 500*time.Millisecond, 20*time.Minute, func(r miner.Reading) bool {
				return r.State == miner.StateHashing
			})
			if took < tm.wakeMin || took > tm.wakeMax {
				t.Errorf("wake took %v simulated to hashing, want %v…%v", took, tm.wakeMin, tm.wakeMax)
			}
			full, r := untilState(t, f, m, 500*time.Millisecond, 20*time.Minute, func(r miner.Reading) bool {
				return r.HashrateTHs >= 0.9*before.HashrateTHs
			})
			t.Logf("wake: %v to hashing, %v more to %.1f TH/s", took, full, r.HashrateTHs)
			if out, err := m.Wake(ctx); err != nil || out != miner.AlreadyDone {
				t.Errorf("second wake = %v, %v; want already", out, err)
			}
			if c := f.Commands(i); c.Wake != 1 || c.Repeats != 0 {
				t.Errorf("emulator saw %+v, want exactly one wake and no repeats", c)
			}

			// Power: each dialect's native form.
			switch mi.Firmware {
			case emulator.LuxOS:
				if out, err := m.SetProfile(ctx, "-2"); err != nil || out != miner.Sent {
					t.Fatalf("profile -2 = %v, %v", out, err)
				}
				if p := f.Telemetry(i).Profile; p != -2 {
					t.Errorf("emulator profile = %d, want -2 (ATM must have been turned off first)", p)
				}
				if out, err := m.SetProfile(ctx, "-2"); err != nil || out != miner.AlreadyDone {
					t.Errorf("repeat profile -2 = %v, %v; want already", out, err)
				}
				if _, err := m.SetPowerTarget(ctx, 2500); err != nil {
					t.Errorf("power target: %v", err)
				}
				if c := f.Commands(i); c.Profile != 1 || c.PowerTarget != 1 || c.Refused != 0 {
					t.Errorf("emulator saw %+v, want one profile, one power target, none refused", c)
				}
			case emulator.Stock:
				web := &miner.AntminerWeb{Base: target(mi).HTTPBase(), User: "root", Password: mi.Password}
				conf0, err := web.Conf(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if out, err := m.SetProfile(ctx, "low"); err != nil || out != miner.Sent {
					t.Fatalf("profile low = %v, %v", out, err)
				}
				// The mode write must keep pools, fan and frequency settings.
				conf1, err := web.Conf(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if mode, _ := miner.Int(conf1["miner-mode"]); mode != miner.AntminerModeLow {
					t.Errorf("miner-mode after profile low = %v, want 3", conf1["miner-mode"])
				}
				for _, k := range []string{"miner-mode", "bitmain-work-mode"} {
					delete(conf0, k)
					delete(conf1, k)
				}
				if !reflect.DeepEqual(conf0, conf1) {
					t.Errorf("config changed beyond the mode:\nbefore %v\nafter  %v", conf0, conf1)
				}
				if out, err := m.SetProfile(ctx, "low"); err != nil || out != miner.AlreadyDone {
					t.Errorf("repeat profile low = %v, %v; want already", out, err)
				}
				if _, err := m.SetPowerTarget(ctx, 2500); !errors.Is(err, miner.ErrUnsupported) {
					t.Errorf("stock power target error = %v, want ErrUnsupported", err)
				}
				if c := f.Commands(i); c.Profile != 1 {
					t.Errorf("emulator saw %+v, want one mode change", c)
				}
			case emulator.Braiins, emulator.Whatsminer:
				if out, err := m.SetPowerTarget(ctx, 2800); err != nil || out != miner.Sent {
					t.Fatalf("power 2800 = %v, %v", out, err)
				}
				f.Advance(time.Minute)
				if out, err := m.SetProfile(ctx, "2800W"); err != nil || out != miner.AlreadyDone {
					t.Errorf("repeat 2800W = %v, %v; want already", out, err)
				}
				if c := f.Commands(i); c.PowerTarget != 1 {
					t.Errorf("emulator saw %+v, want one power target", c)
				}
				untilState(t, f, m, time.Second, 10*time.Minute, func(r miner.Reading) bool { return r.PowerW <= 2800*1.03 })
			}

			// Blink on and off, then reboot.
			if _, err := m.Blink(ctx, true); err != nil {
				t.Fatalf("blink on: %v", err)
			}
			if !f.Telemetry(i).LED {
				t.Error("LED off after blink on")
			}
			if _, err := m.Blink(ctx, false); err != nil {
				t.Fatalf("blink off: %v", err)
			}
			if f.Telemetry(i).LED {
				t.Error("LED on after blink off")
			}
			if _, err := m.Reboot(ctx); err != nil {
				t.Fatalf("reboot: %v", err)
			}
			if c := f.Commands(i); c.Reboot != 1 || c.Blink != 2 {
				t.Errorf("emulator saw %+v, want 1 reboot and 2 blinks", c)
			}
			untilState(t, f, m, 2*time.Second, 20*time.Minute, func(r miner.Reading) bool { return r.State == miner.StateHashing })
		})
	}
}
