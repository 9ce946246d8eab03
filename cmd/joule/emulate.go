package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/jouleworks/joule/emulator"
)

// runEmulate starts an emulated fleet on loopback addresses, prints each
// miner's endpoints and runs until interrupted.
func runEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	count := fs.Int("count", 0, "number of miners (0: the sum of plain counts in -mix, else 10)")
	mix := fs.String("mix", "", "fleet mix model[:firmware][=amount],... (default "+emulator.DefaultMix+")")
	seed := fs.Uint64("seed", 1, "seed for models order, noise and faults")
	speed := fs.Float64("speed", 1, "simulated seconds per wall second")
	ambient := fs.Float64("ambient", 25, "inlet air (coolant for hydro) temperature, °C")
	faults := fs.Float64("faults", 0, "random faults per miner per simulated day")
	netFlag := fs.String("net", "127.0.0.0", "the 127.B.0.0/16 the miners live in (miner i at 127.B.(1+i/254).(1+i%254))")
	cgPort := fs.Int("cgminer-port", emulator.PortCGMiner, "cgminer API port")
	httpPort := fs.Int("http-port", emulator.PortHTTP, "web / REST port (falls back to a free port when it cannot be bound)")
	api3Port := fs.Int("api3-port", emulator.PortWhatsminer, "Whatsminer API v3 port")
	freePorts := fs.Bool("free-ports", false, "bind every endpoint on a free port instead of the real ones")
	password := fs.String("password", "", "web/API password (default: root, Whatsminer super)")
	truncate := fs.Bool("truncate", false, "stock bmminer replies end without the closing brace")
	var scheduled []emulator.FaultSpec
	fs.Func("fault", "schedule a fault: miner:kind:fail-in[:lead-up[:target]], e.g. m00012:fan_wear:48h (repeatable)", func(v string) error {
		spec, err := emulator.ParseFaultSpec(v)
		if err != nil {
			return err
		}
		scheduled = append(scheduled, spec)
		return nil
	})
	status := fs.Duration("status", 0, "print a fleet status line this often (wall time, 0: never)")
	quiet := fs.Bool("quiet", false, "do not list the miners")
	verbose := fs.Bool("v", false, "log commands to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: emulate: unexpected argument %q", errUsage, fs.Arg(0))
	}
	base, err := netip.ParseAddr(*netFlag)
	if err != nil {
		return fmt.Errorf("%w: emulate: -net %q: %v", errUsage, *netFlag, err)
	}
	n := *count
	if n == 0 && *mix == "" {
		n = 10
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg := emulator.Config{
		Count: n, Mix: *mix, Seed: *seed, Speed: *speed, Ambient: *ambient, FaultRate: *faults,
		Net: base, Password: *password, Truncate: *truncate, FreePorts: *freePorts,
		Ports:  emulator.Ports{CGMiner: *cgPort, HTTP: *httpPort, Whatsminer: *api3Port},
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if *speed <= 0 {
		return fmt.Errorf("%w: emulate: -speed %g, want > 0", errUsage, *speed)
	}
	start := time.Now()
	fleet, err := emulator.NewFleet(cfg)
	if err != nil {
		if errors.Is(err, emulator.ErrConfig) {
			return fmt.Errorf("%w: emulate: %v", errUsage, err)
		}
		return fmt.Errorf("emulate: %w", err)
	}
	for _, spec := range scheduled {
		if err := fleet.Schedule(spec); err != nil {
			return fmt.Errorf("%w: emulate: -fault: %v", errUsage, err)
		}
	}
	if err := fleet.Start(ctx); err != nil {
		var fe *emulator.FDLimitError
		if errors.As(err, &fe) {
			// Every endpoint is a socket on its miner's own address: refuse
			// up front rather than fail on the first bind past the limit.
			return fmt.Errorf("emulate: --count %d does not fit: %w", fleet.Len(), err)
		}
		return fmt.Errorf("emulate: %w", err)
	}
	defer fleet.Close()
	if !*quiet {
		printMiners(stdout, fleet.Miners())
	}
	fmt.Fprintf(stderr, "emulate: %d miners listening (%d sockets, each on its miner's loopback address) in %s; speed %gx; Ctrl-C to stop\n",
		fleet.Len(), fleet.Listeners(), time.Since(start).Round(time.Millisecond), *speed)

	var tick <-chan time.Time
	if *status > 0 {
		t := time.NewTicker(*status)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			c := fleet.TotalCommands()
			fmt.Fprintf(stderr, "emulate: stopped at %s simulated; commands: %d accepted (%d repeats), %d refused\n",
				fleet.Now().Format(time.RFC3339), c.Total(), c.Repeats, c.Refused)
			return nil
		case <-tick:
			fmt.Fprintf(stderr, "emulate: %s  %.1f kW\n", fleet.Now().Format(time.RFC3339), fleet.TotalPower()/1000)
		}
	}
}

// printMiners writes one line per miner: name, address, firmware, model and
// each endpoint ("-" where the dialect has none).
func printMiners(w io.Writer, ms []emulator.MinerInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tFIRMWARE\tMODEL\tCGMINER\tHTTP\tAPI3")
	ep := func(ap netip.AddrPort) string {
		if !ap.IsValid() {
			return "-"
		}
		return ap.String()
	}
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Addr, m.Firmware, m.Model, ep(m.CGMiner), ep(m.HTTP), ep(m.API3))
	}
	tw.Flush()
}
