package emulator

import (
	"strconv"
	"strings"

	"github.com/jouleworks/joule/emulator/physics"
)

// bmDialect is stock Antminer bmminer: read-only API, numbers as strings in
// places, `}{` between the two STATS objects, fans from fan5 on S19-family
// models, GHS units.
type bmDialect struct{}

func (bmDialect) description(*node) string { return "bmminer 1.0.0" }
func (bmDialect) multi() bool              { return true }
func (bmDialect) text() bool               { return true }
func (bmDialect) nul() bool                { return true }
func (bmDialect) finish(w *jw, n *node) {
	if n.f.cfg.Truncate {
		// Buffer-size truncation seen on real bmminer builds: the final
		// brace is missing.
		w.int("id", 0)
		return
	}
	finishID(w)
}

func (n *node) tel() *physics.Telemetry {
	t := new(physics.Telemetry)
	n.m.Telemetry(t)
	return t
}

// bmControl are cgminer commands stock firmware refuses on its read-only API.
var bmControl = map[string]bool{
	"restart": true, "quit": true, "ascset": true, "pgaset": true, "addpool": true, "removepool": true,
	"switchpool": true, "enablepool": true, "disablepool": true, "poolpriority": true, "poolquota": true,
	"save": true, "privileged": true, "zero": true, "ascenable": true, "ascdisable": true,
	"curtail": true, "pause": true, "resume": true, "logon": true, "profileset": true,
}

func (d bmDialect) reply(w *jw, n *node, cmd, param string, when int64) {
	t := n.tel()
	switch cmd {
	case "version":
		okReply(w, d, n, when, 22, "BMMiner versions")
		w.arr("VERSION").open('{').
			str("BMMiner", "1.0.0").str("API", "3.1").str("Miner", "uart_trans.1.3").
			str("CompileTime", "Thu Jul 13 17:55:01 CST 2023").str("Type", n.info.Model).
			close('}').close(']')
	case "summary":
		okReply(w, d, n, when, 11, "Summary")
		w.arr("SUMMARY").open('{')
		w.int("Elapsed", int64(t.Uptime))
		w.numStr("GHS 5s", t.HashGH, 2)
		w.num("GHS av", t.HashAvgGH, 2)
		w.num("GHS 30m", t.HashAvgGH, 2)
		writeShareCounters(w, t)
		w.close('}').close(']')
	case "stats":
		okReply(w, d, n, when, 70, "BMMiner stats")
		w.arr("STATS").open('{').
			str("BMMiner", "1.0.0").str("Miner", "uart_trans.1.3").
			str("CompileTime", "Thu Jul 13 17:55:01 CST 2023").str("Type", n.info.Model).
			close('}')
		w.noComma() // the `}{` quirk
		w.open('{')
		writeAntStats(w, n, t, true)
		w.close('}').close(']')
	case "devs", "edevs":
		okReply(w, d, n, when, 9, fmtInt(t.NBoards)+" ASC(s)")
		writeDevs(w, t, "BTM", true)
	case "pools":
		okReply(w, d, n, when, 7, fmtInt(n.pools)+" Pool(s)")
		writePools(w, n, t)
	case "config":
		okReply(w, d, n, when, 33, "BMMiner config")
		w.arr("CONFIG").open('{').
			int("ASC Count", int64(t.NBoards)).int("PGA Count", 0).int("Pool Count", int64(n.pools)).
			str("Strategy", "Failover").int("Log Interval", 5).str("Device Code", "").
			str("OS", "Linux").str("Hotplug", "None").close('}').close(']')
	default:
		if bmControl[cmd] {
			errorReply(w, d, n, when, 45, "Access denied to '"+cmd+"' command")
			return
		}
		errorReply(w, d, n, when, 14, "Invalid command")
		return
	}
	d.finish(w, n)
}

// writeShareCounters writes the share and error keys cgminer's SUMMARY has.
func writeShareCounters(w *jw, t *physics.Telemetry) {
	acc, rej := int64(t.Accepted), int64(t.Rejected)
	hwPct := 0.0
	if t.HWErrors+t.Diff1 > 0 {
		hwPct = 100 * t.HWErrors / (t.HWErrors + t.Diff1)
	}
	rejPct := 0.0
	if acc+rej > 0 {
		rejPct = 100 * float64(rej) / float64(acc+rej)
	}
	w.int("Found Blocks", 0).int("Getworks", int64(t.Uptime/30)).
		int("Accepted", acc).int("Rejected", rej).
		int("Hardware Errors", int64(t.HWErrors)).
		num("Utility", perMinute(float64(acc), t.Uptime), 2).
		int("Discarded", int64(t.Uptime/30)*3).int("Stale", 0).int("Get Failures", 0).
		int("Local Work", int64(t.Diff1/1e6)).int("Remote Failures", 0).
		int("Network Blocks", int64(t.Uptime/600)).
		num("Total MH", t.HashAvgGH*1000*t.Uptime, 4).
		num("Work Utility", perMinute(t.Diff1, t.Uptime), 2).
		num("Difficulty Accepted", float64(acc)*65536, 8).
		num("Difficulty Rejected", float64(rej)*65536, 8).
		num("Difficulty Stale", 0, 8).
		int("Best Share", int64(t.Accepted)*91331).
		num("Device Hardware%", hwPct, 4).
		num("Device Rejected%", rejPct, 4).
		num("Pool Rejected%", rejPct, 4).
		num("Pool Stale%", 0, 4).
		int("Last getwork", 0)
}

func perMinute(v, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return v / secs * 60
}

// sensorString formats four sensor readings as bmminer's "a-b-c-d".
func sensorString(a, b, c, d float64) string {
	return strconv.Itoa(int(a+0.5)) + "-" + strconv.Itoa(int(b+0.5)) + "-" + strconv.Itoa(int(c+0.5)) + "-" + strconv.Itoa(int(d+0.5))
}

// acsString is bmminer's chain_acs: one char per chip, 'o' ok and 'x' bad,
// in groups of eight each led by a space.
func acsString(b *physics.BoardTelemetry) string {
	if b.Lost {
		return ""
	}
	var s strings.Builder
	s.Grow(b.Chips + b.Chips/8 + 1)
	for i := 0; i < b.Chips; i++ {
		if i%8 == 0 {
			s.WriteByte(' ')
		}
		if b.ChipOK(i) {
			s.WriteByte('o')
		} else {
			s.WriteByte('x')
		}
	}
	return s.String()
}

// fanBase is the first fan key number: S19-family stock stats number their
// fans from fan5.
func fanBase(n *node) int {
	if n.info.Firmware == Stock && strings.HasPrefix(n.info.ModelKey, "s19") {
		return 5
	}
	return 1
}

// writeAntStats writes the board-data object (STATS element 1) of an
// Antminer: bmminer style (strings) when quirky, LUXminer style otherwise.
func writeAntStats(w *jw, n *node, t *physics.Telemetry, quirky bool) {
	w.int("STATS", 0).str("ID", "BC50").int("Elapsed", int64(t.Uptime)).
		int("Calls", 0).int("Wait", 0).int("Max", 0).int("Min", 99999999)
	if quirky {
		w.numStr("GHS 5s", t.HashGH, 2)
	} else {
		w.num("GHS 5s", t.HashGH, 2)
	}
	mode := t.Mode
	if quirky {
		// bmminer reports the mode its process runs in: sleep once the
		// boards are down, not the moment set_miner_conf.cgi asked for it.
		mode = t.FirmwareMode
	}
	w.num("GHS av", t.HashAvgGH, 2).num("rate_30m", t.HashAvgGH, 2).
		int("Mode", int64(mode)).int("miner_count", int64(t.NBoards)).
		int("frequency", int64(t.FreqMHz+0.5))
	w.int("fan_num", int64(t.NFans))
	base := fanBase(n)
	for i := 0; i < t.NFans; i++ {
		w.int("fan"+strconv.Itoa(base+i), int64(t.Fans[i]))
	}
	w.int("temp_num", int64(t.NBoards))
	for b := 0; b < t.NBoards; b++ {
		w.int("temp"+strconv.Itoa(b+1), int64(pcbMax(&t.Boards[b])))
	}
	for b := 0; b < t.NBoards; b++ {
		w.int("temp2_"+strconv.Itoa(b+1), int64(chipMax(&t.Boards[b])))
	}
	for b := 0; b < t.NBoards; b++ {
		bt := &t.Boards[b]
		k := strconv.Itoa(b + 1)
		if bt.Lost {
			w.str("temp_pcb"+k, "0-0-0-0").str("temp_chip"+k, "0-0-0-0")
		} else {
			w.str("temp_pcb"+k, sensorString(bt.PCBInC, bt.PCBInC+1, bt.PCBOutC, bt.PCBOutC+1)).
				str("temp_chip"+k, sensorString(bt.ChipInC, bt.ChipInC+1, bt.ChipOutC, bt.ChipOutC+1))
		}
	}
	totalACN := 0
	for b := 0; b < t.NBoards; b++ {
		bt := &t.Boards[b]
		k := strconv.Itoa(b + 1)
		acn := bt.Chips
		if bt.Lost {
			acn = 0
		}
		totalACN += acn
		w.int("chain_acn"+k, int64(acn)).str("chain_acs"+k, acsString(bt)).
			int("chain_hw"+k, int64(bt.HWErrors))
		if quirky {
			w.numStr("chain_rate"+k, bt.HashGH, 2)
		} else {
			w.num("chain_rate"+k, bt.HashGH, 2)
		}
		w.num("chain_rateideal"+k, bt.IdealGH, 2).
			int("freq"+k, int64(t.FreqMHz+0.5)).
			int("chain_vol"+k, int64(t.VoltV*1000)).
			int("chain_consumption"+k, int64(bt.PowerW))
	}
	w.num("total_rateideal", t.IdealGH, 2).int("total_freqavg", int64(t.FreqMHz+0.5)).
		int("total_acn", int64(totalACN)).num("total_rate", t.HashGH, 2).
		int("temp_max", int64(maxChip(t))).int("no_matching_work", int64(t.HWErrors)).
		str("miner_version", "uart_trans.1.3").str("miner_id", strings.ToLower(n.info.Serial))
}

func pcbMax(b *physics.BoardTelemetry) float64 {
	if b.Lost {
		return 0
	}
	return b.PCBOutC + 1
}

func chipMax(b *physics.BoardTelemetry) float64 {
	if b.Lost {
		return 0
	}
	return b.ChipOutC + 1
}

func maxChip(t *physics.Telemetry) float64 {
	m := 0.0
	for b := 0; b < t.NBoards; b++ {
		m = max(m, chipMax(&t.Boards[b]))
	}
	return m
}

// writeDevs writes the DEVS array (one ASC per hashboard) and the trailer-
// less remainder; MHS units as cgminer uses for devices.
func writeDevs(w *jw, t *physics.Telemetry, name string, withPower bool) {
	w.arr("DEVS")
	for b := 0; b < t.NBoards; b++ {
		bt := &t.Boards[b]
		enabled, status := "Y", "Alive"
		if bt.Lost {
			enabled, status = "N", "Dead"
		}
		avg := 0.0
		if t.HashGH > 0 {
			avg = t.HashAvgGH * bt.HashGH / t.HashGH
		}
		w.open('{').int("ASC", int64(b)).str("Name", name).int("ID", int64(b)).
			str("Enabled", enabled).str("Status", status).
			num("Temperature", chipMax(bt), 2).
			num("MHS av", avg*1000, 2).num("MHS 5s", bt.HashGH*1000, 2).
			num("MHS 1m", bt.HashGH*1000, 2).num("MHS 5m", bt.HashGH*1000, 2).num("MHS 15m", bt.HashGH*1000, 2).
			int("Accepted", int64(t.Accepted/float64(t.NBoards))).int("Rejected", int64(t.Rejected/float64(t.NBoards))).
			int("Hardware Errors", int64(bt.HWErrors)).
			num("Utility", 0, 2).int("Last Share Pool", 0).int("Last Share Time", 0).
			num("Total MH", bt.Diff1*4294.967296, 4).
			int("Diff1 Work", int64(bt.Diff1)).
			num("Device Hardware%", hwPercent(bt), 4).
			int("Device Elapsed", int64(t.Uptime))
		if withPower {
			w.int("Chip Frequency", int64(t.FreqMHz+0.5))
		}
		w.close('}')
	}
	w.close(']')
}

func hwPercent(b *physics.BoardTelemetry) float64 {
	if b.HWErrors+b.Diff1 <= 0 {
		return 0
	}
	return 100 * b.HWErrors / (b.HWErrors + b.Diff1)
}

// writePools writes the POOLS array: pool 0 carries the shares, the others
// are failover backups.
func writePools(w *jw, n *node, t *physics.Telemetry) {
	w.arr("POOLS")
	for p := 0; p < n.pools; p++ {
		acc, rej := int64(0), int64(0)
		if p == 0 {
			acc, rej = int64(t.Accepted), int64(t.Rejected)
		}
		host := "stratum" + strconv.Itoa(p+1) + ".pool.invalid"
		w.open('{').int("POOL", int64(p)).str("URL", "stratum+tcp://"+host+":3333").
			str("Status", "Alive").int("Priority", int64(p)).int("Quota", 1).str("Long Poll", "N").
			int("Getworks", int64(t.Uptime/30)).int("Accepted", acc).int("Rejected", rej).
			int("Discarded", 0).int("Stale", 0).int("Get Failures", 0).int("Remote Failures", 0).
			str("User", "joule."+n.info.Name).int("Last Share Time", 0).
			int("Diff1 Shares", int64(t.Diff1)).str("Proxy Type", "").str("Proxy", "").
			num("Difficulty Accepted", float64(acc)*65536, 8).
			num("Difficulty Rejected", float64(rej)*65536, 8).
			num("Difficulty Stale", 0, 8).num("Last Share Difficulty", 65536, 8).
			bool("Has Stratum", true).bool("Stratum Active", p == 0).
			str("Stratum URL", host).bool("Has GBT", false).int("Best Share", 0).
			num("Pool Rejected%", 0, 4).num("Pool Stale%%", 0, 4).
			close('}')
	}
	w.close(']')
}
