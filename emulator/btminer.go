package emulator

import "github.com/jouleworks/joule/emulator/physics"

// btDialect is Whatsminer btminer's read API on 4028: MHS units, its own
// key names ("Fan Speed In", "Power", "Chip Temp Avg"), no multi-command.
// Control goes through API v3 on 4433 (api3.go).
type btDialect struct{}

const btVersion = "20240603.18.REL"

func (btDialect) description(*node) string { return "btminer" }
func (btDialect) multi() bool              { return false }
func (btDialect) text() bool               { return false }
func (btDialect) nul() bool                { return true }
func (btDialect) finish(w *jw, _ *node)    { finishID(w) }

func (d btDialect) reply(w *jw, n *node, cmd, param string, when int64) {
	t := n.tel()
	switch cmd {
	case "version", "get_version":
		okReply(w, d, n, when, 22, "BTMiner versions")
		w.arr("VERSION").open('{').str("BTMiner", btVersion).str("API", "2.0.5").
			str("Type", n.info.Model).str("Miner", btVersion).close('}').close(']')
	case "summary":
		okReply(w, d, n, when, 11, "Summary")
		fanIn, fanOut := 0.0, 0.0
		if t.NFans > 0 {
			fanIn = t.Fans[0]
			fanOut = t.Fans[t.NFans-1]
		}
		w.arr("SUMMARY").open('{').int("Elapsed", int64(t.Uptime)).
			num("MHS av", t.HashAvgGH*1000, 2).num("MHS 5s", t.HashGH*1000, 2).
			num("MHS 1m", t.HashGH*1000, 2).num("MHS 5m", t.HashGH*1000, 2).num("MHS 15m", t.HashAvgGH*1000, 2).
			num("HS RT", t.HashGH*1000, 2).
			int("Accepted", int64(t.Accepted)).int("Rejected", int64(t.Rejected)).
			num("Total MH", t.HashAvgGH*1000*t.Uptime, 0).
			num("Temperature", maxChip(t), 2).int("freq_avg", int64(t.FreqMHz+0.5)).
			int("Fan Speed In", int64(fanIn)).int("Fan Speed Out", int64(fanOut)).
			int("Power", int64(t.PowerW+0.5)).
			raw("Power Rate", powerRate(t)).
			num("Pool Rejected%", 0, 4).num("Pool Stale%", 0, 4).
			int("Uptime", int64(t.OSUptime)).
			num("Target Freq", n.m.Spec().FreqMHz, 0).num("Target MHS", t.IdealGH*1000, 0).
			num("Env Temp", t.InletC, 2).str("Power Mode", "Normal").
			num("Factory GHS", t.NomGH, 0).int("Power Limit", int64(powerLimit(n, t))).
			num("Chip Temp Min", minChipTemp(t), 2).num("Chip Temp Max", maxChip(t), 2).
			num("Chip Temp Avg", avgChipTemp(t), 2).
			int("Power_RT", int64(t.PowerW+0.5)).
			str("MAC", n.info.MAC).
			close('}').close(']')
	case "edevs", "devs":
		okReply(w, d, n, when, 9, fmtInt(t.NBoards)+" ASC(s)")
		w.arr("DEVS")
		for b := 0; b < t.NBoards; b++ {
			bt := &t.Boards[b]
			// btminer writes the separator before every slot but the
			// first, then skips a missing board: `[,{`, `},,{` or `},]`.
			w.need = false
			if b > 0 {
				w.b = append(w.b, ',')
			}
			if bt.Lost {
				continue
			}
			w.open('{').int("ASC", int64(b)).int("Slot", int64(b)).str("Enabled", "Y").str("Status", "Alive").
				num("Temperature", pcbMax(bt), 2).int("Chip Frequency", int64(t.FreqMHz+0.5)).
				num("MHS av", bt.HashGH*1000, 2).num("MHS 5s", bt.HashGH*1000, 2).
				int("Effective Chips", int64(bt.ChipsOK)).int("Hardware Errors", int64(bt.HWErrors)).
				num("Chip Temp Min", bt.ChipInC, 2).num("Chip Temp Max", chipMax(bt), 2).
				num("Chip Temp Avg", bt.ChipC, 2).int("Upfreq Complete", boolInt(t.State == physics.Hashing)).
				close('}')
		}
		w.close(']')
	case "pools":
		okReply(w, d, n, when, 7, fmtInt(n.pools)+" Pool(s)")
		writePools(w, n, t)
	case "devdetails":
		okReply(w, d, n, when, 69, "Device Details")
		w.arr("DEVDETAILS")
		for b := 0; b < t.NBoards; b++ {
			w.open('{').int("DEVDETAILS", int64(b)).str("Name", "SM").int("ID", int64(b)).
				str("Driver", "bitmicro").int("Kernel", 0).str("Model", n.info.Model).close('}')
		}
		w.close(']')
	default:
		if bmControl[cmd] {
			errorReply(w, d, n, when, cgCodeAccessDenied, "Access denied to '"+cmd+"' command")
			return
		}
		errorReply(w, d, n, when, 14, "Invalid command")
		return
	}
	d.finish(w, n)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// powerRate is btminer's "Power Rate" (J/TH), printed with C's %.2f: a
// bare inf when nothing hashes.
func powerRate(t *physics.Telemetry) string {
	if t.HashGH <= 0 {
		return "inf"
	}
	return string(appendFloat(nil, joulesPerTH(t), 2))
}

func joulesPerTH(t *physics.Telemetry) float64 {
	if t.HashGH <= 0 {
		return 0
	}
	return t.PowerW / (t.HashGH / 1000)
}

func powerLimit(n *node, t *physics.Telemetry) float64 {
	if t.Target > 0 {
		return t.Target
	}
	return n.m.Spec().PowerW
}

func minChipTemp(t *physics.Telemetry) float64 {
	m := 0.0
	for b := 0; b < t.NBoards; b++ {
		if bt := &t.Boards[b]; !bt.Lost && (m == 0 || bt.ChipInC < m) {
			m = bt.ChipInC
		}
	}
	return m
}

func avgChipTemp(t *physics.Telemetry) float64 {
	s, k := 0.0, 0
	for b := 0; b < t.NBoards; b++ {
		if bt := &t.Boards[b]; !bt.Lost {
			s += bt.ChipC
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return s / float64(k)
}
