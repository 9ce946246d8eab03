package controller

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/feed"
	"github.com/jouleworks/joule/miner"
	"github.com/jouleworks/joule/site"
)

// ServeConfig is `joule serve --config`: the site model, where its miners
// and GPUs are, the live inputs, storage, the API and the control loop.
// examples/serve.yaml documents every key.
type ServeConfig struct {
	Site       site.Site     `yaml:"site"`
	Miners     []MinerGroup  `yaml:"miners"`
	GPUs       []GPUConfig   `yaml:"gpus"`
	Feeds      FeedsConfig   `yaml:"feeds"`
	Store      StoreConfig   `yaml:"store"`
	API        APIConfig     `yaml:"api"`
	Controller ControlConfig `yaml:"controller"`
	MQTT       *MQTTConfig   `yaml:"mqtt"`
}

// MinerGroup is a set of miners of one tier and firmware.
type MinerGroup struct {
	Tier string `yaml:"tier"`
	// Firmware is luxos, braiins, antminer, whatsminer or auto (detect).
	Firmware string `yaml:"firmware"`
	IPs      string `yaml:"ips"`
	CIDR     string `yaml:"cidr"`
	Range    string `yaml:"range"`
	User     string `yaml:"user"`
	// Password, or PasswordEnv naming an environment variable holding it
	// (keeps secrets out of the file).
	Password    string `yaml:"password"`
	PasswordEnv string `yaml:"password_env"`
	Ports       struct {
		CGMiner    int `yaml:"cgminer"`
		HTTP       int `yaml:"http"`
		Whatsminer int `yaml:"whatsminer"`
	} `yaml:"ports"`
}

// GPUConfig is one GPU telemetry source.
type GPUConfig struct {
	Name    string   `yaml:"name"`
	Kind    string   `yaml:"kind"` // dcgm or smi
	URL     string   `yaml:"url"`
	Command []string `yaml:"command"`
	// BatchURL, when set, is where the decision's batch GPUs are claimed
	// (an endpoint speaking gpu.BatchClient's protocol); at most one.
	BatchURL string `yaml:"batch_url"`
}

// FeedsConfig are the live inputs and the fail-safe.
type FeedsConfig struct {
	Price     FeedConfig `yaml:"price"`
	Hashprice FeedConfig `yaml:"hashprice"`
	// FailSafe is hold, mine or curtail (default hold).
	FailSafe string `yaml:"failsafe"`
}

// FeedConfig is one live input.
type FeedConfig struct {
	// Kind: price: manual, file, ercot; hashprice: manual, constant.
	Kind   string        `yaml:"kind"`
	Value  *float64      `yaml:"value"` // constant value, or the manual source's first value
	File   string        `yaml:"file"`  // file: a price file (docs/market.md layouts), replayed from start
	Loop   bool          `yaml:"loop"`
	MaxAge time.Duration `yaml:"max_age"`
	// ERCOT public API.
	SettlementPoint    string        `yaml:"settlement_point"`
	SubscriptionKeyEnv string        `yaml:"subscription_key_env"`
	UsernameEnv        string        `yaml:"username_env"`
	PasswordEnv        string        `yaml:"password_env"`
	PollEvery          time.Duration `yaml:"poll_every"`
	// WebhookSecretEnv, for a manual source, names an environment variable
	// holding the secret of a webhook that sets it: POST /hooks/price (or
	// /hooks/hashprice) with {"value": 42.1} and header X-Joule-Secret.
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
}

// StoreConfig picks the database: SQLite (default joule.db) or PostgreSQL.
type StoreConfig struct {
	SQLite      string `yaml:"sqlite"`
	PostgresDSN string `yaml:"postgres_dsn"`
	// PostgresDSNEnv names an environment variable holding the DSN.
	PostgresDSNEnv string `yaml:"postgres_dsn_env"`
}

// APIConfig is the HTTP listener and its tokens.
type APIConfig struct {
	Listen string        `yaml:"listen"`
	Public string        `yaml:"public"` // role without a token: none (default) or viewer
	Tokens []TokenConfig `yaml:"tokens"`
}

// TokenConfig is one bearer token.
type TokenConfig struct {
	Name      string `yaml:"name"`
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
	Role      string `yaml:"role"`
}

// ControlConfig tunes the loop and the reconciler.
type ControlConfig struct {
	Interval       time.Duration `yaml:"interval"`
	Step           time.Duration `yaml:"step"`
	BatchSize      int           `yaml:"batch_size"`
	Stagger        time.Duration `yaml:"stagger"`
	Cooldown       time.Duration `yaml:"cooldown"`
	SleepTimeout   time.Duration `yaml:"sleep_timeout"`
	WakeTimeout    time.Duration `yaml:"wake_timeout"`
	MaxAttempts    int           `yaml:"max_attempts"`
	RampMWPerMin   float64       `yaml:"ramp_mw_per_min"`
	GridHold       time.Duration `yaml:"grid_hold"`
	TelemetryEvery time.Duration `yaml:"telemetry_every"`
	FullPollEvery  time.Duration `yaml:"full_poll_every"`
	PollTimeout    time.Duration `yaml:"poll_timeout"`
	Concurrency    int           `yaml:"concurrency"`
	// ProfileTolerance (a fraction) and ProfileTimeout confirm profile
	// moves; see Params.
	ProfileTolerance float64       `yaml:"profile_tolerance"`
	ProfileTimeout   time.Duration `yaml:"profile_timeout"`
}

// MQTTConfig connects the grid-event bridge to a broker.
type MQTTConfig struct {
	Broker      string `yaml:"broker"` // tcp://host:1883
	Topic       string `yaml:"topic"`  // prefix, default joule/<site name>
	ClientID    string `yaml:"client_id"`
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"`
}

// ConfigError is one problem in a serve config, located by line and field.
type ConfigError = site.ConfigError

// ConfigErrors is every problem found.
type ConfigErrors = site.ConfigErrors

// LoadServeConfig reads and validates a serve config.
func LoadServeConfig(path string) (*ServeConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve config: %w", err)
	}
	return ParseServeConfig(path, data, os.Getenv)
}

// ParseServeConfig decodes and validates a serve config; unknown keys are
// errors. getenv resolves *_env keys.
func ParseServeConfig(name string, data []byte, getenv func(string) string) (*ServeConfig, error) {
	var c ServeConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: name, Msg: "empty config"}
		}
		var root yaml.Node
		_ = yaml.Unmarshal(data, &root) // best effort: only locates fields
		return nil, site.YAMLError(name, &root, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, site.YAMLError(name, &root, err)
	}
	var es ConfigErrors
	add := func(path, format string, a ...any) {
		es = append(es, &ConfigError{File: name, Line: site.LineOf(&root, path), Field: path, Msg: fmt.Sprintf(format, a...)})
	}
	for _, p := range c.Site.Problems() {
		add("site."+p.Path, "%s", p.Msg)
	}
	tiers := map[string]bool{}
	for _, t := range c.Site.Tiers {
		tiers[t.Name] = true
	}
	if len(c.Miners) == 0 {
		add("miners", "at least one miner group is required")
	}
	for i, g := range c.Miners {
		p := fmt.Sprintf("miners[%d]", i)
		if !tiers[g.Tier] {
			add(p+".tier", "%q is not a tier of the site", g.Tier)
		}
		if _, err := dialectOf(g.Firmware); err != nil {
			add(p+".firmware", "%v", err)
		}
		if _, err := (miner.Selection{IPs: g.IPs, CIDR: g.CIDR, Ranges: g.Range}).Addrs(); err != nil {
			add(p, "%v", err)
		}
		if g.PasswordEnv != "" && getenv(g.PasswordEnv) == "" {
			add(p+".password_env", "environment variable %s is empty", g.PasswordEnv)
		}
	}
	batchURLs := 0
	for i, g := range c.GPUs {
		p := fmt.Sprintf("gpus[%d]", i)
		switch g.Kind {
		case "dcgm":
			if !strings.HasPrefix(g.URL, "http://") && !strings.HasPrefix(g.URL, "https://") {
				add(p+".url", "want an http(s) URL of a dcgm-exporter, got %q", g.URL)
			}
		case "smi":
		default:
			add(p+".kind", "want dcgm or smi, got %q", g.Kind)
		}
		if g.Name == "" {
			add(p+".name", "is required")
		}
		if g.BatchURL != "" {
			if !strings.HasPrefix(g.BatchURL, "http://") && !strings.HasPrefix(g.BatchURL, "https://") {
				add(p+".batch_url", "want an http(s) URL of a batch endpoint, got %q", g.BatchURL)
			}
			batchURLs++
			if batchURLs > 1 {
				add(p+".batch_url", "only one GPU source may take batch claims")
			}
		}
	}
	checkFeed := func(path string, f FeedConfig, kinds ...string) {
		ok := false
		for _, k := range kinds {
			ok = ok || f.Kind == k
		}
		if !ok {
			add(path+".kind", "want one of %s, got %q", strings.Join(kinds, ", "), f.Kind)
			return
		}
		switch f.Kind {
		case "constant":
			if f.Value == nil {
				add(path+".value", "required for a constant")
			}
		case "file":
			if f.File == "" {
				add(path+".file", "required for kind file")
			}
		case "ercot":
			if f.SettlementPoint == "" {
				add(path+".settlement_point", "required for kind ercot, e.g. HB_HUBAVG")
			}
			for _, e := range []struct{ k, v string }{{"subscription_key_env", f.SubscriptionKeyEnv}, {"username_env", f.UsernameEnv}, {"password_env", f.PasswordEnv}} {
				if e.v == "" || getenv(e.v) == "" {
					add(path+"."+e.k, "names an environment variable that must be set")
				}
			}
		}
		if f.MaxAge < 0 {
			add(path+".max_age", "must not be negative")
		}
		if f.WebhookSecretEnv != "" {
			switch {
			case f.Kind != "manual":
				add(path+".webhook_secret_env", "only a manual source can be set by a webhook")
			case len(getenv(f.WebhookSecretEnv)) < 16:
				add(path+".webhook_secret_env", "environment variable %s must hold a secret of at least 16 characters", f.WebhookSecretEnv)
			}
		}
	}
	checkFeed("feeds.price", c.Feeds.Price, "manual", "file", "ercot")
	checkFeed("feeds.hashprice", c.Feeds.Hashprice, "manual", "constant")
	if c.Feeds.FailSafe != "" {
		if _, err := feed.ParseMode(c.Feeds.FailSafe); err != nil {
			add("feeds.failsafe", "%v", err)
		}
	}
	if c.Store.SQLite != "" && (c.Store.PostgresDSN != "" || c.Store.PostgresDSNEnv != "") {
		add("store", "give sqlite or postgres_dsn, not both")
	}
	if c.API.Listen == "" {
		add("api.listen", "is required, e.g. 127.0.0.1:8080")
	}
	switch c.API.Public {
	case "", "none", "viewer":
	default:
		add("api.public", "want none or viewer, got %q", c.API.Public)
	}
	for i, t := range c.API.Tokens {
		p := fmt.Sprintf("api.tokens[%d]", i)
		if _, err := api.ParseRole(t.Role); err != nil {
			add(p+".role", "%v", err)
		}
		sec := t.Secret
		if t.SecretEnv != "" {
			sec = getenv(t.SecretEnv)
		}
		if len(sec) < api.MinSecretLen {
			add(p+".secret", "want at least %d characters (from secret or secret_env), got %d", api.MinSecretLen, len(sec))
		}
	}
	cc := c.Controller
	for _, d := range []struct {
		k string
		v time.Duration
	}{{"interval", cc.Interval}, {"step", cc.Step}, {"stagger", cc.Stagger}, {"cooldown", cc.Cooldown}, {"sleep_timeout", cc.SleepTimeout},
		{"wake_timeout", cc.WakeTimeout}, {"grid_hold", cc.GridHold}, {"telemetry_every", cc.TelemetryEvery}, {"full_poll_every", cc.FullPollEvery},
		{"poll_timeout", cc.PollTimeout}, {"profile_timeout", cc.ProfileTimeout}} {
		if d.v < 0 {
			add("controller."+d.k, "must not be negative, got %s", d.v)
		}
	}
	if cc.ProfileTolerance < 0 || cc.ProfileTolerance >= 1 {
		add("controller.profile_tolerance", "want a fraction 0 ≤ x < 1 (0: default 0.05), got %v", cc.ProfileTolerance)
	}
	if cc.Step > 0 && (time.Hour%cc.Step != 0 && cc.Step%time.Hour != 0) {
		add("controller.step", "must divide an hour (5m, 15m ...), got %s", cc.Step)
	}
	if cc.BatchSize < 0 || cc.MaxAttempts < 0 || cc.Concurrency < 0 {
		add("controller", "batch_size, max_attempts and concurrency must not be negative")
	}
	if cc.RampMWPerMin < 0 {
		add("controller.ramp_mw_per_min", "must not be negative, got %g", cc.RampMWPerMin)
	}
	if m := c.MQTT; m != nil {
		if !strings.HasPrefix(m.Broker, "tcp://") && !strings.HasPrefix(m.Broker, "ssl://") && !strings.HasPrefix(m.Broker, "ws://") {
			add("mqtt.broker", "want tcp://host:port (or ssl://, ws://), got %q", m.Broker)
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return &c, nil
}

// dialectOf maps a config firmware name to a dialect (empty: detect).
func dialectOf(fw string) (miner.Dialect, error) {
	switch strings.ToLower(fw) {
	case "luxos":
		return miner.DialectLuxOS, nil
	case "braiins", "bos", "braiins-os":
		return miner.DialectBraiins, nil
	case "antminer", "stock":
		return miner.DialectAntminer, nil
	case "whatsminer":
		return miner.DialectWhatsminer, nil
	case "auto", "":
		return miner.DialectUnknown, nil
	}
	return "", fmt.Errorf("firmware %q: want luxos, braiins, antminer, whatsminer or auto", fw)
}
