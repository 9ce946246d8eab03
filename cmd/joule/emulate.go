package main

import (
	"context"
	"errors"
	"io"
)

// runEmulate is replaced by the owner of this subcommand.
func runEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("emulate: not built yet")
}
