package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/jouleworks/joule/controller"
	"github.com/jouleworks/joule/grid"
)

// startMQTT connects the grid-event bridge when the config has an mqtt
// section; the returned function disconnects it.
func startMQTT(ctx context.Context, cfg *controller.ServeConfig, s *controller.Server, log *slog.Logger) (func(), error) {
	m := cfg.MQTT
	if m == nil {
		return func() {}, nil
	}
	prefix := m.Topic
	if prefix == "" {
		prefix = "joule/" + cfg.Site.Name
	}
	pw := ""
	if m.PasswordEnv != "" {
		pw = os.Getenv(m.PasswordEnv)
	}
	b, err := grid.Start(ctx, s.Controller, grid.Options{Broker: m.Broker, Prefix: prefix, ClientID: m.ClientID,
		Username: m.Username, Password: pw, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("mqtt grid events", "broker", m.Broker, "topic", prefix+"/curtail")
	return b.Stop, nil
}
