// Package miner talks to ASIC miners in their own firmware dialects: it reads
// telemetry into one typed Reading and sends sleep, wake, power and profile
// commands, for stock Antminer, LuxOS, Braiins OS+ and Whatsminer firmware.
package miner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Target is where a miner is reached. Ports left at zero take the dialect's
// standard ports (4028, 80, 4433).
type Target struct {
	Host           string  // IP address or host name
	Dialect        Dialect // known dialect; empty means detect
	CGMinerPort    int
	HTTPPort       int
	WhatsminerPort int
}

// CGMinerAddr is host:port of the cgminer API.
func (t Target) CGMinerAddr() string {
	return net.JoinHostPort(t.Host, port(t.CGMinerPort, CGMinerPort))
}

// HTTPBase is the web interface's base URL.
func (t Target) HTTPBase() string { return "http://" + net.JoinHostPort(t.Host, port(t.HTTPPort, 80)) }

// WhatsminerAddr is host:port of the Whatsminer API v3.
func (t Target) WhatsminerAddr() string {
	return net.JoinHostPort(t.Host, port(t.WhatsminerPort, WhatsminerPort))
}

func port(p, def int) string {
	if p == 0 {
		p = def
	}
	return strconv.Itoa(p)
}

// Credentials log in to a miner's control interface.
type Credentials struct {
	User     string
	Password string
}

// DefaultCredentials are the factory logins of each firmware: stock Antminer
// web root/root; Braiins OS+ root with the password set at first boot ("root"
// on many fleet images); Whatsminer API v3 account "super" password "super";
// LuxOS's API sessions need no password.
var DefaultCredentials = map[Dialect]Credentials{
	DialectAntminer:   {User: "root", Password: "root"},
	DialectBraiins:    {User: "root", Password: "root"},
	DialectWhatsminer: {User: "super", Password: "super"},
	DialectLuxOS:      {User: "root", Password: "root"},
}

// Options configure how miners are reached.
type Options struct {
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Credentials chooses the login of one miner; nil or an empty result
	// falls back to DefaultCredentials.
	Credentials func(t Target, d Dialect) Credentials
	// Light leaves pools out of Read: a control loop's sweep needs
	// hashrate, power and temperatures every cycle, pools rarely.
	Light bool
}

func (o Options) creds(t Target, d Dialect) Credentials {
	if o.Credentials != nil {
		if c := o.Credentials(t, d); c != (Credentials{}) {
			return c
		}
	}
	return DefaultCredentials[d]
}

// Identity is what a miner says it is.
type Identity struct {
	Make     string
	Model    string
	Firmware string
}

// Outcome says whether a command changed anything.
type Outcome int

// Outcomes of a Controller call.
const (
	Sent        Outcome = iota // the command was sent and accepted
	AlreadyDone                // telemetry showed the miner already in the asked state; nothing sent
)

func (o Outcome) String() string {
	if o == AlreadyDone {
		return "already"
	}
	return "sent"
}

// Controller is what a fleet controller needs to change a miner. Calls are
// idempotent: each first reads telemetry and returns AlreadyDone without
// sending anything when the miner is already in the asked state. Sent means
// accepted by the firmware, not yet confirmed: confirm with WaitState.
type Controller interface {
	Sleep(ctx context.Context) (Outcome, error)
	Wake(ctx context.Context) (Outcome, error)
	// SetPowerTarget asks for a power draw in watts: a native target on
	// Braiins OS+ and Whatsminer, the closest profile at or below it on LuxOS.
	SetPowerTarget(ctx context.Context, watts int) (Outcome, error)
	// SetProfile selects a named profile: LuxOS profile names ("default",
	// "-2", "+1"), stock Antminer modes ("normal", "low"), or a wattage
	// ("2800W") on firmware with power targets.
	SetProfile(ctx context.Context, profile string) (Outcome, error)
	Reboot(ctx context.Context) (Outcome, error)
	Blink(ctx context.Context, on bool) (Outcome, error)
}

// ensure is the idempotent shape of Sleep and Wake: read telemetry, return
// AlreadyDone when done holds for its state, otherwise send.
func ensure(ctx context.Context, r Reader, done func(State) bool, send func() error) (Outcome, error) {
	rd, err := r.Read(ctx)
	if err != nil {
		return Sent, err
	}
	if done(rd.State) {
		return AlreadyDone, nil
	}
	return Sent, send()
}

// asleep and awake are the states that satisfy Sleep and Wake; a miner
// already starting is awake, as sending wake again would restart its boot.
func asleep(s State) bool { return s == StateSleeping }
func awake(s State) bool  { return s == StateHashing || s == StateStarting }

// Reader reads telemetry.
type Reader interface {
	Read(ctx context.Context) (Reading, error)
}

// Miner is one miner in a known dialect.
type Miner interface {
	Reader
	Controller
	Target() Target
	Dialect() Dialect
	Identity() Identity
}

// Open returns the Miner for t in dialect d without any I/O. id may be
// zero; the first Read fills in what telemetry tells.
func Open(t Target, d Dialect, id Identity, opt Options) (Miner, error) {
	t.Dialect = d
	b := &base{t: t, d: d, id: id, opt: opt,
		cg: &CGMiner{Addr: t.CGMinerAddr(), Timeout: opt.Timeout}}
	switch d {
	case DialectLuxOS:
		return &luxOS{base: b}, nil
	case DialectBraiins:
		c := opt.creds(t, d)
		return &braiins{base: b, rest: &BraiinsREST{Base: t.HTTPBase(), User: c.User, Password: c.Password, Timeout: opt.Timeout}}, nil
	case DialectAntminer:
		c := opt.creds(t, d)
		return &antminer{base: b, web: &AntminerWeb{Base: t.HTTPBase(), User: c.User, Password: c.Password, Timeout: opt.Timeout}}, nil
	case DialectWhatsminer:
		c := opt.creds(t, d)
		return &whatsminer{base: b, api: &WhatsminerAPI{Addr: t.WhatsminerAddr(), Timeout: opt.Timeout, Account: c.User, Password: c.Password}}, nil
	case DialectCGMiner:
		return &genericCG{base: b}, nil
	}
	return nil, fmt.Errorf("miner %s: %w: dialect %q", t.Host, ErrUnknownFirmware, d)
}

// Dial detects t's dialect when t.Dialect is empty, then opens it.
func Dial(ctx context.Context, t Target, opt Options) (Miner, error) {
	if t.Dialect != DialectUnknown {
		return Open(t, t.Dialect, Identity{}, opt)
	}
	d, id, err := Detect(ctx, t, opt)
	if err != nil {
		return nil, err
	}
	return Open(t, d, id, opt)
}

// base holds what every dialect shares. A Miner may be read and commanded
// from several goroutines; mu guards id, which reads fill in.
type base struct {
	t   Target
	d   Dialect
	opt Options
	cg  *CGMiner

	mu sync.Mutex
	id Identity
}

func (b *base) Target() Target   { return b.t }
func (b *base) Dialect() Dialect { return b.d }

func (b *base) Identity() Identity {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id
}

// newReading starts a Reading with what the miner is known to be.
func (b *base) newReading() Reading {
	id := b.Identity()
	return Reading{Addr: b.t.Host, Dialect: b.d, At: time.Now(), Make: id.Make, Model: id.Model, Firmware: id.Firmware}
}

// finish completes a reading: identity from telemetry, make from model,
// state, power estimate.
func (b *base) finish(r *Reading, sleepFlag bool) {
	b.mu.Lock()
	if r.Model != "" && b.id.Model == "" {
		b.id.Model = r.Model
	}
	b.mu.Unlock()
	if r.Make == "" {
		r.Make = makeOf(r.Model)
	}
	r.classify(sleepFlag, r.PowerW > 0)
	r.estimatePower()
}

func makeOf(model string) string {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "antminer"), strings.HasPrefix(m, "s19"), strings.HasPrefix(m, "s21"), strings.HasPrefix(m, "s9"):
		return "Bitmain"
	case strings.Contains(m, "whatsminer"), strings.HasPrefix(m, "m3"), strings.HasPrefix(m, "m5"), strings.HasPrefix(m, "m6"):
		return "MicroBT"
	case strings.Contains(m, "avalon"):
		return "Canaan"
	}
	return ""
}

// readCG polls the given cgminer commands, plus pools unless Options.Light,
// as one multi-command request (or parallel singles where refused).
func (b *base) readCG(ctx context.Context, cmds ...string) (Reading, bool, error) {
	rs, err := b.cg.Multi(ctx, b.pollCommands(cmds...)...)
	if err != nil {
		return Reading{}, false, err
	}
	r := b.newReading()
	sleep := fromCGMiner(&r, rs)
	return r, sleep, nil
}

// pollCommands adds pools to cmds unless Options.Light.
func (b *base) pollCommands(cmds ...string) []string {
	if b.opt.Light {
		return cmds
	}
	return append(cmds, "pools")
}

// unsupported is the error for a command a firmware cannot do.
func (b *base) unsupported(op string) error {
	return &Error{Addr: b.t.Host, Op: op, Err: fmt.Errorf("%w (%s)", ErrUnsupported, b.d)}
}

// codeNoDevices is cgminer's STATUS code for devs with no device attached.
const codeNoDevices = 10

// genericCG is any other cgminer-API miner: readable, not controllable.
type genericCG struct{ *base }

// Read polls summary, devs and stats. Stock cgminer's stats hold only
// driver and pool counters, so per-device hashrate and temperature come
// from devs. cgminer answers devs with STATUS E code 10 ("No ASCs") when no
// device is attached; the reading is then taken without it.
func (g *genericCG) Read(ctx context.Context) (Reading, error) {
	r, sleep, err := g.readCG(ctx, "summary", "devs", "stats")
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == codeNoDevices {
		r, sleep, err = g.readCG(ctx, "summary", "stats")
	}
	if err != nil {
		return r, err
	}
	g.finish(&r, sleep)
	return r, nil
}

func (g *genericCG) Sleep(context.Context) (Outcome, error) { return Sent, g.unsupported("sleep") }
func (g *genericCG) Wake(context.Context) (Outcome, error)  { return Sent, g.unsupported("wake") }
func (g *genericCG) SetPowerTarget(context.Context, int) (Outcome, error) {
	return Sent, g.unsupported("power target")
}
func (g *genericCG) SetProfile(context.Context, string) (Outcome, error) {
	return Sent, g.unsupported("profile")
}
func (g *genericCG) Reboot(context.Context) (Outcome, error) { return Sent, g.unsupported("reboot") }
func (g *genericCG) Blink(context.Context, bool) (Outcome, error) {
	return Sent, g.unsupported("blink")
}

var _ Miner = (*genericCG)(nil)
