package plan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FieldError is an input error tied to one field of the configuration, and
// to its line when it came from a file.
type FieldError struct {
	File  string // "" when the value was not read from a file
	Line  int    // 0 when unknown (a default or a flag)
	Field string // dotted YAML path, e.g. "site.mw"
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrInvalid is wrapped by every input error, for callers that branch on
// "the user's input was wrong" versus an I/O failure.
var ErrInvalid = errors.New("invalid plan input")

func (e *FieldError) Unwrap() error { return ErrInvalid }

// ParseConfig reads a YAML document over Defaults: fields it names replace
// the defaults, the rest keep them. Unknown keys, wrong types and values out
// of range are errors naming the file, line and field. name labels errors.
func ParseConfig(data []byte, name string) (Config, error) {
	return ParseConfigOver(Defaults(), data, name)
}

// ParseConfigOver is ParseConfig over base instead of Defaults, e.g. a
// configuration already filled from a site file.
func ParseConfigOver(base Config, data []byte, name string) (Config, error) {
	cfg := base
	lines := map[string]int{}
	if len(bytes.TrimSpace(data)) > 0 {
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return cfg, fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
		}
		if len(root.Content) > 0 {
			doc := root.Content[0]
			if doc.Kind != yaml.MappingNode && !(doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
				return cfg, &FieldError{File: name, Line: doc.Line, Field: "(document)", Msg: "must be a mapping of keys to values"}
			}
			if err := checkKeys(doc, reflect.TypeOf(cfg), "", name, lines); err != nil {
				return cfg, err
			}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w: %s", name, ErrInvalid, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if err := cfg.validate(name, lines); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate checks every field of c and returns all problems found.
func (c Config) Validate() error { return c.validate("", nil) }

// checkKeys walks a YAML mapping against the struct type t and records the
// line of every key, so later range errors can point at it. yaml.v3's own
// KnownFields error names Go types; this one names the YAML path.
func checkKeys(n *yaml.Node, t reflect.Type, prefix, file string, lines map[string]int) error {
	if n.Kind != yaml.MappingNode {
		return nil // a type error the decoder reports with its line
	}
	known := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		known[tag] = f
		names = append(names, tag)
	}
	sort.Strings(names)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := prefix + k.Value
		f, ok := known[k.Value]
		if !ok {
			where := "the top level"
			if prefix != "" {
				where = strings.TrimSuffix(prefix, ".")
			}
			return &FieldError{File: file, Line: k.Line, Field: path,
				Msg: fmt.Sprintf("unknown key in %s (known keys: %s)", where, strings.Join(names, ", "))}
		}
		if _, dup := lines[path]; dup {
			return &FieldError{File: file, Line: k.Line, Field: path, Msg: "key given twice"}
		}
		lines[path] = k.Line
		if f.Type.Kind() == reflect.Struct {
			if v.Kind != yaml.MappingNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return &FieldError{File: file, Line: v.Line, Field: path, Msg: "must be a mapping"}
			}
			if err := checkKeys(v, f.Type, path+".", file, lines); err != nil {
				return err
			}
		}
	}
	return nil
}

// validator collects range errors with their lines.
type validator struct {
	file  string
	lines map[string]int
	errs  []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.file, Line: v.lines[field], Field: field, Msg: fmt.Sprintf(format, args...)})
}

// num checks that x is finite and within [lo, hi]; open bounds use ±Inf.
func (v *validator) num(field string, x, lo, hi float64, openLo bool) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.fail(field, "must be a finite number, got %v", x)
	case openLo && x <= lo:
		v.fail(field, "must be > %g, got %g", lo, x)
	case !openLo && x < lo:
		v.fail(field, "must be ≥ %g, got %g", lo, x)
	case x > hi:
		v.fail(field, "must be ≤ %g, got %g", hi, x)
	}
}

func (v *validator) integer(field string, x, lo, hi int) {
	if x < lo || x > hi {
		v.fail(field, "must be between %d and %d, got %d", lo, hi, x)
	}
}

func (v *validator) oneOf(field, x string, allowed ...string) {
	for _, a := range allowed {
		if x == a {
			return
		}
	}
	v.fail(field, "must be one of %s, got %q", strings.Join(allowed, ", "), x)
}

func (c Config) validate(file string, lines map[string]int) error {
	if lines == nil {
		lines = map[string]int{}
	}
	v := &validator{file: file, lines: lines}
	inf := math.Inf(1)
	if _, err := time.Parse("2006-01", c.Start); err != nil {
		v.fail("start", "must be a month like 2026-01, got %q", c.Start)
	}
	v.integer("horizon_years", c.HorizonYears, 1, 50)
	v.num("discount_rate", c.DiscountRate, -1, 10, true)

	v.num("site.mw", c.Site.MW, 0, 1e5, true)
	v.num("site.it_fraction", c.Site.ITFraction, 0, 1, true)

	f := c.Fleet
	v.num("fleet.efficiency_j_per_th", f.EfficiencyJPerTH, 0, 1e4, true)
	v.integer("fleet.age_months", f.AgeMonths, 0, 1200)
	v.integer("fleet.life_months", f.LifeMonths, 1, 1200)
	v.num("fleet.uptime", f.Uptime, 0, 1, false)
	v.num("fleet.pool_fee", f.PoolFee, 0, 1, false)
	v.num("fleet.opex_per_mw_year", f.OpexPerMWYear, 0, inf, false)
	v.num("fleet.curtailment_credit_per_mw_year", f.CurtailmentCreditPerMWYear, 0, inf, false)
	v.num("fleet.refresh_efficiency_j_per_th", f.RefreshEfficiencyJPerTH, 0, 1e4, true)
	v.num("fleet.refresh_capex_per_th", f.RefreshCapexPerTH, 0, inf, false)
	v.num("fleet.efficiency_gain_per_year", f.EfficiencyGainPerYear, 0, 0.9, false)
	v.num("fleet.exit_multiple", f.ExitMultiple, 0, 100, false)

	b := c.BTC
	v.oneOf("btc.model", b.Model, "gbm", "bootstrap")
	v.num("btc.price_usd", b.PriceUSD, 0, inf, true)
	v.num("btc.drift", b.Drift, -5, 5, false)
	v.num("btc.volatility", b.Volatility, 0, 5, false)
	if b.Model == "bootstrap" && b.ReturnsFile == "" {
		v.fail("btc.returns_file", "must name a CSV of daily closes when btc.model is bootstrap")
	}

	n := c.Network
	v.num("network.hashrate_eh", n.HashrateEH, 0, inf, true)
	v.integer("network.start_height", n.StartHeight, 0, 6_929_999)
	v.num("network.fees_btc_per_block", n.FeesBTCPerBlock, 0, 1000, false)
	v.num("network.price_elasticity", n.PriceElasticity, 0, 3, false)
	v.num("network.adjustment_per_month", n.AdjustmentPerMonth, 0, 1, false)
	v.num("network.efficiency_gain_per_year", n.EfficiencyGainPerYear, 0, 0.9, false)

	p := c.Power
	v.oneOf("power.model", p.Model, "fixed", "spot")
	v.num("power.price_per_mwh", p.PricePerMWh, 0, 1e5, false)
	v.num("power.escalator", p.Escalator, -1, 10, true)
	v.num("power.volatility", p.Volatility, 0, 5, false)

	l := c.Lease
	v.num("lease.conversion_capex_per_mw", l.ConversionCapexPerMW, 0, inf, false)
	v.integer("lease.downtime_months", l.DowntimeMonths, 0, 600)
	v.num("lease.rent_per_mw_year", l.RentPerMWYear, 0, inf, false)
	v.num("lease.noi_margin", l.NOIMargin, 0, 1, false)
	v.integer("lease.term_years", l.TermYears, 0, 100)
	v.num("lease.escalator", l.Escalator, -1, 10, true)
	v.num("lease.renewal_rent_factor", l.RenewalRentFactor, 0, 100, false)
	v.num("lease.exit_multiple", l.ExitMultiple, 0, 100, false)

	h := c.HPC
	v.num("hpc.conversion_capex_per_mw", h.ConversionCapexPerMW, 0, inf, false)
	v.integer("hpc.downtime_months", h.DowntimeMonths, 0, 600)
	v.num("hpc.gpus_per_mw", h.GPUsPerMW, 0, 1e5, false)
	v.num("hpc.gpu_capex", h.GPUCapex, 0, inf, false)
	v.num("hpc.rent_per_gpu_hour", h.RentPerGPUHour, 0, 1e4, false)
	v.num("hpc.rent_decline_per_year", h.RentDeclinePerYear, 0, 0.99, false)
	v.num("hpc.rent_floor_per_gpu_hour", h.RentFloorPerGPUHour, 0, 1e4, false)
	v.num("hpc.rent_volatility", h.RentVolatility, 0, 5, false)
	v.num("hpc.utilisation", h.Utilisation, 0, 1, false)
	v.num("hpc.life_years", h.LifeYears, 1.0/12, 50, false)
	v.num("hpc.power_load_factor", h.PowerLoadFactor, 0, 1, false)
	v.num("hpc.opex_per_gpu_hour", h.OpexPerGPUHour, 0, 1e4, false)
	v.num("hpc.exit_multiple", h.ExitMultiple, 0, 100, false)

	s := c.Switch
	v.oneOf("switch.target", s.Target, "best", "lease", "hpc")
	v.integer("switch.decision_lag_months", s.DecisionLagMonths, 0, 600)
	v.num("switch.hurdle_per_mw", s.HurdlePerMW, math.Inf(-1), inf, false)

	return errors.Join(v.errs...)
}
