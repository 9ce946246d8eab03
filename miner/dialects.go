package miner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// braiins controls Braiins OS+: cgminer-compatible pause/resume on 4028 and
// power target, reboot and locate through the REST API.
type braiins struct {
	*base
	rest *BraiinsREST
}

var _ Miner = (*braiins)(nil)

func (b *braiins) Read(ctx context.Context) (Reading, error) {
	r, sleep, err := b.readCG(ctx, "summary", "devs", "devdetails", "fans", "temps", "tunerstatus")
	if err != nil {
		return r, err
	}
	b.finish(&r, sleep)
	return r, nil
}

func (b *braiins) Sleep(ctx context.Context) (Outcome, error) {
	return ensure(ctx, b, asleep, func() error {
		_, err := b.cg.Do(ctx, "pause")
		return err
	})
}

func (b *braiins) Wake(ctx context.Context) (Outcome, error) {
	return ensure(ctx, b, awake, func() error {
		_, err := b.cg.Do(ctx, "resume")
		return err
	})
}

func (b *braiins) SetPowerTarget(ctx context.Context, watts int) (Outcome, error) {
	cur, err := b.rest.PowerTarget(ctx)
	if err != nil {
		return Sent, err
	}
	if int(math.Round(cur)) == watts {
		return AlreadyDone, nil
	}
	return Sent, b.rest.SetPowerTarget(ctx, watts)
}

func (b *braiins) SetProfile(ctx context.Context, profile string) (Outcome, error) {
	w, ok := parseWatts(profile)
	if !ok {
		return Sent, b.unsupported(fmt.Sprintf("profile %q (Braiins OS+ takes a wattage such as 2800W)", profile))
	}
	return b.SetPowerTarget(ctx, w)
}

func (b *braiins) Reboot(ctx context.Context) (Outcome, error) {
	return Sent, b.rest.Action(ctx, "reboot", nil)
}

func (b *braiins) Blink(ctx context.Context, on bool) (Outcome, error) {
	return Sent, b.rest.Action(ctx, "locate", map[string]bool{"enable": on})
}

// parseWatts accepts "2800", "2800W", "2800 W", "2.8kW".
func parseWatts(s string) (int, bool) {
	f, unit, _, ok := Quantity(strings.TrimSpace(s))
	if !ok || f <= 0 || (unit != "" && !strings.EqualFold(unit, "W")) {
		return 0, false
	}
	return int(math.Round(f)), true
}

// antminer controls stock Bitmain firmware: reads on 4028 (read-only
// there), control through the digest-authenticated CGI scripts.
type antminer struct {
	*base
	web *AntminerWeb
}

var _ Miner = (*antminer)(nil)

func (a *antminer) Read(ctx context.Context) (Reading, error) {
	r, sleep, err := a.readCG(ctx, "summary", "stats")
	if err != nil {
		return r, err
	}
	a.finish(&r, sleep)
	return r, nil
}

// setMode writes miner-mode unless the configuration already has it.
func (a *antminer) setMode(ctx context.Context, mode int) (Outcome, error) {
	conf, err := a.web.Conf(ctx)
	if err != nil {
		return Sent, err
	}
	if cur, ok := Lookup(conf, "miner-mode"); ok {
		if n, ok := Int(cur); ok && int(n) == mode {
			return AlreadyDone, nil
		}
	}
	return Sent, a.web.SetMode(ctx, conf, mode)
}

func (a *antminer) Sleep(ctx context.Context) (Outcome, error) {
	r, err := a.Read(ctx)
	if err != nil {
		return Sent, err
	}
	if asleep(r.State) {
		return AlreadyDone, nil
	}
	return a.setMode(ctx, AntminerModeSleep)
}

// Wake sets normal mode. The configuration is the authority here, not
// telemetry: a miner whose mode is already normal is booting or hashing,
// and writing the mode again would restart its boot.
func (a *antminer) Wake(ctx context.Context) (Outcome, error) {
	return a.setMode(ctx, AntminerModeNormal)
}

func (a *antminer) SetPowerTarget(context.Context, int) (Outcome, error) {
	return Sent, a.unsupported("power target (stock firmware has modes: normal, low, sleep)")
}

func (a *antminer) SetProfile(ctx context.Context, profile string) (Outcome, error) {
	mode := -1
	switch strings.ToLower(profile) {
	case "normal", "0", "default":
		mode = AntminerModeNormal
	case "sleep", "1":
		mode = AntminerModeSleep
	case "low", "lpm", "3":
		mode = AntminerModeLow
	}
	if mode < 0 {
		return Sent, a.unsupported(fmt.Sprintf("profile %q (stock firmware has normal, low, sleep)", profile))
	}
	return a.setMode(ctx, mode)
}

func (a *antminer) Reboot(ctx context.Context) (Outcome, error) { return Sent, a.web.Reboot(ctx) }

func (a *antminer) Blink(ctx context.Context, on bool) (Outcome, error) {
	return Sent, a.web.Blink(ctx, on)
}

// whatsminer reads and controls MicroBT firmware through API v3 on 4433.
type whatsminer struct {
	*base
	api *WhatsminerAPI
}

var _ Miner = (*whatsminer)(nil)

// Read asks get.miner.status for summary, edevs and pools in parallel (API
// v3 takes one request per connection).
func (w *whatsminer) Read(ctx context.Context) (Reading, error) {
	params := []string{"summary", "edevs"}
	if !w.opt.Light {
		params = append(params, "pools")
	}
	replies := make([]*WhatsminerReply, len(params))
	errs := make([]error, len(params))
	var wg sync.WaitGroup
	for i, p := range params {
		wg.Go(func() { replies[i], errs[i] = w.api.Get(ctx, "get.miner.status", p) })
	}
	wg.Wait()
	if errs[0] != nil {
		var ae *APIError
		if errors.As(errs[0], &ae) {
			return Reading{}, errs[0]
		}
		// API v3 is off by default on many Whatsminers; btminer's 4028
		// API still reads.
		r, sleep, err := w.readCG(ctx, "summary", "devs")
		if err != nil {
			return Reading{}, fmt.Errorf("%w (and 4028: %v)", errs[0], err)
		}
		w.finish(&r, sleep)
		return r, nil
	}
	r := w.newReading()
	var pools map[string]any
	if len(params) > 2 {
		pools = objOrNil(replies[2], errs[2])
	}
	fromWhatsminer(&r, replies[0].Object(), objOrNil(replies[1], errs[1]), pools)
	w.finish(&r, false)
	return r, nil
}

func objOrNil(r *WhatsminerReply, err error) map[string]any {
	if err != nil || r == nil {
		return nil
	}
	return r.Object()
}

func (w *whatsminer) Sleep(ctx context.Context) (Outcome, error) {
	return ensure(ctx, w, asleep, func() error {
		_, err := w.api.Set(ctx, "set.miner.service", "stop")
		return err
	})
}

func (w *whatsminer) Wake(ctx context.Context) (Outcome, error) {
	return ensure(ctx, w, awake, func() error {
		_, err := w.api.Set(ctx, "set.miner.service", "start")
		return err
	})
}

func (w *whatsminer) SetPowerTarget(ctx context.Context, watts int) (Outcome, error) {
	r, err := w.Read(ctx)
	if err != nil {
		return Sent, err
	}
	if int(math.Round(r.PowerLimitW)) == watts {
		return AlreadyDone, nil
	}
	_, err = w.api.Set(ctx, "set.miner.power_limit", watts)
	return Sent, err
}

func (w *whatsminer) SetProfile(ctx context.Context, profile string) (Outcome, error) {
	watts, ok := parseWatts(profile)
	if !ok {
		return Sent, w.unsupported(fmt.Sprintf("profile %q (Whatsminer takes a wattage such as 3000W)", profile))
	}
	return w.SetPowerTarget(ctx, watts)
}

func (w *whatsminer) Reboot(ctx context.Context) (Outcome, error) {
	_, err := w.api.Set(ctx, "set.system.reboot", nil)
	return Sent, err
}

// Blink: set.system.led "blink" flashes the LEDs, "auto" hands them back to
// the firmware.
func (w *whatsminer) Blink(ctx context.Context, on bool) (Outcome, error) {
	p := "auto"
	if on {
		p = "blink"
	}
	_, err := w.api.Set(ctx, "set.system.led", p)
	return Sent, err
}

// fromWhatsminer fills r from get.miner.status replies: summary (required),
// edevs and pools (optional).
func fromWhatsminer(r *Reading, summary, edevs, pools map[string]any) {
	s := summary
	if sub, ok := summary["summary"].(map[string]any); ok {
		s = sub
	}
	r.HashrateTHs = whatsHash(s, "hash-realtime")
	r.HashrateAvgTHs = whatsHash(s, "hash-average")
	r.HashrateIdealTHs = whatsHash(s, "factory-hash", "hash-nominal", "target-hash")
	r.InletC = floatOf(s, "temp-inlet", "environment-temperature")
	r.OutletC = floatOf(s, "temp-outlet")
	for _, k := range []string{"fan-speed-in", "fan-speed-out"} {
		if v, ok := Lookup(s, k); ok {
			if f, ok := Float(v); ok {
				r.FansRPM = append(r.FansRPM, f)
			}
		}
	}
	r.PowerW = floatOf(s, "power-realtime")
	r.PowerLimitW = floatOf(s, "power-limit")
	if e := intOf(s, "elapsed"); e > 0 {
		r.Uptime = secs(e)
	}
	r.HWErrors = intOf(s, "hardware-errors", "hw-errors")
	r.Accepted = intOf(s, "accepted")
	r.Rejected = intOf(s, "rejected")
	if code := strOf(s, "error-code", "error_code"); code != "" && code != "0" {
		r.Errors = append(r.Errors, ErrorCode{Code: code, Message: whatsminerErrorText(code)})
	}
	if edevs != nil {
		list, _ := edevs["edevs"].([]any)
		for i, e := range list {
			d, ok := e.(map[string]any)
			if !ok {
				continue
			}
			b := Board{Index: i}
			if id, ok := Int(d["id"]); ok {
				b.Index = int(id)
			}
			b.HashrateTHs = whatsHash(d, "hash-average", "hash-realtime")
			b.IdealTHs = whatsHash(d, "factory-hash")
			// API v3: chip-num is the board's chip count, effective-chips
			// those answering; older builds give only chip-num (answering).
			if eff, ok := Lookup(d, "effective-chips"); ok {
				n, _ := Int(eff)
				b.ChipsFound = int(n)
				b.ChipsExpected = int(intOf(d, "chip-num"))
			} else {
				b.ChipsFound = int(intOf(d, "chip-num"))
			}
			if t := floatOf(d, "chip-temp-avg"); t > 0 {
				b.ChipTempsC = []float64{t}
			}
			if t := floatOf(d, "chip-temp-max"); t > 0 {
				b.ChipTempsC = append(b.ChipTempsC, t)
			}
			for _, t := range b.ChipTempsC {
				r.ChipMaxC = max(r.ChipMaxC, t)
			}
			b.HWErrors = intOf(d, "hardware-errors")
			b.FreqMHz = floatOf(d, "freq", "frequency")
			r.ChipsFound += b.ChipsFound
			r.ChipsExpected += b.ChipsExpected
			r.Boards = append(r.Boards, b)
		}
	}
	if pools != nil {
		list, _ := pools["pools"].([]any)
		for _, e := range list {
			p, ok := e.(map[string]any)
			if !ok {
				continue
			}
			pl := Pool{URL: strOf(p, "url"), User: strOf(p, "account", "user"),
				Accepted: intOf(p, "accepted"), Rejected: intOf(p, "rejected")}
			st := strings.ToLower(strOf(p, "status"))
			pl.Alive = st == "alive" || st == "active"
			pl.Active = st == "active" || strOf(p, "stratum-active") == "true"
			r.Pools = append(r.Pools, pl)
		}
	}
}

// whatsHash reads an API v3 hashrate, which is in TH/s unless the value
// carries an SI prefix.
func whatsHash(m map[string]any, keys ...string) float64 {
	v, ok := Lookup(m, keys...)
	if !ok {
		return 0
	}
	f, _, scaled, ok := Quantity(v)
	if !ok {
		return 0
	}
	if scaled {
		return f / 1e12
	}
	return f
}

// whatsminerErrorText names the common Whatsminer error codes (MicroBT
// error code table).
func whatsminerErrorText(code string) string {
	n, err := strconv.Atoi(code)
	if err != nil {
		return ""
	}
	switch {
	case n >= 110 && n <= 113:
		return "fan speed error"
	case n >= 200 && n < 300:
		return "power supply error"
	case n >= 300 && n < 400:
		return "temperature sensor or overheat error"
	case n >= 500 && n < 600:
		return "hashboard or EEPROM error"
	case n >= 600 && n < 700:
		return "environment temperature too high"
	}
	return ""
}
