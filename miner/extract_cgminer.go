package miner

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// fromCGMiner fills r from whichever cgminer-family replies are present
// (summary, stats, devs/edevs, pools, and the dialect extras power,
// tunerstatus, fans, temps). It never fails: missing or odd fields stay
// zero, because a partial reading is worth more than none. It returns the
// firmware's own sleep flag, if it gave one.
func fromCGMiner(r *Reading, rs map[string]*Response) (sleeping bool) {
	if s := first(rs, "summary", "SUMMARY"); s != nil {
		r.HashrateTHs = hashTHs(s, nowKeys(s)...)
		r.HashrateAvgTHs = hashTHs(s, "GHS av", "MHS av")
		if v, ok := Lookup(s, "Elapsed"); ok {
			if e, ok := Int(v); ok && e > 0 {
				r.Uptime = time.Duration(e) * time.Second
			}
		}
		r.Accepted = intOf(s, "Accepted")
		r.Rejected = intOf(s, "Rejected")
		r.HWErrors = intOf(s, "Hardware Errors")
		if v, ok := Lookup(s, "Device Hardware%"); ok {
			if f, ok := Float(v); ok {
				r.HWErrorRate = f / 100
			}
		}
		if w := floatOf(s, "Power", "Watts", "Power Realtime"); w > 0 {
			r.PowerW = w
		}
		if pl := floatOf(s, "Power Limit"); pl > 0 {
			r.PowerLimitW = pl
		}
		// btminer (Whatsminer on 4028) reports these in its summary.
		if v, ok := Lookup(s, "Factory GHS"); ok {
			r.HashrateIdealTHs, _ = hashValue("GHS", v)
		}
		r.InletC = floatOf(s, "Env Temp")
		r.ChipMaxC = floatOf(s, "Chip Temp Max")
		for _, k := range []string{"Fan Speed In", "Fan Speed Out"} {
			if v, ok := Lookup(s, k); ok {
				f, _ := Float(v)
				r.FansRPM = append(r.FansRPM, f)
			}
		}
	}
	if st := rs["stats"]; st != nil {
		sleeping = statsInto(r, st.Section("STATS"))
	}
	if d := rs["devs"]; d != nil {
		devsInto(r, d.Section("DEVS"))
	} else if d := rs["edevs"]; d != nil {
		devsInto(r, d.Section("DEVS"))
	}
	if dd := rs["devdetails"]; dd != nil {
		// bosminer lists each board's answering chips in DEVDETAILS.
		for i, d := range dd.Section("DEVDETAILS") {
			if i < len(r.Boards) && r.Boards[i].ChipsFound == 0 {
				n := int(intOf(d, "Chips"))
				r.Boards[i].ChipsFound = n
				r.ChipsFound += n
			}
		}
	}
	if p := rs["pools"]; p != nil {
		r.Pools = poolsOf(p.Section("POOLS"))
	}
	if p := first(rs, "power", "POWER"); p != nil {
		if w := floatOf(p, "Watts", "Power"); w > 0 {
			r.PowerW = w
		}
	}
	if t := first(rs, "tunerstatus", "TUNERSTATUS"); t != nil {
		if w := floatOf(t, "ApproximateMinerPowerConsumption"); w > 0 {
			r.PowerW = w
		}
		if pl := floatOf(t, "PowerLimit"); pl > 0 {
			r.PowerLimitW = pl
		}
	}
	if f := rs["fans"]; f != nil && len(r.FansRPM) == 0 {
		for _, fan := range f.Section("FANS") {
			r.FansRPM = append(r.FansRPM, floatOf(fan, "RPM"))
		}
	}
	if t := rs["temps"]; t != nil {
		// TEMPS lists one entry per board: board (PCB) and chip sensors.
		// It names no air inlet or outlet, so those stay unreported.
		for i, e := range t.Section("TEMPS") {
			chip, pcb := floatOf(e, "Chip"), floatOf(e, "Board")
			r.ChipMaxC = max(r.ChipMaxC, chip)
			if i < len(r.Boards) {
				if chip > 0 && len(r.Boards[i].ChipTempsC) == 0 {
					r.Boards[i].ChipTempsC = []float64{chip}
				}
				if pcb > 0 && len(r.Boards[i].PCBTempsC) == 0 {
					r.Boards[i].PCBTempsC = []float64{pcb}
				}
			}
		}
	}
	if r.HashrateTHs == 0 && r.HashrateAvgTHs > 0 && r.Uptime < 10*time.Second {
		r.HashrateTHs = r.HashrateAvgTHs
	}
	return sleeping
}

func first(rs map[string]*Response, cmd, section string) map[string]any {
	if x := rs[cmd]; x != nil {
		return x.First(section)
	}
	return nil
}

// nowKeys lists the keys of m that hold the current hashrate, best first:
// cgminer names its rolling average after its log interval ("MHS 5s" by
// default, "MHS 10s" under --log 10; api.c builds the key with
// "MHS %ds"), so any "MHS <n>s" or "GHS <n>s" key counts, shortest
// interval first, then the one-minute average.
func nowKeys(m map[string]any) []string {
	keys := []string{"GHS 5s", "MHS 5s"}
	type rolling struct {
		key  string
		secs int
	}
	var rs []rolling
	for k := range m {
		if len(k) < 6 || k[len(k)-1] != 's' {
			continue
		}
		u := strings.ToUpper(k[:4])
		if u != "GHS " && u != "MHS " {
			continue
		}
		n, err := strconv.Atoi(k[4 : len(k)-1])
		if err != nil || n <= 0 || n == 5 {
			continue
		}
		rs = append(rs, rolling{k, n})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].secs != rs[j].secs {
			return rs[i].secs < rs[j].secs
		}
		return rs[i].key < rs[j].key
	})
	for _, r := range rs {
		keys = append(keys, r.key)
	}
	return append(keys, "GHS 1m", "MHS 1m")
}

// hashTHs reads the first present hashrate key and converts it to TH/s.
// GHS keys are in GH/s and MHS keys in MH/s unless the value carries its own
// SI prefix ("13.5T" is H/s).
func hashTHs(m map[string]any, keys ...string) float64 {
	for _, k := range keys {
		v, ok := Lookup(m, k)
		if !ok {
			continue
		}
		if th, ok := hashValue(k, v); ok {
			return th
		}
	}
	return 0
}

// hashValue converts one hashrate value of field key to TH/s.
func hashValue(key string, v any) (float64, bool) {
	f, _, scaled, ok := Quantity(v)
	if !ok {
		return 0, false
	}
	switch {
	case scaled:
		return f / 1e12, true
	case strings.HasPrefix(strings.ToUpper(key), "MHS"):
		return f / 1e6, true
	case strings.HasPrefix(strings.ToUpper(key), "THS"):
		return f, true
	}
	return f / 1e3, true
}

func floatOf(m map[string]any, keys ...string) float64 {
	if v, ok := Lookup(m, keys...); ok {
		if f, ok := Float(v); ok {
			return f
		}
	}
	return 0
}

func intOf(m map[string]any, keys ...string) int64 {
	if v, ok := Lookup(m, keys...); ok {
		if n, ok := Int(v); ok {
			return n
		}
	}
	return 0
}

func strOf(m map[string]any, keys ...string) string {
	if v, ok := Lookup(m, keys...); ok {
		s, _ := String(v)
		return s
	}
	return ""
}

// numberedKeys indexes the keys of m that end in a number, such as
// chain_rate6, temp2_1 or fan5, by name and number: stats carries a dozen
// such families and reading them through one pass beats a scan per key.
type numberedKeys map[string]map[int]any

func indexNumbered(m map[string]any) numberedKeys {
	ix := numberedKeys{}
	for k, v := range m {
		j := len(k)
		for j > 0 && k[j-1] >= '0' && k[j-1] <= '9' {
			j--
		}
		if j == len(k) || j == 0 || len(k)-j > 2 {
			continue
		}
		n, err := strconv.Atoi(k[j:])
		if err != nil || n <= 0 {
			continue
		}
		name := k[:j]
		if ix[name] == nil {
			ix[name] = map[int]any{}
		}
		ix[name][n] = v
	}
	return ix
}

// get returns the first present value of name<i> for the names given.
func (ix numberedKeys) get(i int, names ...string) (any, string, bool) {
	for _, name := range names {
		if v, ok := ix[name][i]; ok {
			return v, name, true
		}
	}
	return nil, "", false
}

func (ix numberedKeys) float(i int, names ...string) float64 {
	v, _, _ := ix.get(i, names...)
	f, _ := Float(v)
	return f
}

func (ix numberedKeys) hash(i int, names ...string) float64 {
	v, name, ok := ix.get(i, names...)
	if !ok {
		return 0
	}
	th, _ := hashValue(name, v)
	return th
}

func sortedKeys(m map[int]any) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// statsInto reads bmminer/LUXminer STATS: element 0 holds version info, the
// next the board data. It reports a firmware sleep flag (Mode 1 or
// "sleep").
func statsInto(r *Reading, elems []map[string]any) (sleeping bool) {
	var board map[string]any
	for _, e := range elems {
		if t := strOf(e, "Type"); t != "" && r.Model == "" {
			r.Model = t
		}
		if _, ok := Lookup(e, "miner_count", "fan_num", "chain_acn1", "total_rate", "temp_num"); ok && board == nil {
			board = e
		}
	}
	if board == nil {
		return false
	}
	if r.HashrateTHs == 0 {
		r.HashrateTHs = hashTHs(board, "GHS 5s", "total_rate")
	}
	if r.HashrateAvgTHs == 0 {
		r.HashrateAvgTHs = hashTHs(board, "GHS av")
	}
	r.HashrateIdealTHs = hashTHs(board, "total_rateideal", "total_rate_ideal")
	if r.Uptime == 0 {
		if e := intOf(board, "Elapsed"); e > 0 {
			r.Uptime = time.Duration(e) * time.Second
		}
	}
	if mode, ok := Lookup(board, "Mode", "miner-mode"); ok {
		switch s, _ := String(mode); strings.ToLower(s) {
		case "1", "sleep":
			sleeping = true
			r.Profile = "sleep"
		case "3", "low", "lpm":
			r.Profile = "low"
		case "0", "normal":
			r.Profile = "normal"
		}
	}
	if w := floatOf(board, "chain_power", "power", "Power"); w > 0 && r.PowerW == 0 {
		r.PowerW = w
	}

	// Fans: fan1..fanN with fan_num of them real. Firmware pads the list
	// with zero placeholders: S19-era bmminer numbers from fan5, S9 reports
	// fan3 and fan6 of fan1..fan8, cgminer's bitmain driver lists fan1..fan16.
	// Keep fan_num of them, dropping zero placeholders (from the front, then
	// the back, then between), but keep a real fan that reads 0 (stopped).
	ix := indexNumbered(board)
	if keys := fanKeys(ix["fan"], int(intOf(board, "fan_num"))); len(keys) > 0 {
		fans := ix["fan"]
		r.FansRPM = r.FansRPM[:0]
		for _, k := range keys {
			f, _ := Float(fans[k])
			r.FansRPM = append(r.FansRPM, f)
		}
	}

	// Boards: one per chain index that has any chain data.
	idx := map[int]bool{}
	for _, p := range []string{"chain_acn", "chain_rate", "chain_acs", "temp_chip", "temp_pcb"} {
		for k := range ix[p] {
			idx[k] = true
		}
	}
	var order []int
	for k := range idx {
		order = append(order, k)
	}
	sort.Ints(order)
	var inlet, outlet []float64
	r.Boards = r.Boards[:0]
	for _, i := range order {
		b := Board{Index: i}
		b.HashrateTHs = ix.hash(i, "chain_rate")
		b.IdealTHs = ix.hash(i, "chain_rateideal", "chain_rate_ideal")
		b.ChipsFound = int(ix.float(i, "chain_acn"))
		if v, _, ok := ix.get(i, "chain_acs"); ok {
			if acs, _ := String(v); acs != "" {
				ok, bad := ChipMap(acs)
				b.ChipsBad = bad
				b.ChipsExpected = ok + bad
				if b.ChipsFound == 0 && ok > 0 {
					b.ChipsFound = ok
				}
			}
		}
		hw, _ := Int(ix["chain_hw"][i])
		b.HWErrors = hw
		b.FreqMHz = ix.float(i, "freq", "freq_avg", "chain_freq")
		if v, _, ok := ix.get(i, "temp_chip", "temp2_"); ok {
			b.ChipTempsC = Dashed(v)
		}
		if v, _, ok := ix.get(i, "temp_pcb", "temp"); ok {
			b.PCBTempsC = Dashed(v)
		}
		if isPlaceholder(b) {
			continue
		}
		// Four-sensor boards list inlet-side sensors first, outlet-side last.
		if len(b.PCBTempsC) == 4 {
			inlet = append(inlet, b.PCBTempsC[:2]...)
			outlet = append(outlet, b.PCBTempsC[2:]...)
		}
		for _, c := range b.ChipTempsC {
			r.ChipMaxC = max(r.ChipMaxC, c)
		}
		r.ChipsFound += b.ChipsFound
		r.ChipsExpected += b.ChipsExpected
		r.Boards = append(r.Boards, b)
	}
	r.InletC = meanNonZero(inlet)
	r.OutletC = meanNonZero(outlet)
	if r.ChipMaxC == 0 {
		for _, v := range ix["temp2_"] {
			for _, c := range Dashed(v) {
				r.ChipMaxC = max(r.ChipMaxC, c)
			}
		}
	}
	if r.HashrateIdealTHs == 0 {
		for _, b := range r.Boards {
			r.HashrateIdealTHs += b.IdealTHs
		}
	}
	return sleeping
}

// fanKeys picks the fan numbers to report: all of them when fan_num (n) is
// absent or covers them, else n of them, dropping zero-reading slots first
// from the front, then from the back, then from between.
func fanKeys(fans map[int]any, n int) []int {
	keys := sortedKeys(fans)
	if n <= 0 || len(keys) <= n {
		return keys
	}
	zero := func(k int) bool { f, _ := Float(fans[k]); return f == 0 }
	for len(keys) > n && zero(keys[0]) {
		keys = keys[1:]
	}
	for len(keys) > n && zero(keys[len(keys)-1]) {
		keys = keys[:len(keys)-1]
	}
	for i := 0; i < len(keys) && len(keys) > n; {
		if zero(keys[i]) {
			keys = append(keys[:i:i], keys[i+1:]...)
			continue
		}
		i++
	}
	return keys
}

// isPlaceholder spots the all-zero chain slots older firmware lists for
// connectors with no board (S9: chains 1–5 empty, 6–8 real).
func isPlaceholder(b Board) bool {
	if b.ChipsFound != 0 || b.ChipsExpected != 0 || b.HashrateTHs != 0 || b.IdealTHs != 0 {
		return false
	}
	for _, t := range append(append([]float64{}, b.ChipTempsC...), b.PCBTempsC...) {
		if t != 0 {
			return false
		}
	}
	return true
}

func meanNonZero(xs []float64) float64 {
	var s float64
	n := 0
	for _, x := range xs {
		if x != 0 {
			s += x
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// devsInto adds per-board figures from DEVS where stats gave none (Braiins,
// generic cgminer).
func devsInto(r *Reading, devs []map[string]any) {
	if len(r.Boards) > 0 {
		return
	}
	for i, d := range devs {
		b := Board{Index: i}
		if v, ok := Lookup(d, "ASC", "ID"); ok {
			if n, ok := Int(v); ok {
				b.Index = int(n)
			}
		}
		b.HashrateTHs = hashTHs(d, append(nowKeys(d), "MHS av", "GHS av")...)
		b.HWErrors = intOf(d, "Hardware Errors")
		if t := floatOf(d, "Temperature", "Chip Temp"); t > 0 {
			b.ChipTempsC = []float64{t}
			r.ChipMaxC = max(r.ChipMaxC, t)
		}
		b.ChipsFound = int(intOf(d, "Chips", "chip_count", "Effective Chips"))
		b.ChipsExpected = int(intOf(d, "Nominal Chips", "chips_expected"))
		r.ChipsFound += b.ChipsFound
		r.ChipsExpected += b.ChipsExpected
		r.Boards = append(r.Boards, b)
	}
}

func poolsOf(pools []map[string]any) []Pool {
	out := make([]Pool, 0, len(pools))
	for _, p := range pools {
		pl := Pool{
			URL:      strOf(p, "URL"),
			User:     strOf(p, "User"),
			Accepted: intOf(p, "Accepted"),
			Rejected: intOf(p, "Rejected"),
		}
		pl.Alive = strings.EqualFold(strOf(p, "Status"), "Alive")
		pl.Active = boolOf(p, "Stratum Active")
		out = append(out, pl)
	}
	return out
}

// boolOf reads a JSON boolean or its text spelling ("true", "Y").
func boolOf(m map[string]any, keys ...string) bool {
	v, ok := Lookup(m, keys...)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "true", "y", "yes", "1":
			return true
		}
	}
	return false
}
