package main

import (
	"context"
	"errors"
	"io"
)

// runDemo is replaced by the owner of this subcommand.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("demo: not built yet")
}
