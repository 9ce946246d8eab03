package controller

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var exampleEnv = env(map[string]string{
	"ANTMINER_PASSWORD": "root", "ERCOT_SUBSCRIPTION_KEY": "k", "ERCOT_USERNAME": "u", "ERCOT_PASSWORD": "p",
	"JOULE_VIEWER_TOKEN":   "viewer-0123456789abcdef0123456789abcdef",
	"JOULE_OPERATOR_TOKEN": "operator-0123456789abcdef0123456789abcd",
	"JOULE_ADMIN_TOKEN":    "admin-0123456789abcdef0123456789abcdef0",
})

func TestExampleServeConfig(t *testing.T) {
	data, err := os.ReadFile("../examples/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseServeConfig("serve.yaml", data, exampleEnv)
	if err != nil {
		t.Fatalf("examples/serve.yaml: %v", err)
	}
	if len(c.Miners) != 2 || c.Controller.RampMWPerMin != 2 || c.Feeds.Price.Kind != "ercot" {
		t.Errorf("parsed %+v", c)
	}
}

const goodConfig = `site:
  name: t
  interconnect_mw: 1
  tiers:
    - name: a
      count: 2
      profiles: [{name: stock, ths: 100, w: 3000}]
      sleep_w: 25
miners:
  - tier: a
    firmware: luxos
    ips: 127.0.0.1
feeds:
  price: {kind: manual, value: 30}
  hashprice: {kind: constant, value: 0.05}
api:
  listen: 127.0.0.1:0
`

func TestServeConfigErrors(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           string // file:line: field: ...
	}{
		{"unknown key", "  listen: 127.0.0.1:0\n", "  listen: 127.0.0.1:0\n  colour: red\n", "serve.yaml:18: api.colour: unknown key"},
		{"bad tier", "  - tier: a\n", "  - tier: b\n", "serve.yaml:10: miners[0].tier"},
		{"bad firmware", "firmware: luxos", "firmware: cgminer9", "serve.yaml:11: miners[0].firmware"},
		{"bad ip", "ips: 127.0.0.1", "ips: 127.0.0.300", "serve.yaml:10: miners[0]"},
		{"bad batch url", "feeds:\n", "gpus:\n  - {name: g, kind: dcgm, url: http://127.0.0.1:9400/metrics, batch_url: ftp://x}\nfeeds:\n", "gpus[0].batch_url"},
		{"bad profile tolerance", "api:\n", "controller:\n  profile_tolerance: 1.5\napi:\n", "controller.profile_tolerance"},
		{"site problem", "interconnect_mw: 1", "interconnect_mw: -1", "serve.yaml:3: site.interconnect_mw"},
		{"bad feed kind", "{kind: manual, value: 30}", "{kind: psychic}", "serve.yaml:14: feeds.price.kind"},
		{"constant without value", "{kind: constant, value: 0.05}", "{kind: constant}", "serve.yaml:15: feeds.hashprice.value"},
		{"bad duration", "api:\n", "controller:\n  interval: soon\napi:\n", "serve.yaml:17"},
		{"bad step", "api:\n", "controller:\n  step: 7m\napi:\n", "serve.yaml:17: controller.step"},
		{"short token", "  listen: 127.0.0.1:0\n", "  listen: 127.0.0.1:0\n  tokens: [{name: x, role: admin, secret: short}]\n", "serve.yaml:18: api.tokens[0].secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(goodConfig, c.from, c.to, 1)
			if text == goodConfig {
				t.Fatalf("replacement %q not found", c.from)
			}
			_, err := ParseServeConfig("serve.yaml", []byte(text), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
			var es ConfigErrors
			var e *ConfigError
			if !errors.As(err, &es) && !errors.As(err, &e) {
				t.Errorf("error %T is not a ConfigError", err)
			}
		})
	}
	if _, err := ParseServeConfig("serve.yaml", []byte(goodConfig), env(nil)); err != nil {
		t.Fatalf("good config: %v", err)
	}
}

func FuzzParseServeConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("site: {name: x}\nminers: [{tier: x}]\n"))
	f.Add([]byte("controller: {interval: -1s, step: 1h}\n"))
	f.Add([]byte(":\n- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseServeConfig("fuzz.yaml", data, env(nil))
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
