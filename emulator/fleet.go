// Package emulator runs a fleet of emulated ASIC miners on loopback
// addresses, each speaking its firmware's real wire protocols: the
// cgminer-family JSON API on TCP 4028 (stock bmminer, LuxOS LUXminer, Braiins
// bosminer, Whatsminer btminer), the Whatsminer API v3 on TCP 4433, the stock
// Antminer web interface with HTTP Digest auth and the Braiins OS+ REST API on
// HTTP 80. Each miner is driven by the pure physics model in
// emulator/physics, advanced on a simulated clock that runs either
// accelerated against the wall clock (Config.Speed) or only when a test calls
// Fleet.Advance.
//
// Typical use in a test:
//
//	f, err := emulator.NewFleet(emulator.Config{Count: 4, Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1", Seed: 1})
//	...
//	if err := f.Start(ctx); err != nil { ... }
//	defer f.Close()
//	for _, m := range f.Miners() {
//		// m.Firmware, m.Model, m.CGMiner (127.0.x.y:4028), m.HTTP, m.Whatsminer
//	}
//	f.Advance(30 * time.Second)       // simulated time, deterministic
//	c := f.Commands(0)                 // per-miner command counters
//	f.InjectFault(2, physics.Fault{Kind: physics.FanWear, Start: 0, FailAt: 3600})
package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// Firmware is a miner's firmware, which fixes its API dialect.
type Firmware = physics.Firmware

// Firmwares, re-exported for callers that only import emulator.
const (
	Stock      = physics.Stock
	LuxOS      = physics.LuxOS
	Braiins    = physics.Braiins
	Whatsminer = physics.Whatsminer
)

// Default ports, as on real firmware.
const (
	PortCGMiner    = 4028
	PortHTTP       = 80
	PortWhatsminer = 4433
)

// ListenMode chooses how miners' endpoints are bound. There is one layout
// left: every endpoint on its miner's own 127.x.y.z address (a fleet never
// binds the wildcard address). The type stays so configurations that name
// a mode keep compiling.
type ListenMode uint8

// Listen modes. ListenAuto (the zero value) and ListenPerMiner both bind one
// socket per miner and port on the miner's own loopback address; Start
// refuses with an *FDLimitError when those do not fit the open-file limit.
const (
	ListenAuto ListenMode = iota
	ListenPerMiner
)

// Config describes a fleet.
type Config struct {
	// Count is the number of miners; 0 takes it from a Mix of plain counts.
	Count int
	// Mix is the fleet mix, see ParseMix; empty means DefaultMix.
	Mix string
	// Seed fixes everything random: model order, noise, faults.
	Seed uint64
	// Speed is simulated seconds per wall second once Start runs; 0 means
	// the clock moves only through Advance (for deterministic tests).
	Speed float64
	// Ambient is the inlet air (coolant for hydro models) temperature, °C;
	// 0 means 25.
	Ambient float64
	// FaultRate is random faults per miner per simulated day (0: none).
	FaultRate float64
	// Net is the /16 the miners live in: miner i gets 127.B.(1+i/254).(1+i%254)
	// where B is Net's second byte. Zero means 127.0.0.0.
	Net netip.Addr
	// Ports overrides the default ports (zero fields keep the defaults).
	// When a port cannot be bound the emulator falls back to a free port on
	// the same address and reports it in MinerInfo.
	Ports Ports
	// FreePorts binds every endpoint on a free port (port 0) instead of the
	// real ones, for tests that must not contend for fixed ports; the ports
	// chosen are in MinerInfo as always.
	FreePorts bool
	// Listen picks the listener layout (default ListenAuto, which is
	// ListenPerMiner).
	Listen ListenMode
	// Password for the web interfaces and Whatsminer API: empty means the
	// firmware default ("root" for Antminer stock and Braiins, "super" for
	// Whatsminer).
	Password string
	// Epoch is the simulated wall time at simulated second 0 (reported in
	// STATUS When fields). Zero means 2026-01-01T00:00:00Z.
	Epoch time.Time
	// Truncate makes stock bmminer end every reply in `"id":0` without the
	// closing brace, as some real builds do when the output overflows.
	Truncate bool
	// Logger receives listener and command events; nil discards them.
	Logger *slog.Logger
}

// Ports are the TCP ports a fleet serves on.
type Ports struct {
	CGMiner    int
	HTTP       int
	Whatsminer int
}

// MinerInfo is what a client needs to reach one emulated miner.
type MinerInfo struct {
	Index    int
	Name     string // "m00001"
	Make     string
	Model    string // as the firmware reports it, "Antminer S19j Pro"
	ModelKey string // "s19jpro"
	Firmware Firmware
	Addr     netip.Addr     // the miner's own loopback address
	CGMiner  netip.AddrPort // cgminer-family API (every dialect)
	HTTP     netip.AddrPort // stock Antminer web UI or Braiins REST; invalid when none
	API3     netip.AddrPort // Whatsminer API v3; invalid when none
	MAC      string
	Serial   string
	Password string // the password its web/API login accepts
}

// Fleet is a running (or ready to run) set of emulated miners.
type Fleet struct {
	cfg    Config
	nodes  []*node
	byAddr map[netip.Addr]*node
	log    *slog.Logger

	clockMu  sync.Mutex
	simT     float64 // simulated seconds, guarded by clockMu
	stepping sync.Mutex

	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	closed  atomic.Bool
	lis     *listeners
	wg      sync.WaitGroup

	muxOnce sync.Once
	cgi     *http.ServeMux // stock Antminer web interface
	rest    *http.ServeMux // Braiins OS+ REST API
}

// ErrConfig marks an invalid fleet configuration.
var ErrConfig = errors.New("invalid fleet config")

// NewFleet builds the miners of a fleet; nothing listens until Start.
func NewFleet(cfg Config) (*Fleet, error) {
	mixText := cfg.Mix
	if mixText == "" {
		mixText = DefaultMix
	}
	mix, err := ParseMix(mixText)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Count == 0 && cfg.Mix != "" {
		cfg.Count = mix.Size()
	}
	if cfg.Count < 1 {
		return nil, fmt.Errorf("%w: count %d, want ≥ 1 (or a mix of plain counts)", ErrConfig, cfg.Count)
	}
	if cfg.Count > maxMiners {
		return nil, fmt.Errorf("%w: count %d exceeds %d miners per /16", ErrConfig, cfg.Count, maxMiners)
	}
	if cfg.Speed < 0 {
		return nil, fmt.Errorf("%w: speed %g, want ≥ 0", ErrConfig, cfg.Speed)
	}
	if cfg.FaultRate < 0 {
		return nil, fmt.Errorf("%w: fault rate %g, want ≥ 0", ErrConfig, cfg.FaultRate)
	}
	if cfg.Listen > ListenPerMiner {
		return nil, fmt.Errorf("%w: listen mode %d: only per-miner listeners exist (each on the miner's own loopback address)", ErrConfig, cfg.Listen)
	}
	if cfg.Ambient == 0 {
		cfg.Ambient = 25
	}
	if cfg.Ambient < -40 || cfg.Ambient > 60 {
		return nil, fmt.Errorf("%w: ambient %g °C outside -40…60", ErrConfig, cfg.Ambient)
	}
	if !cfg.Net.IsValid() {
		cfg.Net = netip.AddrFrom4([4]byte{127, 0, 0, 0})
	}
	if !cfg.Net.Is4() || cfg.Net.As4()[0] != 127 {
		return nil, fmt.Errorf("%w: net %s is not in 127.0.0.0/8", ErrConfig, cfg.Net)
	}
	if cfg.Ports.CGMiner == 0 {
		cfg.Ports.CGMiner = PortCGMiner
	}
	if cfg.Ports.HTTP == 0 {
		cfg.Ports.HTTP = PortHTTP
	}
	if cfg.Ports.Whatsminer == 0 {
		cfg.Ports.Whatsminer = PortWhatsminer
	}
	for name, p := range map[string]int{"cgminer": cfg.Ports.CGMiner, "http": cfg.Ports.HTTP, "api3": cfg.Ports.Whatsminer} {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("%w: %s port %d outside 1…65535", ErrConfig, name, p)
		}
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	kinds, err := mix.Expand(cfg.Count)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{cfg: cfg, log: log, byAddr: make(map[netip.Addr]*node, cfg.Count)}
	// Shuffle the mix so models are spread over the address range, fixed
	// by the seed.
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6a6f756c65))
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	f.nodes = make([]*node, cfg.Count)
	for i, k := range kinds {
		n := newNode(f, i, k, r)
		f.nodes[i] = n
		f.byAddr[n.info.Addr] = n
	}
	return f, nil
}

// maxMiners is how many 127.B.x.y addresses one /16 offers (x 1…254,
// y 1…254).
const maxMiners = 254 * 254

// minerAddr is miner i's loopback address within net.
func minerAddr(net netip.Addr, i int) netip.Addr {
	b := net.As4()
	return netip.AddrFrom4([4]byte{127, b[1], byte(1 + i/254), byte(1 + i%254)})
}

// Config returns the configuration with defaults filled in.
func (f *Fleet) Config() Config { return f.cfg }

// Len is the number of miners.
func (f *Fleet) Len() int { return len(f.nodes) }

// Miners returns every miner's identity and endpoints. Endpoints are final
// after Start (a port that could not be bound is replaced by a free one).
func (f *Fleet) Miners() []MinerInfo {
	out := make([]MinerInfo, len(f.nodes))
	for i, n := range f.nodes {
		n.mu.Lock()
		out[i] = n.info
		n.mu.Unlock()
	}
	return out
}

// Miner returns one miner's info.
func (f *Fleet) Miner(i int) MinerInfo {
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.info
}

// Lookup finds a miner's index by its address.
func (f *Fleet) Lookup(a netip.Addr) (int, bool) {
	n, ok := f.byAddr[a]
	if !ok {
		return 0, false
	}
	return n.info.Index, true
}

// Start binds every endpoint and, when Config.Speed > 0, starts the clock.
// Cancelling ctx closes the fleet.
func (f *Fleet) Start(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errors.New("emulator: fleet already started")
	}
	f.ctx, f.cancel = context.WithCancel(ctx)
	lis, err := f.listen()
	if err != nil {
		f.cancel()
		return err
	}
	f.lis = lis
	if f.cfg.Speed > 0 {
		f.wg.Add(1)
		go f.runClock()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		<-f.ctx.Done()
		f.lis.close()
	}()
	return nil
}

// Close stops every listener and the clock and waits for them.
func (f *Fleet) Close() error {
	if !f.closed.CompareAndSwap(false, true) {
		return nil
	}
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	return nil
}

// Done is closed when the fleet stops.
func (f *Fleet) Done() <-chan struct{} {
	if f.ctx == nil {
		return nil
	}
	return f.ctx.Done()
}

// Now is the simulated wall time.
func (f *Fleet) Now() time.Time {
	return f.cfg.Epoch.Add(time.Duration(f.Elapsed() * float64(time.Second)))
}

// Elapsed is the simulated seconds since the fleet was built.
func (f *Fleet) Elapsed() float64 {
	f.clockMu.Lock()
	defer f.clockMu.Unlock()
	return f.simT
}

// Advance moves simulated time forward by d, stepping every miner's
// physics (in parallel over GOMAXPROCS workers). It is safe to call while
// servers answer requests and while the accelerated clock runs.
func (f *Fleet) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.step(d.Seconds())
}

func (f *Fleet) step(dt float64) {
	f.stepping.Lock()
	defer f.stepping.Unlock()
	workers := runtime.GOMAXPROCS(0)
	if workers > len(f.nodes)/256+1 {
		workers = len(f.nodes)/256 + 1
	}
	if workers <= 1 {
		stepNodes(f.nodes, dt)
	} else {
		var wg sync.WaitGroup
		chunk := (len(f.nodes) + workers - 1) / workers
		for lo := 0; lo < len(f.nodes); lo += chunk {
			hi := min(lo+chunk, len(f.nodes))
			wg.Go(func() { stepNodes(f.nodes[lo:hi], dt) })
		}
		wg.Wait()
	}
	f.clockMu.Lock()
	f.simT += dt
	f.clockMu.Unlock()
}

func stepNodes(ns []*node, dt float64) {
	for _, n := range ns {
		n.mu.Lock()
		n.m.Step(dt)
		n.mu.Unlock()
	}
}

// clockTick is how often the accelerated clock steps the fleet (wall).
const clockTick = 100 * time.Millisecond

// runClock advances simulated time at Config.Speed against the wall clock.
func (f *Fleet) runClock() {
	defer f.wg.Done()
	t := time.NewTicker(clockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-f.ctx.Done():
			return
		case now := <-t.C:
			wall := now.Sub(last)
			last = now
			// Cap one catch-up step so a stalled process does not jump hours.
			wall = min(wall, 5*time.Second)
			f.step(wall.Seconds() * f.cfg.Speed)
		}
	}
}

// Telemetry returns miner i's true physical state (what the firmware would
// report, without any dialect's formatting or rounding).
func (f *Fleet) Telemetry(i int) physics.Telemetry {
	var t physics.Telemetry
	n := f.nodes[i]
	n.mu.Lock()
	n.m.Telemetry(&t)
	n.mu.Unlock()
	return t
}

// TotalPower sums the wall power of every miner, W.
func (f *Fleet) TotalPower() float64 {
	var t physics.Telemetry
	sum := 0.0
	for _, n := range f.nodes {
		n.mu.Lock()
		n.m.Telemetry(&t)
		n.mu.Unlock()
		sum += t.PowerW
	}
	return sum
}

// Do runs fn with miner i's physics under its lock, for tests that need to
// act on the machine directly (set ambient, cut power, ...).
func (f *Fleet) Do(i int, fn func(m *physics.Miner)) {
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n.m)
}

// InjectFault schedules a fault on miner i. Start and FailAt are simulated
// seconds on the fleet clock (Elapsed).
func (f *Fleet) InjectFault(i int, flt physics.Fault) error {
	if i < 0 || i >= len(f.nodes) {
		return fmt.Errorf("inject fault: miner %d out of range 0…%d", i, len(f.nodes)-1)
	}
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.m.AddFault(flt); err != nil {
		return fmt.Errorf("miner %s: %w", n.info.Name, err)
	}
	return nil
}

// Repair removes miner i's faults and replaces the damaged parts (see
// physics.Miner.Repair).
func (f *Fleet) Repair(i int) {
	f.Do(i, func(m *physics.Miner) { m.Repair() })
}

// Faults returns miner i's scheduled faults (ground truth for training a
// health predictor).
func (f *Fleet) Faults(i int) []physics.Fault {
	n := f.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m.Faults()
}

// SetAmbient sets every miner's inlet (or coolant) temperature, °C.
func (f *Fleet) SetAmbient(c float64) {
	for _, n := range f.nodes {
		n.mu.Lock()
		n.m.SetAmbient(c)
		n.mu.Unlock()
	}
}
