package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// cgReplyJSON sends req to a miner's 4028 and decodes the reply (after
// dropping the trailing NUL; bmminer's `}{` is repaired first). A plain request
// (`cmd` or `cmd|param`) is sent in its JSON form, since stock bmminer
// answers plain requests in text (see TestStockPlainTextReplies).
func cgReplyJSON(t *testing.T, f *Fleet, i int, req string) map[string]any {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(req), "{") {
		cmd, param, _ := strings.Cut(req, "|")
		js, _ := json.Marshal(map[string]string{"command": cmd, "parameter": param})
		req = string(js)
	}
	b := rawCG(t, f.Miner(i).CGMiner, req)
	b = bytes.TrimRight(b, "\x00")
	b = bytes.ReplaceAll(b, []byte("}{"), []byte("},{"))
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %q: %v in %s", f.Miner(i).Name, req, err, b)
	}
	return v
}

func status(t *testing.T, v map[string]any) (letter string, code int, msg string) {
	t.Helper()
	st, ok := v["STATUS"].([]any)
	if !ok || len(st) != 1 {
		t.Fatalf("no STATUS block in %v", v)
	}
	s := st[0].(map[string]any)
	for _, k := range []string{"STATUS", "When", "Code", "Msg", "Description"} {
		if _, ok := s[k]; !ok && !(k == "Description" && s["Code"] == float64(14)) {
			// cgminer names itself in every STATUS but "Invalid command".
			t.Fatalf("STATUS lacks %s: %v", k, s)
		}
	}
	return s["STATUS"].(string), int(s["Code"].(float64)), s["Msg"].(string)
}

// fourDialects is a fleet with one miner of each firmware, in this order
// after the seeded shuffle is undone by looking them up.
func fourDialects(t *testing.T, net byte) (*Fleet, map[Firmware]int) {
	f := startFleet(t, Config{Count: 4, Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1", Seed: 3, Net: testNet(net), FreePorts: true})
	idx := map[Firmware]int{}
	for _, m := range f.Miners() {
		idx[m.Firmware] = m.Index
	}
	if len(idx) != 4 {
		t.Fatalf("fleet firmwares %v, want all four", idx)
	}
	return f, idx
}

func TestCGMinerWireFormat(t *testing.T) {
	f, idx := fourDialects(t, 203)
	type check struct {
		fw      Firmware
		req     string
		letter  string
		code    int
		section string
	}
	checks := []check{
		{Stock, "version", "S", 22, "VERSION"},
		{Stock, "stats", "S", 70, "STATS"},
		{Stock, "devs", "S", 9, "DEVS"},
		{Stock, "pools", "S", 7, "POOLS"},
		{Stock, "config", "S", 33, "CONFIG"},
		{Stock, "curtail|x,sleep", "E", 45, ""},
		{Stock, "nosuch", "E", 14, ""},
		{Stock, `{"command":"summary","parameter":0}`, "S", 11, "SUMMARY"},
		{Stock, `{"command":`, "E", 23, ""},
		{Stock, `{"parameter":"x"}`, "E", 24, ""},
		{LuxOS, "version", "S", 22, "VERSION"},
		{LuxOS, "power", "S", luxCodeOK, "POWER"},
		{LuxOS, "profiles", "S", luxCodeOK, "PROFILES"},
		{LuxOS, "curtail|bad,sleep", "E", luxCodeSession, ""},
		{Braiins, "version", "S", 22, "VERSION"},
		{Braiins, "tunerstatus", "S", 203, "TUNERSTATUS"},
		{Braiins, "fans", "S", 202, "FANS"},
		{Braiins, "temps", "S", 201, "TEMPS"},
		{Braiins, `{"command":"summary+devs"}`, "E", 14, ""},
		{Whatsminer, "summary", "S", 11, "SUMMARY"},
		{Whatsminer, "edevs", "S", 9, "DEVS"},
	}
	for _, c := range checks {
		v := cgReplyJSON(t, f, idx[c.fw], c.req)
		l, code, msg := status(t, v)
		if l != c.letter || code != c.code {
			t.Errorf("%s %q: STATUS %s code %d %q, want %s code %d", c.fw, c.req, l, code, msg, c.letter, c.code)
		}
		if c.section != "" {
			if arr, ok := v[c.section].([]any); !ok || len(arr) == 0 {
				t.Errorf("%s %q: section %s missing or empty", c.fw, c.req, c.section)
			}
		}
	}
}

func TestDialectQuirks(t *testing.T) {
	f, idx := fourDialects(t, 204)
	raw := string(rawCG(t, f.Miner(idx[Stock]).CGMiner, `{"command":"stats"}`))
	for _, want := range []string{`}{"STATS":0`, `"fan5":`, `"GHS 5s":"`, `"chain_rate1":"`, `"temp_chip1":"`, `"chain_acs1":" oooooooo`} {
		if !strings.Contains(raw, want) {
			t.Errorf("stock stats lacks %s", want)
		}
	}
	if strings.Contains(raw, `"fan1":`) {
		t.Error("stock S19 stats has fan1, want fans from fan5")
	}
	lux := string(rawCG(t, f.Miner(idx[LuxOS]).CGMiner, "stats"))
	if strings.Contains(lux, "}{") || !strings.Contains(lux, `"fan1":`) || strings.Contains(lux, `"GHS 5s":"`) {
		t.Errorf("LuxOS stats should be clean JSON with fan1 and numeric GHS: %.300s", lux)
	}
	bos := rawCG(t, f.Miner(idx[Braiins]).CGMiner, "summary")
	if bytes.HasSuffix(bos, []byte{0}) || !bytes.Contains(bos, []byte(`"MHS av":`)) {
		t.Errorf("bosminer summary: want MHS units and no NUL: %.200s", bos)
	}
	bt := rawCG(t, f.Miner(idx[Whatsminer]).CGMiner, "summary")
	if !bytes.Contains(bt, []byte(`"MHS av":`)) || !bytes.Contains(bt, []byte(`"Fan Speed In":`)) {
		t.Errorf("btminer summary lacks MHS av / Fan Speed In: %.200s", bt)
	}
	multi := cgReplyJSON(t, f, idx[Stock], `{"command":"summary+devs","parameter":""}`)
	for _, k := range []string{"summary", "devs"} {
		arr, ok := multi[k].([]any)
		if !ok || len(arr) != 1 {
			t.Fatalf("multi-command reply %s = %v, want one-element array", k, multi[k])
		}
	}
}

func TestTruncateQuirk(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Mix: "s19jpro:stock", Seed: 1, Net: testNet(205), Truncate: true, FreePorts: true})
	b := bytes.TrimRight(rawCG(t, f.Miner(0).CGMiner, `{"command":"summary"}`), "\x00")
	if !bytes.HasSuffix(b, []byte(`"id":0`)) {
		t.Fatalf("truncated reply ends %q, want `\"id\":0` without the brace", b[max(0, len(b)-20):])
	}
}

func TestLuxOSSessionControl(t *testing.T) {
	f, idx := fourDialects(t, 206)
	i := idx[LuxOS]
	v := cgReplyJSON(t, f, i, "logon")
	sid := v["SESSION"].([]any)[0].(map[string]any)["SessionID"].(string)
	if sid == "" {
		t.Fatal("empty SessionID")
	}
	if l, _, msg := status(t, cgReplyJSON(t, f, i, "logon")); l != "E" || !strings.Contains(msg, "Another session") {
		t.Fatalf("second logon: %s %q, want E Another session is active", l, msg)
	}
	if l, _, _ := status(t, cgReplyJSON(t, f, i, "profileset|"+sid+",-2")); l != "E" {
		t.Fatal("profileset with ATM on succeeded, want E")
	}
	if l, _, msg := status(t, cgReplyJSON(t, f, i, "atmset|"+sid+",enabled=false")); l != "S" {
		t.Fatalf("atmset: %s %q", l, msg)
	}
	if l, _, msg := status(t, cgReplyJSON(t, f, i, "profileset|"+sid+",0,-2")); l != "S" {
		t.Fatalf("profileset (board form): %s %q", l, msg)
	}
	if l, _, msg := status(t, cgReplyJSON(t, f, i, "curtail|"+sid+",sleep")); l != "S" {
		t.Fatalf("curtail sleep: %s %q", l, msg)
	}
	f.Advance(5 * time.Second)
	if p := f.Telemetry(i).PowerW; p > 30 {
		t.Fatalf("LuxOS power 5 s after curtail sleep = %.1f W, want ≤ 30 W", p)
	}
	cgReplyJSON(t, f, i, "curtail|"+sid+",sleep")
	cgReplyJSON(t, f, i, `{"command":"curtail","parameter":"`+sid+`,wakeup,mode=safe"}`)
	f.Advance(10 * time.Second)
	if tl := f.Telemetry(i); tl.State != physics.Hashing || tl.HashGH < 0.9*tl.IdealGH {
		t.Fatalf("LuxOS 10 s after wakeup: %s %.0f of %.0f GH/s, want hashing", tl.State, tl.HashGH, tl.IdealGH)
	}
	if l, _, _ := status(t, cgReplyJSON(t, f, i, "logoff|"+sid)); l != "S" {
		t.Fatal("logoff failed")
	}
	if got := f.Requests(i); got != 9 {
		t.Fatalf("Requests = %d, want 9", got)
	}
	c := f.Commands(i)
	if c.Sleep != 2 || c.Wake != 1 || c.Profile != 1 || c.Repeats != 1 || c.Refused != 1 {
		t.Fatalf("LuxOS counters %+v, want sleep 2 (1 repeat), wake 1, profile 1, refused 1", c)
	}
	log := f.CommandLog(i)
	if len(log) != 5 || log[0].Refused == "" || log[3].Changed {
		t.Fatalf("command log %+v", log)
	}
}

func TestBosminerPause(t *testing.T) {
	f, idx := fourDialects(t, 207)
	i := idx[Braiins]
	if l, _, _ := status(t, cgReplyJSON(t, f, i, "pause")); l != "S" {
		t.Fatal("pause failed")
	}
	f.Advance(10 * time.Second)
	if p := f.Telemetry(i).PowerW; p > 30 {
		t.Fatalf("power after pause %.1f W, want ≤ 30", p)
	}
	cgReplyJSON(t, f, i, "resume")
	f.Advance(10 * time.Second)
	if st := f.Telemetry(i).State; st == physics.Hashing {
		t.Fatal("Braiins hashing 10 s after resume; want tens of seconds")
	}
	f.Advance(60 * time.Second)
	if st := f.Telemetry(i).State; st != physics.Hashing {
		t.Fatalf("Braiins %s 70 s after resume, want hashing", st)
	}
	if c := f.Commands(i); c.Sleep != 1 || c.Wake != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestBtminerQuirks(t *testing.T) {
	f, idx := fourDialects(t, 208)
	i := idx[Whatsminer]
	if err := f.InjectFault(i, physics.Fault{Kind: physics.ChipDrop, Start: -3600, FailAt: 0, Target: 0}); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Second)
	devs := string(rawCG(t, f.Miner(i).CGMiner, "edevs"))
	if !strings.Contains(devs, `"DEVS":[,{"ASC":1`) {
		t.Fatalf("edevs with board 0 lost: want the `[,{` quirk, got %.200s", devs)
	}
	f.Do(i, func(m *physics.Miner) { m.Sleep() })
	f.Advance(time.Minute)
	sum := string(rawCG(t, f.Miner(i).CGMiner, "summary"))
	if !strings.Contains(sum, `"Power Rate":inf`) {
		t.Fatalf("sleeping btminer summary: want bare inf Power Rate, got %.400s", sum)
	}
}

func TestLuxOSSessionExpires(t *testing.T) {
	f, idx := fourDialects(t, 209)
	i := idx[LuxOS]
	cgReplyJSON(t, f, i, "logon")
	if l, _, _ := status(t, cgReplyJSON(t, f, i, "logon")); l != "E" {
		t.Fatal("second logon accepted while the first session is fresh")
	}
	f.Advance(11 * time.Minute)
	if l, _, msg := status(t, cgReplyJSON(t, f, i, "logon")); l != "S" {
		t.Fatalf("logon after 11 idle minutes: %s %q, want the old session expired", l, msg)
	}
}
