package miner

import (
	"context"
	"fmt"
	"strings"
)

// Detect finds which firmware answers at t. Rules, in order:
//
//  1. cgminer `version` on 4028: a LUXminer key means LuxOS; BOSminer or
//     BOSer means Braiins OS+; BMMiner, or CGMiner with an Antminer Type,
//     means stock Antminer; btminer, or a WhatsMiner type, means Whatsminer.
//     Any other answer is a generic cgminer.
//  2. When version names no model, `stats` element 0 Type supplies it.
//  3. When 4028 does not answer, Whatsminer API v3 get.device.info on 4433.
func Detect(ctx context.Context, t Target, opt Options) (Dialect, Identity, error) {
	cg := &CGMiner{Addr: t.CGMinerAddr(), Timeout: opt.Timeout}
	resp, err := cg.Do(ctx, "version")
	if err == nil {
		d, id := classifyVersion(resp.First("VERSION"))
		if id.Model == "" {
			if st, err := cg.Do(ctx, "stats"); err == nil {
				for _, e := range st.Section("STATS") {
					if m := strOf(e, "Type"); m != "" {
						id.Model = m
						break
					}
				}
				if d == DialectCGMiner && strings.Contains(strings.ToLower(id.Model), "antminer") {
					d = DialectAntminer
				}
			}
		}
		id.Make = makeOf(id.Model)
		if d == DialectWhatsminer {
			if wid, err := whatsminerIdentity(ctx, t, opt); err == nil {
				id = wid
			}
		}
		return d, id, nil
	}
	if ctx.Err() != nil {
		return "", Identity{}, err
	}
	id, werr := whatsminerIdentity(ctx, t, opt)
	if werr == nil {
		return DialectWhatsminer, id, nil
	}
	return "", Identity{}, &Error{Addr: t.Host, Op: "detect", Err: fmt.Errorf("%w: nothing answered: %v; %v", ErrUnknownFirmware, err, werr)}
}

func classifyVersion(v map[string]any) (Dialect, Identity) {
	var id Identity
	id.Model = strOf(v, "Type", "Model", "type")
	has := func(k string) (string, bool) {
		x, ok := Lookup(v, k)
		if !ok {
			return "", false
		}
		s, _ := String(x)
		return s, true
	}
	if fw, ok := has("LUXminer"); ok {
		id.Firmware = "LuxOS " + fw
		return DialectLuxOS, id
	}
	if fw, ok := has("BOSminer"); ok {
		id.Firmware = fw
		return DialectBraiins, id
	}
	if fw, ok := has("BOSer"); ok {
		id.Firmware = "BOSer " + fw
		return DialectBraiins, id
	}
	lm := strings.ToLower(id.Model)
	if fw, ok := has("BMMiner"); ok {
		id.Firmware = "BMMiner " + fw
		return DialectAntminer, id
	}
	if _, ok := has("btminer"); ok || strings.Contains(lm, "whatsminer") {
		id.Firmware = strOf(v, "fw_ver", "Firmware")
		return DialectWhatsminer, id
	}
	if fw, ok := has("CGMiner"); ok {
		id.Firmware = "CGMiner " + fw
		if strings.Contains(lm, "antminer") {
			return DialectAntminer, id
		}
	}
	return DialectCGMiner, id
}

// whatsminerIdentity asks API v3 get.device.info for model and firmware.
func whatsminerIdentity(ctx context.Context, t Target, opt Options) (Identity, error) {
	api := &WhatsminerAPI{Addr: t.WhatsminerAddr(), Timeout: opt.Timeout}
	r, err := api.Get(ctx, "get.device.info", nil)
	if err != nil {
		return Identity{}, err
	}
	m := r.Object()
	id := Identity{Make: "MicroBT"}
	if mi, ok := m["miner"].(map[string]any); ok {
		id.Model = strOf(mi, "model", "type", "miner-type")
		id.Firmware = strOf(mi, "firmware-version", "firmware", "fw-version", "fw_ver")
	}
	if id.Model == "" {
		id.Model = strOf(m, "type", "model")
	}
	if id.Firmware == "" {
		if sys, ok := m["system"].(map[string]any); ok {
			id.Firmware = strOf(sys, "fwversion", "firmware")
		}
	}
	return id, nil
}
