package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/jouleworks/joule/network/sim"
)

// runNetSim is `joule net sim`: it simulates the compute network with honest
// and cheating hosts and prints detection, false convictions and where the
// rewards go, next to a stake-weighted baseline.
func runNetSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := sim.DefaultConfig()
	fs := flag.NewFlagSet("net sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.IntVar(&cfg.Hosts, "hosts", cfg.Hosts, "simulated host identities (20..100000)")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs to simulate")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; the same seed gives the same report")
	cheaters := fs.Float64("cheaters", float64(cfg.CheaterPPM)/1e4, "percent of identities that cheat (split over six behaviours)")
	fs.IntVar(&cfg.Samples, "samples", cfg.Samples, "proof leaves each assigned validator samples")
	fs.IntVar(&cfg.Validators, "validators", cfg.Validators, "validators assigned per host (k)")
	fs.BoolVar(&cfg.Subtle, "subtle", false, "cautious cheaters: 0.5-2 % fake leaves, 5-10 % bad requests")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: joule net sim [--json] [--hosts N] [--epochs E] [--seed S] [--cheaters PCT] [--subtle]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("net sim: unexpected argument %q", fs.Arg(0))
	}
	if !(*cheaters >= 0 && *cheaters <= 90) { // written so NaN fails too
		return fmt.Errorf("net sim: --cheaters = %v, want 0..90", *cheaters)
	}
	// Rounded: 0.29 % is 2899.99… ppm in float64, and means 2900.
	cfg.CheaterPPM = uint32(math.Round(*cheaters * 1e4))
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("net sim: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(stdout)
}
