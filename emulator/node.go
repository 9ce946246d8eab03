package emulator

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// node is one emulated miner: its physics, identity, the per-dialect session
// state its servers keep, and its command log. mu guards everything.
type node struct {
	mu   sync.Mutex
	f    *Fleet
	m    *physics.Miner
	info MinerInfo
	rng  *rand.Rand // sessions, salts, network stalls; not the physics

	cmds     CommandCounts
	log      []Command
	requests atomic.Int64 // requests answered, every protocol

	luxSession   string  // LuxOS: the one open session id
	luxSessionAt float64 // LuxOS: when it was last used (simulated seconds)
	luxATM       bool    // LuxOS: auto-tuning manager enabled
	bosTokens    map[string]float64
	nonces       map[string]uint64 // digest nonce → highest nc seen
	wmSalt       string
	pools        int
}

// mix64 is SplitMix64's finaliser: turns (seed, index) into independent
// per-miner seeds.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func newNode(f *Fleet, i int, k MixEntry, r *rand.Rand) *node {
	seed := mix64(f.cfg.Seed ^ mix64(uint64(i)))
	n := &node{
		f:         f,
		m:         physics.New(k.Spec, k.Firmware, f.cfg.Ambient, seed),
		rng:       rand.New(rand.NewPCG(seed, 0x6e6f6465)),
		luxATM:    true,
		bosTokens: map[string]float64{},
		nonces:    map[string]uint64{},
		pools:     3,
	}
	addr := minerAddr(f.cfg.Net, i)
	n.info = MinerInfo{
		Index: i, Name: fmt.Sprintf("m%05d", i+1),
		Make: k.Spec.Make, Model: k.Spec.Model, ModelKey: k.Spec.Key, Firmware: k.Firmware,
		Addr:     addr,
		MAC:      fmt.Sprintf("02:4a:4f:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i)),
		Serial:   fmt.Sprintf("%s%012X", serialPrefix(k.Spec), seed&0xffffffffffff),
		Password: f.cfg.Password,
	}
	if n.info.Password == "" {
		n.info.Password = "root"
		if k.Firmware == physics.Whatsminer {
			n.info.Password = "super"
		}
	}
	n.wmSalt = randToken(n.rng, 8)
	if flt, ok := physics.DrawFault(r, k.Spec, f.cfg.FaultRate); ok {
		_ = n.m.AddFault(flt)
	}
	return n
}

func serialPrefix(s *physics.Spec) string {
	if s.Make == "MicroBT" {
		return "HTM"
	}
	return "JYZZ"
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randToken(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenChars[r.IntN(len(tokenChars))]
	}
	return string(b)
}

func randHex(r *rand.Rand, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// CommandKind is what a control command asks of the hardware.
type CommandKind uint8

// Control command kinds.
const (
	CmdSleep CommandKind = iota + 1
	CmdWake
	CmdProfile
	CmdPowerTarget
	CmdReboot
	CmdBlink
)

var cmdNames = [...]string{"", "sleep", "wake", "profile", "power_target", "reboot", "blink"}

func (k CommandKind) String() string {
	if int(k) < len(cmdNames) && k > 0 {
		return cmdNames[k]
	}
	return fmt.Sprintf("command(%d)", k)
}

// Command is one control command a miner received over the wire.
type Command struct {
	At       time.Time   // simulated time
	Kind     CommandKind // what it asked for
	Protocol string      // "cgminer", "http", "rest", "api3"
	Wire     string      // the command as named on the wire, e.g. "curtail", "set_miner_conf.cgi"
	Param    string      // its parameter (passwords and tokens removed)
	Changed  bool        // false when the miner was already in the asked state
	Refused  string      // non-empty when the firmware refused it (and why)
}

// CommandCounts counts a miner's control commands. Accepted counts are per
// kind; Repeats are accepted commands that changed nothing (what a
// controller that never sends a duplicate keeps at zero); Refused are
// commands the firmware rejected (bad auth, ATM on, read-only API ...).
type CommandCounts struct {
	Sleep, Wake, Profile, PowerTarget, Reboot, Blink int
	Repeats                                          int
	Refused                                          int
}

// Total is the number of accepted control commands.
func (c CommandCounts) Total() int {
	return c.Sleep + c.Wake + c.Profile + c.PowerTarget + c.Reboot + c.Blink
}

// record logs a control command; n.mu must be held.
func (n *node) record(c Command) {
	c.At = n.f.cfg.Epoch.Add(time.Duration(n.m.Now() * float64(time.Second)))
	n.log = append(n.log, c)
	if c.Refused != "" {
		n.cmds.Refused++
		return
	}
	switch c.Kind {
	case CmdSleep:
		n.cmds.Sleep++
	case CmdWake:
		n.cmds.Wake++
	case CmdProfile:
		n.cmds.Profile++
	case CmdPowerTarget:
		n.cmds.PowerTarget++
	case CmdReboot:
		n.cmds.Reboot++
	case CmdBlink:
		n.cmds.Blink++
	}
	if !c.Changed {
		n.cmds.Repeats++
	}
	n.f.log.Debug("command", "miner", n.info.Name, "kind", c.Kind.String(), "wire", c.Wire, "param", c.Param, "changed", c.Changed, "refused", c.Refused)
}

// Commands returns miner i's command counters.
func (f *Fleet) Commands(i int) CommandCounts {
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmds
}

// CommandLog returns a copy of miner i's control commands, oldest first.
func (f *Fleet) CommandLog(i int) []Command {
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Command(nil), n.log...)
}

// TotalCommands sums every miner's counters.
func (f *Fleet) TotalCommands() CommandCounts {
	var t CommandCounts
	for _, n := range f.nodes {
		n.mu.Lock()
		c := n.cmds
		n.mu.Unlock()
		t.Sleep += c.Sleep
		t.Wake += c.Wake
		t.Profile += c.Profile
		t.PowerTarget += c.PowerTarget
		t.Reboot += c.Reboot
		t.Blink += c.Blink
		t.Repeats += c.Repeats
		t.Refused += c.Refused
	}
	return t
}

// ResetCommands clears every miner's counters and logs.
func (f *Fleet) ResetCommands() {
	for _, n := range f.nodes {
		n.mu.Lock()
		n.cmds, n.log = CommandCounts{}, nil
		n.mu.Unlock()
	}
}

// Requests returns how many requests (reads and commands, every protocol)
// miner i has answered, for tests that bound a poller's rate.
func (f *Fleet) Requests(i int) int64 { return f.nodes[i].requests.Load() }
