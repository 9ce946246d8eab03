package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runPlanArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runPlan(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestPlanDefaultTable(t *testing.T) {
	out, _, err := runPlanArgs(t, "--paths", "300", "--sensitivity-paths", "40")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mine", "lease", "hpc", "switch", "P(win)", "Breakeven: start BTC price", "Breakeven: GPU rent", "Sensitivity", "next halving in month 27 (2028-04)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanJSONReportAndCashflows(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "flows.csv")
	out, _, err := runPlanArgs(t, "--paths", "200", "--sensitivity-paths", "30", "--json", "--report", dir, "--cashflows", cf, "--seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Seed       uint64 `json:"seed"`
		Strategies []struct {
			Name     string             `json:"name"`
			NPVPerW  map[string]float64 `json:"npv_per_w"`
			NPVPerMW map[string]float64 `json:"npv_per_mw"`
			Win      float64            `json:"win_probability"`
		} `json:"strategies"`
		Breakeven struct {
			BTC []map[string]any `json:"btc_price"`
		} `json:"breakeven"`
		Tornado []map[string]any `json:"tornado"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if res.Seed != 3 || len(res.Strategies) != 4 || len(res.Tornado) == 0 || len(res.Breakeven.BTC) == 0 {
		t.Fatalf("JSON missing parts: %+v", res)
	}
	var win float64
	for _, s := range res.Strategies {
		for _, k := range []string{"p10", "p50", "p90", "mean"} {
			if _, ok := s.NPVPerW[k]; !ok {
				t.Errorf("%s npv_per_w lacks %s", s.Name, k)
			}
		}
		if got, want := s.NPVPerW["p50"]*1e6, s.NPVPerMW["p50"]; math.Abs(got-want) > 1e-6*max(1, math.Abs(want)) {
			t.Errorf("%s: per-W P50 × 1e6 = %v, per-MW P50 = %v", s.Name, got, want)
		}
		win += s.Win
	}
	if win < 0.999 || win > 1.001 {
		t.Errorf("win probabilities sum to %v, want 1", win)
	}
	html, err := os.ReadFile(filepath.Join(dir, "plan.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("<script")) || bytes.Contains(html, []byte("http://")) || bytes.Contains(html, []byte("https://")) {
		t.Error("report must be self-contained inline SVG with no scripts or external links")
	}
	flows, err := os.ReadFile(cf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(flows, []byte("strategy,month,revenue")) || !bytes.Contains(flows, []byte("lease:npv")) {
		t.Errorf("cash-flow CSV malformed: %.200s", flows)
	}
}

func TestPlanFromSiteConfig(t *testing.T) {
	dir := t.TempDir()
	siteFile := filepath.Join(dir, "site.yaml")
	body := "name: west\ninterconnect_mw: 40\ncontract: {kind: ppa, price_per_mwh: 31, mw: 0}\n" +
		"tiers:\n  - name: a\n    count: 1000\n    profiles: [{name: stock, ths: 100, w: 2000}]\n" +
		"  - name: b\n    count: 1000\n    profiles: [{name: stock, ths: 300, w: 6000}]\n"
	if err := os.WriteFile(siteFile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte("site:\n  it_fraction: 0.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runPlanArgs(t, "--site", siteFile, planFile, "--paths", "50", "--sensitivity-paths", "-1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Inputs struct {
			Site struct {
				Name       string  `json:"name"`
				MW         float64 `json:"mw"`
				ITFraction float64 `json:"it_fraction"`
			} `json:"site"`
			Fleet struct {
				EfficiencyJPerTH float64 `json:"efficiency_j_per_th"`
			} `json:"fleet"`
			Power struct {
				PricePerMWh float64 `json:"price_per_mwh"`
			} `json:"power"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	in := res.Inputs
	if in.Site.Name != "west" || in.Site.MW != 40 || in.Site.ITFraction != 0.8 || in.Fleet.EfficiencyJPerTH != 20 || in.Power.PricePerMWh != 31 {
		t.Fatalf("inputs from site + plan = %+v; want west, 40 MW, it 0.8, 20 J/TH, $31", in)
	}
	if !strings.Contains(stderr, "8.0 MW of the 40.0 MW") {
		t.Errorf("stderr does not note the partial fleet: %q", stderr)
	}
}

func TestPlanBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.csv", "")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"negative MW", []string{write("neg.yaml", "site:\n  mw: -1\n")}, []string{"neg.yaml:2", "site.mw"}},
		{"discount", []string{write("d.yaml", "discount_rate: -1\n")}, []string{"d.yaml:1", "discount_rate"}},
		{"unknown key", []string{write("u.yaml", "lease:\n  rnet: 5\n")}, []string{"u.yaml:2", "lease.rnet", "unknown key"}},
		{"empty returns file", []string{"--returns", empty}, []string{"btc.returns_file", "empty.csv", "empty file"}},
		{"returns file from config", []string{write("b.yaml", "btc:\n  model: bootstrap\n  returns_file: empty.csv\n")}, []string{"btc.returns_file", "empty file"}},
		{"missing returns file", []string{"--returns", filepath.Join(dir, "nope.csv")}, []string{"btc.returns_file", "nope.csv"}},
		{"missing config", []string{filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
		{"bad paths", []string{"--paths", "0"}, []string{"--paths"}},
		{"two files", []string{"a.yaml", "b.yaml"}, []string{"at most one"}},
		{"bad credit", []string{"--credit", "lots"}, []string{"credit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runPlanArgs(t, tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error() + stderr
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}
