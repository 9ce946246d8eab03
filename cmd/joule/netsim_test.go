package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestNetSimJSON(t *testing.T) {
	var out, errb bytes.Buffer
	err := runNetSim(context.Background(), []string{"--json", "--hosts", "60", "--epochs", "6", "--seed", "3"}, &out, &errb)
	if err != nil {
		t.Fatalf("runNetSim: %v (stderr %s)", err, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	for _, k := range []string{"detection_rate", "false_convictions", "joule", "baseline", "behaviours"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if cfg := got["config"].(map[string]any); cfg["hosts"] != 60.0 || cfg["seed"] != 3.0 {
		t.Errorf("config echoed as %v", cfg)
	}
}

func TestNetSimSubtle(t *testing.T) {
	var out bytes.Buffer
	if err := runNetSim(context.Background(), []string{"--json", "--subtle", "--hosts", "40", "--epochs", "2"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config struct {
			Subtle bool `json:"subtle"`
		} `json:"config"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || !got.Config.Subtle {
		t.Fatalf("--subtle not applied: %v %s", err, out.String())
	}
}

func TestNetSimText(t *testing.T) {
	var out bytes.Buffer
	if err := runNetSim(context.Background(), []string{"--hosts", "40", "--epochs", "3"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"detection rate", "false convictions", "stake-weighted 41/41/18"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestNetSimBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--hosts", "3"},
		{"--epochs", "-1"},
		{"--cheaters", "95"},
		{"--cheaters", "NaN"},
		{"--bogus"},
		{"extra"},
	} {
		if err := runNetSim(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
