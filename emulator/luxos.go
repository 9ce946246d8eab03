package emulator

import (
	"strconv"
	"strings"

	"github.com/jouleworks/joule/emulator/physics"
)

// luxDialect is LuxOS LUXminer: clean JSON (numbers as numbers, commas
// where they belong), GHS units, and session-guarded control commands:
// logon → SessionID, then curtail/profileset/atmset/rebootdevice/ledset with
// the session id as first parameter, logoff.
type luxDialect struct{}

const luxVersion = "2024.11.1.154723-9ab2e3b8"

func (luxDialect) description(*node) string { return "LUXminer " + luxVersion }
func (luxDialect) multi() bool              { return true }
func (luxDialect) text() bool               { return false }
func (luxDialect) nul() bool                { return true }
func (luxDialect) finish(w *jw, _ *node)    { finishID(w) }

// LuxOS status codes for its own commands (cgminer's are reused where one
// fits).
const (
	luxCodeOK          = 300
	luxCodeSession     = 301 // session problems: wrong or missing id, another active
	luxCodeParam       = 302
	luxCodeATM         = 303
	cgCodeAccessDenied = 45
)

// profileName is LuxOS's name for a profile step.
func profileName(step int) string {
	switch {
	case step == 0:
		return "default"
	case step > 0:
		return "+" + strconv.Itoa(step)
	}
	return strconv.Itoa(step)
}

func parseProfileName(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "default" {
		return 0, true
	}
	v, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil || v < physics.ProfileMin || v > physics.ProfileMax {
		return 0, false
	}
	return v, true
}

func (d luxDialect) reply(w *jw, n *node, cmd, param string, when int64) {
	t := n.tel()
	switch cmd {
	case "version":
		okReply(w, d, n, when, 22, "LUXminer versions")
		w.arr("VERSION").open('{').
			str("API", "3.7").str("CompileTime", "Tue Nov 12 15:47:23 UTC 2024").
			str("LUXminer", luxVersion).str("Miner", luxVersion).str("Type", n.info.Model).
			close('}').close(']')
	case "summary":
		okReply(w, d, n, when, 11, "Summary")
		w.arr("SUMMARY").open('{')
		w.int("Elapsed", int64(t.Uptime)).num("GHS 5s", t.HashGH, 2).num("GHS av", t.HashAvgGH, 2).num("GHS 30m", t.HashAvgGH, 2)
		writeShareCounters(w, t)
		w.close('}').close(']')
	case "stats":
		okReply(w, d, n, when, 70, "CGMiner stats")
		w.arr("STATS").open('{').
			str("LUXminer", luxVersion).str("Miner", luxVersion).
			str("CompileTime", "Tue Nov 12 15:47:23 UTC 2024").str("Type", n.info.Model).
			close('}')
		w.open('{')
		writeAntStats(w, n, t, false)
		w.close('}').close(']')
	case "devs", "edevs":
		okReply(w, d, n, when, 9, fmtInt(t.NBoards)+" ASC(s)")
		writeDevs(w, t, "BTM", true)
	case "pools":
		okReply(w, d, n, when, 7, fmtInt(n.pools)+" Pool(s)")
		writePools(w, n, t)
	case "config":
		okReply(w, d, n, when, 33, "CGMiner config")
		curtail := "None"
		if t.Sleeping {
			curtail = "Sleep"
		}
		w.arr("CONFIG").open('{').
			int("ASC Count", int64(t.NBoards)).int("PGA Count", 0).int("Pool Count", int64(n.pools)).
			str("Strategy", "Failover").int("Log Interval", 5).str("Device Code", "").
			str("OS", "Linux").str("Hotplug", "None").str("Profile", profileName(t.Profile)).
			str("CurtailMode", curtail).bool("IsAtmEnabled", n.luxATM).
			close('}').close(']')
	case "power":
		okReply(w, d, n, when, luxCodeOK, "Power")
		w.arr("POWER").open('{').int("Watts", int64(t.PowerW+0.5)).bool("PSU", t.PowerW > 0).close('}').close(']')
	case "temps":
		okReply(w, d, n, when, luxCodeOK, "Temps")
		writeTemps(w, t)
	case "fans":
		okReply(w, d, n, when, luxCodeOK, "Fans")
		writeFans(w, t)
	case "profiles":
		okReply(w, d, n, when, luxCodeOK, "Profiles")
		w.arr("PROFILES")
		for s := physics.ProfileMax; s >= physics.ProfileMin; s-- {
			sc := physics.ProfileScale(s)
			w.open('{').str("Profile Name", profileName(s)).
				int("Frequency", int64(n.m.Spec().FreqMHz*sc+0.5)).
				num("Voltage", n.m.Spec().VoltV*(0.55+0.45*sc), 2).
				int("Watts", int64(n.m.SteadyPower(sc)+0.5)).
				num("Hashrate", n.m.Spec().HashTH*sc, 2).
				bool("IsDynamic", false).int("Step", int64(s)).close('}')
		}
		w.close(']')
	case "profileget":
		b, err := strconv.Atoi(strings.TrimSpace(param))
		if err != nil || b < 0 || b >= t.NBoards {
			errorReply(w, d, n, when, luxCodeParam, "Invalid board: '"+param+"'")
			return
		}
		okReply(w, d, n, when, luxCodeOK, "Profile")
		w.arr("PROFILE").open('{').int("Board", int64(b)).str("Profile Name", profileName(t.Profile)).
			int("Frequency", int64(t.FreqMHz+0.5)).num("Voltage", t.VoltV, 2).close('}').close(']')
	case "atm":
		okReply(w, d, n, when, luxCodeOK, "ATM")
		w.arr("ATM").open('{').bool("Enabled", n.luxATM).int("StartupMinutes", 15).
			int("PostRampMinutes", 30).int("TempWindow", 6).str("MinProfile", profileName(physics.ProfileMin)).
			str("MaxProfile", profileName(physics.ProfileMax)).close('}').close(']')
	case "session":
		n.expireLuxSession()
		okReply(w, d, n, when, luxCodeOK, "Session")
		w.arr("SESSION").open('{').str("SessionID", n.luxSession).close('}').close(']')
	case "logon":
		n.expireLuxSession()
		if n.luxSession != "" {
			errorReply(w, d, n, when, luxCodeSession, "Another session is active")
			return
		}
		n.luxSession = randHex(n.rng, 8)
		n.luxSessionAt = n.m.Now()
		okReply(w, d, n, when, luxCodeOK, "Session created")
		w.arr("SESSION").open('{').str("SessionID", n.luxSession).close('}').close(']')
	case "logoff":
		if _, ok2 := d.session(w, n, param, when); !ok2 {
			return
		}
		n.luxSession = ""
		okReply(w, d, n, when, luxCodeOK, "Session closed")
	case "curtail", "atmset", "profileset", "rebootdevice", "resetminer", "ledset", "powertargetset":
		args, valid := d.session(w, n, param, when)
		if !valid {
			if k := luxKind(cmd, param); k != 0 {
				n.record(Command{Kind: k, Protocol: "cgminer", Wire: cmd, Param: param, Refused: "session"})
			}
			return
		}
		d.control(w, n, cmd, args, when)
		return
	default:
		errorReply(w, d, n, when, 14, "Invalid command")
		return
	}
	d.finish(w, n)
}

// luxKind is the hardware command a LuxOS control command asks for (0 for
// settings such as atmset).
func luxKind(cmd, param string) CommandKind {
	switch cmd {
	case "curtail":
		if strings.Contains(param, "wakeup") {
			return CmdWake
		}
		return CmdSleep
	case "profileset":
		return CmdProfile
	case "powertargetset":
		return CmdPowerTarget
	case "rebootdevice", "resetminer":
		return CmdReboot
	case "ledset":
		return CmdBlink
	}
	return 0
}

// session checks the session id (first parameter) and returns the rest.
func (d luxDialect) session(w *jw, n *node, param string, when int64) ([]string, bool) {
	parts := strings.Split(param, ",")
	sid := strings.TrimSpace(parts[0])
	n.expireLuxSession()
	switch {
	case sid == "":
		errorReply(w, d, n, when, luxCodeSession, "Missing session id")
		return nil, false
	case n.luxSession == "":
		errorReply(w, d, n, when, luxCodeSession, "No active session, call logon first")
		return nil, false
	case sid != n.luxSession:
		errorReply(w, d, n, when, luxCodeSession, "Invalid session id")
		return nil, false
	}
	n.luxSessionAt = n.m.Now()
	return parts[1:], true
}

// luxSessionIdle is how long (simulated seconds) an unused LuxOS session
// lives, so a client that died holding it does not lock the miner forever.
const luxSessionIdle = 600

func (n *node) expireLuxSession() {
	if n.luxSession != "" && n.m.Now()-n.luxSessionAt > luxSessionIdle {
		n.luxSession = ""
	}
}

// control runs a session-guarded LuxOS command; the session has been checked.
func (d luxDialect) control(w *jw, n *node, cmd string, args []string, when int64) {
	arg := func(i int) string {
		if i < len(args) {
			return strings.TrimSpace(args[i])
		}
		return ""
	}
	param := strings.Join(args, ",")
	refuse := func(kind CommandKind, code int, msg string) {
		n.record(Command{Kind: kind, Protocol: "cgminer", Wire: cmd, Param: param, Refused: msg})
		errorReply(w, d, n, when, code, msg)
	}
	done := func(kind CommandKind, changed bool, msg string) {
		if kind != 0 {
			n.record(Command{Kind: kind, Protocol: "cgminer", Wire: cmd, Param: param, Changed: changed})
		}
		w.open('{')
		writeStatus(w, "S", when, luxCodeOK, msg, d.description(n))
		d.finish(w, n)
	}
	switch cmd {
	case "curtail":
		switch arg(0) {
		case "sleep":
			done(CmdSleep, n.m.Sleep(), "Curtail sleep")
		case "wakeup":
			done(CmdWake, n.m.Wake(), "Curtail wakeup")
		default:
			refuse(0, luxCodeParam, "Invalid curtail mode: '"+arg(0)+"', want sleep or wakeup")
		}
	case "atmset":
		v, okKV := strings.CutPrefix(arg(0), "enabled=")
		if !okKV || (v != "true" && v != "false") {
			errorReply(w, d, n, when, luxCodeParam, "Invalid atmset parameter: '"+arg(0)+"', want enabled=true|false")
			return
		}
		n.luxATM = v == "true"
		done(0, false, "ATM settings updated")
	case "profileset":
		// Real LuxOS takes "<sid>,<board>,<profile>"; "<sid>,<profile>"
		// applies to every board.
		name := arg(0)
		if len(args) >= 2 {
			if _, err := strconv.Atoi(arg(0)); err == nil {
				name = arg(1)
			}
		}
		step, okName := parseProfileName(name)
		if !okName {
			refuse(CmdProfile, luxCodeParam, "Invalid profile: '"+name+"'")
			return
		}
		if n.luxATM {
			refuse(CmdProfile, luxCodeATM, "Cannot set profile while ATM is enabled")
			return
		}
		done(CmdProfile, n.m.SetProfile(step), "Profile set to "+profileName(step))
	case "powertargetset":
		v, _ := strings.CutPrefix(arg(0), "power=")
		watts, err := strconv.Atoi(v)
		if err != nil || watts <= 0 {
			refuse(CmdPowerTarget, luxCodeParam, "Invalid power target: '"+arg(0)+"'")
			return
		}
		done(CmdPowerTarget, n.m.SetPowerTarget(float64(watts)), "Power target set")
	case "rebootdevice", "resetminer":
		done(CmdReboot, n.m.Reboot(), "Rebooting")
		n.luxSession = ""
	case "ledset":
		on := arg(1) != "off"
		done(CmdBlink, n.m.SetLED(on), "LED set")
	}
}

// writeTemps writes a TEMPS array (LuxOS and bosminer): one entry per board.
func writeTemps(w *jw, t *physics.Telemetry) {
	w.arr("TEMPS")
	for b := 0; b < t.NBoards; b++ {
		bt := &t.Boards[b]
		w.open('{').int("TEMPS", int64(b)).int("ID", int64(b)).
			num("Board", pcbMax(bt), 1).num("Chip", chipMax(bt), 1).
			num("TopLeft", bt.PCBInC, 1).num("TopRight", bt.PCBOutC, 1).
			num("BottomLeft", bt.ChipInC, 1).num("BottomRight", bt.ChipOutC, 1).
			close('}')
	}
	w.close(']')
}

// writeFans writes a FANS array: ID, RPM, Speed (PWM %).
func writeFans(w *jw, t *physics.Telemetry) {
	w.arr("FANS")
	for f := 0; f < t.NFans; f++ {
		w.open('{').int("FANS", int64(f)).int("ID", int64(f)).int("RPM", int64(t.Fans[f])).
			int("Speed", int64(t.FanPWM*100+0.5)).close('}')
	}
	w.close(']')
}
