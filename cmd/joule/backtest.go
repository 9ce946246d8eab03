package main

import (
	"context"
	"errors"
	"io"
)

// runBacktest is replaced by the owner of this subcommand.
func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("backtest: not built yet")
}
