package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/jouleworks/joule/controller"
)

// runDemo runs an emulated site under the live controller with its
// dashboard: no files, no network beyond loopback.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the dashboard and API")
	speed := fs.Float64("speed", 60, "simulated seconds per wall second (1 = real time)")
	seed := fs.Int64("seed", 1, "seed of the market scenario and the fleet")
	verbose := fs.Bool("v", false, "log every decision and grid event to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: joule demo [--addr 127.0.0.1:8080] [--speed 60] [--seed 1]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: demo takes no arguments, got %q", errUsage, fs.Args())
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	d, err := controller.NewDemo(ctx, controller.DemoOptions{Addr: *addr, Speed: *speed, Seed: *seed, Logger: log})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "joule demo: %d emulated miners, %d GPUs, market scenario seed %d at %gx\n",
		d.Fleet.Len(), d.GPUs, *seed, *speed)
	fmt.Fprintf(stdout, "dashboard:   %s\n", d.URL)
	fmt.Fprintf(stdout, "admin token: %s  (e.g. curl -H 'Authorization: Bearer %s' -d '{\"mw\":0.2,\"within_s\":600}' %sapi/v1/curtail)\n",
		d.AdminToken, d.AdminToken, d.URL)
	fmt.Fprintln(stdout, "Ctrl-C stops it.")
	return d.Run(ctx)
}
