package main

import (
	"context"
	"errors"
	"io"
)

// runNet is replaced by the owner of this subcommand.
func runNet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("net: not built yet")
}
