package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jouleworks/joule/controller"
)

// runServe runs the live site controller from a config file until
// interrupted, then shuts down gracefully.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "serve config (YAML; see examples/serve.yaml)")
	check := fs.Bool("check", false, "validate the config and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: joule serve --config site.yaml [--check]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: serve needs --config and no arguments", errUsage)
	}
	cfg, err := controller.LoadServeConfig(*path)
	if err != nil {
		return err
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok (%d miner groups, %d GPU sources)\n", *path, len(cfg.Miners), len(cfg.GPUs))
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s, err := controller.NewServer(ctx, cfg, os.Getenv, log)
	if err != nil {
		return err
	}
	defer s.Close()
	stop, err := startMQTT(ctx, cfg, s, log)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stdout, "joule serve: %d miners, dashboard and API on http://%s/\n", len(s.Controller.Units()), s.Addr)
	return s.Run(ctx)
}
