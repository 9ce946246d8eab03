package main

import (
	"context"
	"errors"
	"io"
)

// runPlan is replaced by the owner of this subcommand.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("plan: not built yet")
}
