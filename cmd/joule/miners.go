package main

import (
	"context"
	"errors"
	"io"
)

// runMiners is replaced by the owner of this subcommand.
func runMiners(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("miners: not built yet")
}
