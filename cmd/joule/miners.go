package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/miner"
)

const minersUsage = `usage: joule miners <scan|sleep|wake|profile NAME|power WATTS|reboot|blink> [flags]

  scan            detect and read the selected miners, print a table
  sleep, wake     hashboards off / back to hashing (no-op when already so)
  profile NAME    LuxOS profile ("default", "-2"), stock mode (normal, low),
                  or a wattage ("2800W") on Braiins OS+ / Whatsminer
  power WATTS     power target
  reboot, blink   restart the miner / flash its locate LED (blink --off stops it)

Select miners with --ips, --cidr, --range (any mix), narrow with --model.`

// runMiners scans miners and sends them commands.
func runMiners(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, minersUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: miners needs a subcommand", errUsage)
		}
		return flag.ErrHelp
	}
	verb, rest := args[0], args[1:]
	var action miner.Action
	switch verb {
	case "scan":
	case "sleep", "wake", "reboot":
		action.Kind = verb
	case "blink":
		action = miner.Action{Kind: "blink", On: true}
	case "profile", "power":
		// LuxOS profiles are named "-2", "+1": a leading minus is a value
		// when a number follows it.
		if len(rest) == 0 || (strings.HasPrefix(rest[0], "-") && !isNumber(rest[0])) {
			return fmt.Errorf("%w: miners %s needs a value, e.g. `joule miners %s %s --ips 10.0.0.5`", errUsage, verb, verb, map[string]string{"profile": "-2", "power": "2800"}[verb])
		}
		action.Kind = verb
		if verb == "profile" {
			action.Profile = rest[0]
		} else {
			w, err := strconv.Atoi(strings.TrimSuffix(strings.ToUpper(rest[0]), "W"))
			if err != nil || w <= 0 {
				return fmt.Errorf("%w: power %q: want whole watts, e.g. 2800", errUsage, rest[0])
			}
			action.Watts = w
		}
		rest = rest[1:]
	default:
		fmt.Fprintln(stderr, minersUsage)
		return fmt.Errorf("%w: unknown miners subcommand %q", errUsage, verb)
	}

	fs := flag.NewFlagSet("miners "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sel miner.Selection
	fs.StringVar(&sel.IPs, "ips", "", "comma-separated miner addresses")
	fs.StringVar(&sel.CIDR, "cidr", "", "comma-separated CIDR blocks, e.g. 10.0.1.0/24")
	fs.StringVar(&sel.Ranges, "range", "", "comma-separated first-last ranges, e.g. 10.0.1.1-10.0.1.200")
	model := fs.String("model", "", "only miners whose model contains this text (case-insensitive)")
	dialect := fs.String("dialect", "", "skip detection, assume this firmware: "+dialectList())
	cgPort := fs.Int("port", miner.CGMinerPort, "cgminer API port")
	httpPort := fs.Int("http-port", 80, "web/REST port (stock Antminer, Braiins OS+)")
	wmPort := fs.Int("whatsminer-port", miner.WhatsminerPort, "Whatsminer API v3 port")
	user := fs.String("user", "", "login user for every selected miner (default: the firmware's default)")
	password := fs.String("password", "", "login password for every selected miner (default: the firmware's default)")
	credsPath := fs.String("creds", "", "JSON file of logins by IP, dialect or \"default\" (see docs/miners.md)")
	timeout := fs.Duration("timeout", 2*time.Second, "per-request timeout")
	conc := fs.Int("concurrency", 256, "miners polled at once")
	asJSON := fs.Bool("json", false, "print JSON instead of a table / result lines")
	rate := fs.Float64("rate", 5, "commands per second (token bucket)")
	burst := fs.Int("burst", 5, "command burst")
	wait := fs.Duration("wait", 5*time.Minute, "after sleep/wake, wait up to this long for telemetry to confirm (stock firmware takes minutes to wake; 0: don't wait)")
	off := fs.Bool("off", false, "with blink: turn the locate LED off")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *off {
		if verb != "blink" {
			return fmt.Errorf("%w: --off goes with blink", errUsage)
		}
		action.On = false
	}
	addrs, err := sel.Addrs()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	d := miner.Dialect(*dialect)
	if d != miner.DialectUnknown && !validDialect(d) {
		return fmt.Errorf("%w: --dialect %q: want one of %s", errUsage, *dialect, dialectList())
	}
	opt := miner.Options{Timeout: *timeout}
	if *credsPath != "" {
		cf, err := miner.LoadCredentials(*credsPath)
		if err != nil {
			return fmt.Errorf("%w: --creds: %v", errUsage, err)
		}
		opt.Credentials = cf.For
	}
	if *user != "" || *password != "" {
		opt.Credentials = func(miner.Target, miner.Dialect) miner.Credentials {
			return miner.Credentials{User: *user, Password: *password}
		}
	}
	targets := make([]miner.Target, len(addrs))
	for i, a := range addrs {
		targets[i] = miner.Target{Host: a.String(), Dialect: d, CGMinerPort: *cgPort, HTTPPort: *httpPort, WhatsminerPort: *wmPort}
	}
	p := &miner.Poller{Concurrency: *conc, Options: opt}
	miners, results := p.Scan(ctx, targets)

	if verb == "scan" {
		var rows []miner.Row
		for _, r := range results {
			if r.Err != nil && len(addrs) > 1 && isAbsent(r.Err) {
				continue // nothing there: a scan lists what it found
			}
			if *model != "" && !strings.Contains(strings.ToLower(r.Reading.Model), strings.ToLower(*model)) {
				continue
			}
			rows = append(rows, miner.RowOf(r))
		}
		if *asJSON {
			if rows == nil {
				rows = []miner.Row{}
			}
			return miner.WriteJSON(stdout, rows)
		}
		if err := miner.WriteTable(stdout, rows); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d of %d addresses answered\n", len(rows), len(addrs))
		return nil
	}

	audit := slog.New(slog.NewTextHandler(stderr, nil))
	cmdr := &miner.Commander{Limiter: miner.NewLimiter(*rate, *burst), Log: audit, Confirm: *wait, ConfirmEvery: time.Second}
	// Results land in selection order, whatever order commands finish in.
	slots := make([]*miner.CommandRow, len(miners))
	var send []int // indexes of the miners to command
	// Empty addresses inside a --cidr or --range block are skipped, as in a
	// scan; an address named with --ips must answer.
	blocks := sel.CIDR != "" || sel.Ranges != ""
	models := make([]string, len(miners))
	for i, m := range miners {
		if m == nil && blocks && isAbsent(results[i].Err) {
			continue
		}
		if m == nil {
			slots[i] = &miner.CommandRow{Addr: targets[i].Host, Action: action.String(), Outcome: "error", Error: results[i].Err.Error()}
			continue
		}
		mdl := results[i].Reading.Model
		if mdl == "" {
			mdl = m.Identity().Model
		}
		if *model != "" && !strings.Contains(strings.ToLower(mdl), strings.ToLower(*model)) {
			continue
		}
		models[i] = mdl
		send = append(send, i)
	}
	miner.Each(len(send), max(1, *conc), func(j int) {
		i := send[j]
		row := miner.CommandRowOf(cmdr.Run(ctx, miners[i], action), models[i])
		slots[i] = &row
	})
	rows := make([]miner.CommandRow, 0, len(slots))
	failed := 0
	for _, r := range slots {
		if r != nil {
			rows = append(rows, *r)
			if r.Error != "" {
				failed++
			}
		}
	}
	if *asJSON {
		if err := miner.WriteJSON(stdout, rows); err != nil {
			return err
		}
	} else {
		for _, r := range rows {
			fmt.Fprintln(stdout, r.Line())
		}
	}
	if len(rows) == 0 {
		return errors.New("miners: no miner matched the selection")
	}
	if failed > 0 {
		return fmt.Errorf("miners %s: %d of %d miners failed", verb, failed, len(rows))
	}
	return nil
}

// isAbsent reports an address where nothing answered at all (refused,
// unreachable, timed out), as opposed to a miner that answered badly.
func isAbsent(err error) bool {
	return errors.Is(err, miner.ErrUnknownFirmware)
}

func dialectList() string {
	s := make([]string, len(miner.Dialects))
	for i, d := range miner.Dialects {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

func validDialect(d miner.Dialect) bool {
	for _, x := range miner.Dialects {
		if x == d {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
