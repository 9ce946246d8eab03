package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/jouleworks/joule/plan"
	"github.com/jouleworks/joule/site"
)

// runPlan values a site per MW: `joule plan [flags] [config.yaml]`.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: joule plan [flags] [plan.yaml]\n\nValues a site per MW: keep mining, lease the shell to an AI tenant, convert to HPC,\nor mine now and switch. With no file it uses the documented defaults (docs/plan.md).\n\nflags:")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "plan YAML `file` (or give it as the argument)")
	siteFile := fs.String("site", "", "take site MW, name, fleet J/TH and a PPA price from this `joule backtest` site config; the plan file overrides it")
	paths := fs.Int("paths", 5000, "Monte Carlo `paths`")
	seed := fs.Uint64("seed", 1, "random `seed`; same seed, same numbers")
	sens := fs.Int("sensitivity-paths", 0, "paths per tornado/breakeven evaluation (0: min(paths, 500); -1: skip them)")
	workers := fs.Int("workers", 0, "parallel workers (0: all cores); never changes results")
	asJSON := fs.Bool("json", false, "print the result as JSON (keys in docs/plan.md)")
	reportDir := fs.String("report", "", "write a self-contained HTML report, plan.html, into `dir`")
	returns := fs.String("returns", "", "bootstrap BTC returns from this daily-close CSV `file` (sets btc.model: bootstrap)")
	cashflows := fs.String("cashflows", "", "write the monthly cash flows of one path to this CSV `file` for reconciliation")
	cashPath := fs.Int("cashflows-path", 0, "which `path` --cashflows writes")
	var credit *float64
	fs.Func("credit", "curtailment/DR credit in $/MW-year, e.g. from joule backtest (overrides fleet.curtailment_credit_per_mw_year)", func(s string) error {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		credit = &x
		return nil
	})
	progressFlag := fs.Bool("progress", true, "show a progress bar when stderr is a terminal")
	// Flags may come before or after the config file.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) > 1 || (len(files) == 1 && *configPath != "") {
		fs.Usage()
		return fmt.Errorf("%w: plan takes at most one config file", errUsage)
	}
	if len(files) == 1 {
		*configPath = files[0]
	}

	cfg := plan.Defaults()
	if *siteFile != "" {
		s, err := site.Load(*siteFile)
		if err != nil {
			return fmt.Errorf("plan: --site: %w", err)
		}
		if fleetMW := applySite(&cfg, s); fleetMW > 0 && fleetMW < cfg.Site.MW {
			fmt.Fprintf(stderr, "plan: %s: its miners draw %.1f MW of the %.1f MW interconnect; plan values the whole interconnect, as if the fleet filled it\n",
				*siteFile, fleetMW, cfg.Site.MW)
		}
	}
	baseDir := "."
	if *configPath != "" {
		data, err := os.ReadFile(*configPath)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		if cfg, err = plan.ParseConfigOver(cfg, data, *configPath); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		baseDir = filepath.Dir(*configPath)
	}
	if credit != nil {
		cfg.Fleet.CurtailmentCreditPerMWYear = *credit
	}
	returnsFile := cfg.BTC.ReturnsFile
	if returnsFile != "" && !filepath.IsAbs(returnsFile) {
		returnsFile = filepath.Join(baseDir, returnsFile)
	}
	if *returns != "" {
		returnsFile = *returns
		cfg.BTC.Model, cfg.BTC.ReturnsFile = "bootstrap", *returns
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	var daily []float64
	if cfg.BTC.Model == "bootstrap" {
		f, err := os.Open(returnsFile)
		if err != nil {
			return fmt.Errorf("plan: btc.returns_file: %w", err)
		}
		daily, err = plan.ParseReturns(f, returnsFile)
		f.Close()
		if err != nil {
			return fmt.Errorf("plan: btc.returns_file: %w", err)
		}
	}

	opt := plan.Options{Paths: *paths, Seed: *seed, Workers: *workers, SensitivityPaths: *sens}
	if *paths < 1 {
		return fmt.Errorf("plan: %w: --paths must be ≥ 1, got %d", errUsage, *paths)
	}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && *progressFlag && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("paths"),
			progressbar.OptionClearOnFinish(), progressbar.OptionShowCount(), progressbar.OptionThrottle(100_000_000))
		opt.Progress = func(done, total int) {
			if bar.GetMax() != total {
				bar.ChangeMax(total)
			}
			bar.Set(done)
		}
	}
	res, err := plan.Run(ctx, cfg, daily, opt)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}

	if *cashflows != "" {
		d, err := plan.Detail(cfg, daily, *seed, *cashPath)
		if err != nil {
			return fmt.Errorf("plan: --cashflows: %w", err)
		}
		if err := writePlanFile(*cashflows, d.WriteCSV); err != nil {
			return fmt.Errorf("plan: --cashflows: %w", err)
		}
	}
	if *reportDir != "" {
		if err := os.MkdirAll(*reportDir, 0o755); err != nil {
			return fmt.Errorf("plan: --report: %w", err)
		}
		name := filepath.Join(*reportDir, "plan.html")
		if err := writePlanFile(name, func(w io.Writer) error { return plan.WriteHTML(w, res) }); err != nil {
			return fmt.Errorf("plan: --report: %w", err)
		}
		fmt.Fprintln(stderr, "plan: report written to", name)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return plan.WriteText(stdout, res)
}

// writePlanFile writes via a temporary file and renames, so a failed run never
// leaves a half-written file where a good one was.
func writePlanFile(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".plan-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return errors.Join(os.Chmod(tmp.Name(), 0o644), os.Rename(tmp.Name(), name))
}

// applySite copies what a plan needs from a site config: interconnect MW,
// name, the fleet's nominal J/TH (each tier's first profile, weighted by
// hashrate) and, for a PPA, its price. It returns the fleet's nominal MW.
func applySite(cfg *plan.Config, s *site.Site) float64 {
	cfg.Site.MW = s.InterconnectMW
	if s.Name != "" {
		cfg.Site.Name = s.Name
	}
	var w, ths float64
	for _, t := range s.Tiers {
		if len(t.Profiles) == 0 {
			continue
		}
		w += float64(t.Count) * t.Profiles[0].W
		ths += float64(t.Count) * t.Profiles[0].THs
	}
	if w > 0 && ths > 0 {
		cfg.Fleet.EfficiencyJPerTH = w / ths
	}
	if s.Contract.Kind == site.ContractPPA && s.Contract.PricePerMWh > 0 {
		cfg.Power.Model, cfg.Power.PricePerMWh = "fixed", s.Contract.PricePerMWh
	}
	return w / 1e6
}
