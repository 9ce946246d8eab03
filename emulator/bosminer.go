package emulator

import "github.com/jouleworks/joule/emulator/physics"

// bosDialect is Braiins OS+ bosminer on 4028: MHS units, numbers as
// numbers, fans/temps/tunerstatus commands, pause/resume, no multi-command
// and no trailing NUL. Power target and the rest of control go through its
// REST API (rest.go).
type bosDialect struct{}

const bosVersion = "bosminer-plus-tuner 1.2.0-4d6b6fe1"

func (bosDialect) description(*node) string { return "BOSer boser-buildroot 0.1.0-c6d5a0da" }
func (bosDialect) multi() bool              { return false }
func (bosDialect) text() bool               { return false }
func (bosDialect) nul() bool                { return false }
func (bosDialect) finish(w *jw, _ *node)    { finishID(w) }

func (d bosDialect) reply(w *jw, n *node, cmd, param string, when int64) {
	t := n.tel()
	switch cmd {
	case "version":
		okReply(w, d, n, when, 22, "BOSminer versions")
		w.arr("VERSION").open('{').
			str("BOSminer", bosVersion).str("BOSer", "boser-buildroot 0.1.0-c6d5a0da").
			str("API", "3.7").str("Type", n.info.Model).close('}').close(']')
	case "summary":
		okReply(w, d, n, when, 11, "Summary")
		w.arr("SUMMARY").open('{').int("Elapsed", int64(t.Uptime)).
			num("MHS 5s", t.HashGH*1000, 2).num("MHS 1m", t.HashGH*1000, 2).
			num("MHS 15m", t.HashAvgGH*1000, 2).num("MHS av", t.HashAvgGH*1000, 2)
		writeShareCounters(w, t)
		w.close('}').close(']')
	case "stats":
		okReply(w, d, n, when, 70, "CGMiner stats")
		w.arr("STATS").open('{').int("STATS", 0).str("ID", "BOS0").int("Elapsed", int64(t.Uptime)).
			int("Calls", 0).num("Wait", 0, 6).num("Max", 0, 6).num("Min", 99999999, 6).
			close('}').close(']')
	case "devs", "edevs":
		okReply(w, d, n, when, 9, fmtInt(t.NBoards)+" ASC(s)")
		writeDevs(w, t, "BC5", false)
	case "devdetails":
		okReply(w, d, n, when, 69, "Device Details")
		w.arr("DEVDETAILS")
		for b := 0; b < t.NBoards; b++ {
			bt := &t.Boards[b]
			chips := bt.ChipsOK
			w.open('{').int("DEVDETAILS", int64(b)).str("Name", "BC5").int("ID", int64(b)).
				str("Driver", "bitmain").int("Chips", int64(chips)).int("Cores", int64(chips)*894).
				str("Model", n.info.Model).close('}')
		}
		w.close(']')
	case "pools":
		okReply(w, d, n, when, 7, fmtInt(n.pools)+" Pool(s)")
		writePools(w, n, t)
	case "config":
		okReply(w, d, n, when, 33, "CGMiner config")
		w.arr("CONFIG").open('{').
			int("ASC Count", int64(t.NBoards)).int("PGA Count", 0).int("Pool Count", int64(n.pools)).
			str("Strategy", "Failover").int("Log Interval", 5).str("Device Code", "").
			str("OS", "Braiins OS").str("Hotplug", "None").close('}').close(']')
	case "fans":
		okReply(w, d, n, when, 202, "Fans")
		writeFans(w, t)
	case "temps":
		okReply(w, d, n, when, 201, "Temps")
		writeTemps(w, t)
	case "tunerstatus":
		okReply(w, d, n, when, 203, "Tuner Status")
		limit := t.Target
		if limit == 0 {
			limit = n.m.Spec().PowerW
		}
		chains := 0.0
		for b := 0; b < t.NBoards; b++ {
			chains += t.Boards[b].PowerW
		}
		w.arr("TUNERSTATUS").open('{').int("PowerLimit", int64(limit)).
			str("DynamicPowerScaling", "Disabled").
			int("ApproximateChainPowerConsumption", int64(chains)).
			int("ApproximateMinerPowerConsumption", int64(t.PowerW)).
			bool("TunerRunning", t.State == physics.Hashing).
			arr("TunerChainStatus")
		for b := 0; b < t.NBoards; b++ {
			bt := &t.Boards[b]
			status := "Stable"
			if bt.Lost {
				status = "Failed"
			}
			w.open('{').int("HashchainIndex", int64(b)).int("Iteration", 0).int("LoadedProfile", 1).
				int("PowerLimit", int64(limit/float64(t.NBoards))).
				int("ApproximatePowerConsumptionWatt", int64(bt.PowerW)).
				str("Status", status).str("StageElapsed", "0").close('}')
		}
		w.close(']').close('}').close(']')
	case "pause", "resume":
		var changed bool
		kind := CmdSleep
		if cmd == "pause" {
			changed = n.m.Sleep()
		} else {
			kind = CmdWake
			changed = n.m.Wake()
		}
		n.record(Command{Kind: kind, Protocol: "cgminer", Wire: cmd, Param: param, Changed: changed})
		msg := "Paused"
		if cmd == "resume" {
			msg = "Resumed"
		}
		okReply(w, d, n, when, 0, msg)
		w.arr(upper(cmd)).open('{').str("Msg", msg).close('}').close(']')
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

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
