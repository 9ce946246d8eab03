package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/jouleworks/joule/backtest"
	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

// scenarioStart is where the built-in scenario starts when --from is unset.
var scenarioStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// runBacktest compares dispatch policies on historical or built-in prices.
func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		sitePath  = fs.String("site", "", "site config `FILE` (default: the built-in 100 MW reference site)")
		prices    = fs.String("prices", "", "real-time price `FILE` (ERCOT layouts or timestamp,price; default: built-in scenario)")
		point     = fs.String("settlement-point", "", "settlement point to read from a file that holds several")
		btc       = fs.String("btc", "", "daily Bitcoin `FILE` (date, close_usd, difficulty[, fees_btc_per_block])")
		hashprice = fs.Float64("hashprice", 0, "constant hashprice in $/TH/day (overrides --btc)")
		loadPath  = fs.String("load", "", "ERCOT system load `FILE` for 4CP peaks and the load forecast")
		tempPath  = fs.String("temperature", "", "ambient temperature `FILE` (°C) for cooling derate")
		from      = fs.String("from", "", "first day (YYYY-MM-DD or RFC 3339, UTC)")
		to        = fs.String("to", "", "end, exclusive (YYYY-MM-DD or RFC 3339, UTC)")
		policy    = fs.String("policy", "all", "policy to run: all, always-on, strike, joule or hindsight")
		asJSON    = fs.Bool("json", false, "print JSON instead of the table")
		report    = fs.String("report", "", "write an HTML report with charts to `DIR`")
		seed      = fs.Int64("seed", 1, "seed of the built-in scenario")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: joule backtest [flags]\n\nRuns dispatch policies over a period and prints revenue, cost, profit and\ncapture of the hindsight optimum per policy. With no flags: the reference\nsite on one year of the built-in scenario.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: backtest takes no arguments, got %q", errUsage, fs.Args())
	}
	fromT, err := parseDay("--from", *from)
	if err != nil {
		return err
	}
	toT, err := parseDay("--to", *to)
	if err != nil {
		return err
	}
	if !fromT.IsZero() && !toT.IsZero() && !toT.After(fromT) {
		return fmt.Errorf("%w: --to %s is not after --from %s", errUsage, *to, *from)
	}
	hsSet := false
	fs.Visit(func(f *flag.Flag) { hsSet = hsSet || f.Name == "hashprice" })
	if hsSet && !(*hashprice > 0) {
		return fmt.Errorf("%w: --hashprice must be positive, got %g", errUsage, *hashprice)
	}

	s := site.Reference()
	if *sitePath != "" {
		if s, err = site.Load(*sitePath); err != nil {
			return err
		}
	}
	pols, hindsight, err := selectPolicies(*policy)
	if err != nil {
		return err
	}
	in, notes, err := backtestInputs(*prices, *point, *btc, *hashprice, hsSet, *loadPath, *tempPath, fromT, toT, *seed)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	opt := backtest.Options{Policies: pols, Hindsight: hindsight, Trace: *report != ""}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("backtest"),
			progressbar.OptionClearOnFinish(), progressbar.OptionShowCount())
		opt.Progress = func(done, total int) {
			bar.ChangeMax(total)
			_ = bar.Set(done)
		}
		defer bar.Finish()
	}
	res, err := backtest.Run(ctx, s, in, opt)
	if err != nil {
		return err
	}
	if *report != "" {
		if err := os.MkdirAll(*report, 0o755); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		path := filepath.Join(*report, "backtest.html")
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := res.WriteHTML(f); err != nil {
			f.Close()
			return fmt.Errorf("report %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
		fmt.Fprintln(stderr, "report:", path)
	}
	if *asJSON {
		return res.WriteJSON(stdout)
	}
	return res.WriteTable(stdout)
}

func selectPolicies(name string) ([]dispatch.Policy, bool, error) {
	all := dispatch.Online()
	switch name {
	case "all":
		return all, true, nil
	case backtest.HindsightName:
		return nil, true, nil
	}
	names := []string{"all"}
	for _, p := range all {
		if p.Name() == name {
			// Capture needs the hindsight profit, so it runs alongside.
			return []dispatch.Policy{p}, true, nil
		}
		names = append(names, p.Name())
	}
	return nil, false, fmt.Errorf("%w: unknown --policy %q (want one of %s, %s)", errUsage, name, strings.Join(names, ", "), backtest.HindsightName)
}

// parseDay reads a date (midnight UTC) or an RFC 3339 time; empty is zero.
func parseDay(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q: want YYYY-MM-DD or RFC 3339", errUsage, flagName, v)
	}
	return t.UTC(), nil
}

// backtestInputs reads the given files, filling in from the built-in
// scenario what is not given when no price file is, and cuts the period.
func backtestInputs(prices, point, btc string, hashprice float64, hsSet bool, loadPath, tempPath string, from, to time.Time, seed int64) (backtest.Inputs, []string, error) {
	var in backtest.Inputs
	var notes []string
	if prices == "" {
		start := scenarioStart
		if !from.IsZero() {
			start = from
		}
		days := 365
		if !to.IsZero() {
			days = int((to.Sub(start) + 24*time.Hour - 1) / (24 * time.Hour))
		}
		sc := market.Generate(seed, start, days)
		in = backtest.Inputs{Prices: sc.Prices, Hashprice: sc.Hashprice, SystemLoad: sc.SystemLoad, Temperature: sc.Temperature}
		notes = append(notes, "built-in scenario, seed "+strconv.FormatInt(seed, 10))
	} else {
		p, err := market.OpenPrices(prices, market.PriceOptions{SettlementPoint: point, Step: 15 * time.Minute})
		if err != nil {
			return in, nil, err
		}
		in.Prices = p
		notes = append(notes, p.Notes...)
	}
	all := in.Prices
	var err error
	if in.Prices, err = in.Prices.Slice(from, to); err != nil {
		return in, nil, err
	}
	priceName := prices
	if priceName == "" {
		priceName = "the built-in scenario"
	}
	if in.Prices.Len() == 0 {
		return in, nil, fmt.Errorf("backtest: no prices in the chosen period: %s covers %s", priceName, span(all))
	}
	if (!from.IsZero() && in.Prices.Start.After(from)) || (!to.IsZero() && in.Prices.End().Before(to)) {
		notes = append(notes, fmt.Sprintf("%s covers %s: the period is cut to %s", priceName, span(all), span(in.Prices)))
	}
	switch {
	case hsSet:
		days := int(in.Prices.End().Sub(in.Prices.Start)/(24*time.Hour)) + 2
		in.Hashprice = market.ConstantSeries("hashprice", "$/TH/day", in.Prices.Start.Truncate(24*time.Hour), 24*time.Hour, days, hashprice)
	case btc != "":
		bd, err := market.OpenBTC(btc)
		if err != nil {
			return in, nil, err
		}
		in.Hashprice = market.HashpriceSeries(bd, market.DefaultFeeBTCPerBlock)
		notes = append(notes, in.Hashprice.Notes...)
		if err := covers(btc, in.Hashprice, in.Prices); err != nil {
			return in, nil, err
		}
	case prices != "":
		return in, nil, fmt.Errorf("%w: with --prices, give --btc FILE or --hashprice X", errUsage)
	}
	if loadPath != "" {
		if in.SystemLoad, err = market.OpenLoad(loadPath, market.ReadOptions{}); err != nil {
			return in, nil, err
		}
		if err := covers(loadPath, in.SystemLoad, in.Prices); err != nil {
			return in, nil, err
		}
	}
	if tempPath != "" {
		if in.Temperature, err = market.OpenTemperature(tempPath, market.ReadOptions{}); err != nil {
			return in, nil, err
		}
		if err := covers(tempPath, in.Temperature, in.Prices); err != nil {
			return in, nil, err
		}
	}
	return in, notes, nil
}

// span formats a series' period for messages.
func span(s market.Series) string {
	return s.Start.Format(time.RFC3339) + " to " + s.End().Format(time.RFC3339)
}

// covers checks that the series read from file has a value at the start of
// every price interval, so a short file is named in the error rather than
// found out interval by interval.
func covers(file string, s, prices market.Series) error {
	last := prices.End().Add(-prices.Step)
	if s.Len() == 0 || prices.Start.Before(s.Start) || !last.Before(s.End()) {
		return fmt.Errorf("backtest: %s covers %s, the period needs %s (set --from/--to inside it)", file, span(s), span(prices))
	}
	return nil
}
