package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jouleworks/joule/site"
)

// week is a short built-in scenario period so CLI tests stay quick.
var week = []string{"--from", "2025-07-01", "--to", "2025-07-08"}

func TestBacktestTable(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runBacktest(context.Background(), week, &out, &errOut); err != nil {
		t.Fatalf("runBacktest: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"always-on", "strike", "joule", "hindsight", "capture", "1.0000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBacktestJSONAndReport(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	args := append([]string{"--json", "--report", dir, "--policy", "joule", "--seed", "7"}, week...)
	if err := runBacktest(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("runBacktest: %v\n%s", err, errOut.String())
	}
	var res struct {
		Site     string `json:"site"`
		Policies []map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	if res.Site != "reference-100mw" || len(res.Policies) != 2 || res.Policies[0]["policy"] != "joule" {
		t.Fatalf("got site %q policies %v, want joule and hindsight on the reference site", res.Site, res.Policies)
	}
	for _, k := range []string{"mining_revenue", "ai_revenue", "ancillary_revenue", "energy_resale", "energy_cost",
		"four_cp_charge", "switching_cost", "profit", "mwh", "curtailed_hours", "miner_starts", "capture"} {
		if _, ok := res.Policies[0][k]; !ok {
			t.Errorf("JSON policy lacks key %q", k)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "backtest.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("<script")) || bytes.Contains(html, []byte("http://cdn")) {
		t.Error("report is not a self-contained HTML file with inline SVG")
	}
}

func TestBacktestErrors(t *testing.T) {
	dir := t.TempDir()
	badSite := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(badSite, []byte("name: x\ninterconnect_mw: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prices := filepath.Join(dir, "prices.csv")
	btc := filepath.Join(dir, "btc.csv")
	for path, body := range map[string]string{
		prices: "timestamp,price\n2024-01-01T00:00:00Z,30\n2024-01-01T00:15:00Z,-20\n2024-01-01T00:30:00Z,45\n",
		btc:    "date,close_usd,difficulty\n2023-12-01,40000,7e13\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"period outside the prices", []string{"--prices", prices, "--hashprice", "0.05", "--from", "2023-01-01", "--to", "2023-02-01"}, "prices.csv covers 2024-01-01T00:00:00Z to 2024-01-01T00:45:00Z"},
		{"btc file too short", []string{"--prices", prices, "--btc", btc}, "btc.csv covers 2023-12-01T00:00:00Z to 2023-12-02T00:00:00Z"},
		{"unknown policy", []string{"--policy", "yolo"}, "unknown --policy"},
		{"bad date", []string{"--from", "July"}, "--from"},
		{"reversed period", []string{"--from", "2025-02-01", "--to", "2025-01-01"}, "not after"},
		{"missing price file", []string{"--prices", filepath.Join(dir, "none.csv"), "--hashprice", "0.05"}, "none.csv"},
		{"prices without hashprice", []string{"--prices", prices}, "give --btc FILE or --hashprice X"},
		{"negative hashprice", []string{"--hashprice", "-1"}, "--hashprice"},
		{"bad site", append([]string{"--site", badSite}, week...), "site.yaml:2: interconnect_mw"},
		{"stray argument", []string{"now"}, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runBacktest(context.Background(), tc.args, &out, &errOut)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	var out, errOut bytes.Buffer
	err := runBacktest(context.Background(), []string{"--site", badSite}, &out, &errOut)
	var ce site.ConfigErrors
	if !errors.As(err, &ce) || ce[0].Line != 2 {
		t.Errorf("error %v: want a site.ConfigErrors at line 2", err)
	}
}

// TestBacktestNotesACutPeriod: a --from/--to reaching beyond the price file
// runs on what the file has and says so on stderr.
func TestBacktestNotesACutPeriod(t *testing.T) {
	prices := filepath.Join(t.TempDir(), "prices.csv")
	body := "timestamp,price\n2024-01-01T00:00:00Z,30\n2024-01-01T00:15:00Z,-20\n2024-01-01T00:30:00Z,45\n2024-01-01T00:45:00Z,45\n"
	if err := os.WriteFile(prices, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := runBacktest(context.Background(), []string{"--prices", prices, "--hashprice", "0.05", "--from", "2023-12-31", "--to", "2024-01-02"}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if want := "the period is cut to 2024-01-01T00:00:00Z to 2024-01-01T01:00:00Z"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q does not contain %q", errOut.String(), want)
	}
	if !strings.Contains(out.String(), "4 intervals of 15 min") {
		t.Errorf("table %q: want the 4 intervals the file has", out.String())
	}
}
