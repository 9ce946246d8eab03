package site

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestExampleIsReference(t *testing.T) {
	got, err := Load("../examples/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := Reference(); !reflect.DeepEqual(got, want) {
		t.Errorf("examples/site.yaml differs from Reference():\n got %+v\nwant %+v", got, want)
	}
	if p := Reference().Problems(); len(p) != 0 {
		t.Errorf("reference site problems: %v", p)
	}
	if fixed, max := Reference().FixedMW(), Reference().MaxMW(); fixed > 10 || max < 100 {
		t.Errorf("reference fixed %.2f MW, max %.2f MW: want fixed small and max above the 100 MW cap", fixed, max)
	}
}

var badConfigs = []struct {
	name, yaml string
	line       int
	field, msg string
}{
	{"negative capacity", "name: x\ninterconnect_mw: -5\n", 2, "interconnect_mw", "must be positive"},
	{"unknown key", "name: x\ninterconnect_mw: 5\ncolour: red\n", 3, "colour", "unknown key"},
	{"nested unknown key", "interconnect_mw: 5\ngpu_pools:\n  - name: g\n    count: 2\n    load_w: 10\n    firmx: 1\n", 6, "gpu_pools[0].firmx", "unknown key"},
	{"negative count", "interconnect_mw: 5\ntiers:\n  - name: a\n    count: -3\n    profiles: [{ths: 1, w: 10}]\n", 4, "tiers[0].count", "must not be negative"},
	{"profile below sleep", "interconnect_mw: 5\ntiers:\n  - name: a\n    count: 3\n    sleep_w: 20\n    profiles:\n      - {ths: 1, w: 10}\n", 7, "tiers[0].profiles[0].w", "must exceed sleep_w"},
	{"bad contract", "interconnect_mw: 5\ncontract:\n  kind: swap\n", 3, "contract.kind", "must be"},
	{"bad type", "interconnect_mw: lots\n", 1, "interconnect_mw", `want a number, got "lots"`},
	{"bad duration", "interconnect_mw: 5\ntiers:\n  - name: a\n    min_on: soon\n    profiles: [{ths: 1, w: 10}]\n", 4, "tiers[0].min_on", "want a duration"},
	{"inference hours", "interconnect_mw: 5\ngpu_pools:\n  - name: g\n    count: 2\n    load_w: 10\n    inference: {gpus_by_hour: [1, 2]}\n", 6, "gpu_pools[0].inference.gpus_by_hour", "needs 24 values"},
	{"firm above count", "interconnect_mw: 5\ngpu_pools:\n  - name: g\n    count: 2\n    load_w: 10\n    firm: {gpus: 3}\n", 6, "gpu_pools[0].firm.gpus", "between 0 and count"},
	{"fixed load above cap", "interconnect_mw: 0.001\ntiers:\n  - name: a\n    count: 1000\n    sleep_w: 20\n    profiles: [{ths: 1, w: 30}]\n", 1, "interconnect_mw", "cannot be curtailed"},
	{"bad zone", "interconnect_mw: 1\ntimezone: Mars/Olympus\n", 2, "timezone", "unknown time zone"},
	{"empty", "", 0, "", "empty config"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("site.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *ConfigError
			var ces ConfigErrors
			switch {
			case errors.As(err, &ces):
				ce = ces[0]
			case errors.As(err, &ce):
			default:
				t.Fatalf("error %T %v is not a ConfigError", err, err)
			}
			if ce.File != "site.yaml" || ce.Line != tc.line || ce.Field != tc.field || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got %q (line %d field %q), want line %d field %q containing %q", err, ce.Line, ce.Field, tc.line, tc.field, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "site.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../examples/site.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	for _, tc := range badConfigs {
		f.Add(tc.yaml)
	}
	f.Add("tiers: [{name: a, profiles: [{ths: .nan, w: .inf}]}]\ninterconnect_mw: 1")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse("fuzz.yaml", []byte(in))
		if err == nil {
			if p := s.Problems(); len(p) != 0 {
				t.Fatalf("Parse accepted a site with problems %v", p)
			}
			_ = s.MaxMW()
		} else if err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
