package main

import (
	"context"
	"errors"
	"io"
)

// runServe is replaced by the owner of this subcommand.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("serve: not built yet")
}
