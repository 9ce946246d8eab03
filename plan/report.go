package plan

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// WriteHTML writes a self-contained HTML report: no scripts, no external
// files; the charts are inline SVG drawn here.
func WriteHTML(w io.Writer, r *Result) error {
	var summary bytes.Buffer
	if err := WriteText(&summary, r); err != nil {
		return err
	}
	inputs, err := yaml.Marshal(r.Config)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	data := struct {
		R          *Result
		Summary    string
		Inputs     string
		Histograms template.HTML
		Wins       template.HTML
		Tornados   []template.HTML
	}{R: r, Summary: summary.String(), Inputs: string(inputs),
		Histograms: template.HTML(histograms(r)), Wins: template.HTML(winBars(r))}
	for _, s := range Strategies {
		if len(r.Tornado) > 0 {
			data.Tornados = append(data.Tornados, template.HTML(tornadoSVG(r, s)))
		}
	}
	return reportTmpl.Execute(w, data)
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(x float64) float64 { return x * 100 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>joule plan: {{.R.Config.Site.Name}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:12px}
table{border-collapse:collapse}td,th{padding:.2em .7em;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
svg{display:block;margin:.5em 0}
.note{color:#666;font-size:12px}
</style></head><body>
<h1>joule plan: {{.R.Config.Site.Name}}, {{.R.Config.Site.MW}} MW</h1>
<p class="note">{{.R.Paths}} Monte Carlo paths, seed {{.R.Seed}}, {{.R.Months}} monthly steps from {{.R.Config.Start}}.
NPVs are per watt of site interconnect ($/W equals $M per MW), pre-tax, nominal, discounted at {{.R.Config.DiscountRate}}.
Formulas: docs/plan.md.</p>
<h2>NPV by strategy</h2>
<table><tr><th>strategy</th><th>mean $/W</th><th>P10</th><th>P50</th><th>P90</th><th>P(win)</th></tr>
{{range .R.Strategies}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .NPVPerW.Mean}}</td><td>{{printf "%.2f" .NPVPerW.P10}}</td><td>{{printf "%.2f" .NPVPerW.P50}}</td><td>{{printf "%.2f" .NPVPerW.P90}}</td><td>{{printf "%.1f %%" (pct .WinProbability)}}</td></tr>
{{end}}</table>
<h2>Distributions</h2>
<p class="note">Histogram of NPV per W over all paths; dashed lines mark P10, P50 and P90.</p>
{{.Histograms}}
<h2>Probability each strategy wins</h2>
{{.Wins}}
{{if .Tornados}}<h2>Sensitivity</h2>
<p class="note">Mean NPV per W with one input at its low (left label) and high value, {{.R.SensitivityPaths}} paths each, same random draws.</p>
{{range .Tornados}}{{.}}{{end}}{{end}}
<h2>Summary</h2>
<pre>{{.Summary}}</pre>
<h2>Inputs</h2>
<pre>{{.Inputs}}</pre>
</body></html>
`))

var colours = [numStrategies]string{"#d08b00", "#2b6cb0", "#7b3fa0", "#2f855a"}

// histograms draws one histogram per strategy on a shared x axis.
func histograms(r *Result) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range Strategies {
		// Clip the axis to the P1–P99 of all strategies so one fat tail
		// does not squash the rest; clipped values pile into the end bins.
		x := sortedPerW(r.npv[s])
		lo = math.Min(lo, quantile(x, 0.01))
		hi = math.Max(hi, quantile(x, 0.99))
	}
	if !(hi > lo) {
		lo, hi = lo-1, hi+1
	}
	const W, H, left, bins = 900, 120, 70, 60
	var b strings.Builder
	for _, s := range Strategies {
		counts := make([]int, bins)
		maxc := 1
		for _, v := range r.npv[s] {
			i := int((v/1e6 - lo) / (hi - lo) * bins)
			i = min(max(i, 0), bins-1)
			counts[i]++
			maxc = max(maxc, counts[i])
		}
		fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="%s NPV histogram">`, W, H+24, s)
		fmt.Fprintf(&b, `<text x="0" y="16" font-weight="bold">%s</text>`, s)
		bw := float64(W-left) / bins
		for i, c := range counts {
			h := float64(c) / float64(maxc) * (H - 24)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, left+float64(i)*bw, H-h, bw-1, h, colours[s])
		}
		st := r.Strategies[s].NPVPerW
		for _, q := range []float64{st.P10, st.P50, st.P90} {
			x := left + (q-lo)/(hi-lo)*float64(W-left)
			if x >= left && x <= W {
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="20" y2="%d" stroke="#222" stroke-dasharray="3,3"/>`, x, x, H)
			}
		}
		axis(&b, lo, hi, left, W, H)
		b.WriteString(`</svg>`)
	}
	return b.String()
}

func sortedPerW(x []float64) []float64 {
	s := make([]float64, len(x))
	for i, v := range x {
		s[i] = v / 1e6
	}
	sort.Float64s(s)
	return s
}

func sortRows(rows []TornadoRow, key func(TornadoRow) float64) {
	sort.SliceStable(rows, func(i, j int) bool { return key(rows[i]) > key(rows[j]) })
}

// axis draws an x axis in $/W with about eight ticks.
func axis(b *strings.Builder, lo, hi float64, left, W, y int) {
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#888"/>`, left, W, y, y)
	step := niceStep((hi - lo) / 8)
	for t := math.Ceil(lo/step) * step; t <= hi; t += step {
		x := float64(left) + (t-lo)/(hi-lo)*float64(W-left)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#888"/><text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`,
			x, x, y, y+4, x, y+16, html.EscapeString(dollars(t)))
	}
}

// dollars formats an axis label: -$20, $0.5.
func dollars(x float64) string {
	if math.Abs(x) < 1e-12 {
		return "$0"
	}
	if x < 0 {
		return fmt.Sprintf("-$%.4g", -x)
	}
	return fmt.Sprintf("$%.4g", x)
}

func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func winBars(r *Result) string {
	const W, row, left = 600, 24, 70
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="win probabilities">`, W, row*len(r.Strategies)+4)
	for i, s := range r.Strategies {
		y := i * row
		w := s.WinProbability * (W - left - 60)
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text><rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d">%.1f %%</text>`,
			y+16, html.EscapeString(s.Name), left, y+4, w, row-8, colours[i], float64(left)+w+6, y+16, s.WinProbability*100)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// tornadoSVG draws strategy s's tornado: one bar per input from its low to
// its high mean NPV, around the base.
func tornadoSVG(r *Result, s Strategy) string {
	name := s.String()
	rows := append([]TornadoRow(nil), r.Tornado...)
	sortRows(rows, func(t TornadoRow) float64 { return math.Abs(t.NPVPerWHi[name] - t.NPVPerWLo[name]) })
	// Inputs that do not move this strategy (another path's inputs) only
	// add noise to its chart.
	for len(rows) > 1 && math.Abs(rows[len(rows)-1].NPVPerWHi[name]-rows[len(rows)-1].NPVPerWLo[name]) < 1e-9 {
		rows = rows[:len(rows)-1]
	}
	base := rows[0].BaseNPV[name]
	lo, hi := base, base
	for _, t := range rows {
		lo = math.Min(lo, math.Min(t.NPVPerWLo[name], t.NPVPerWHi[name]))
		hi = math.Max(hi, math.Max(t.NPVPerWLo[name], t.NPVPerWHi[name]))
	}
	pad := math.Max((hi-lo)*0.05, 0.01)
	lo, hi = lo-pad, hi+pad
	const W, row, left = 900, 20, 300
	H := row*len(rows) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="%s tornado">`, W, H+30, name)
	fmt.Fprintf(&b, `<text x="0" y="14" font-weight="bold">%s (base %s/W)</text>`, name, dollars(math.Round(base*100)/100))
	X := func(v float64) float64 { return left + (v-lo)/(hi-lo)*float64(W-left-10) }
	for i, t := range rows {
		y := 20 + i*row
		a, c := t.NPVPerWLo[name], t.NPVPerWHi[name]
		x0, x1 := math.Min(X(a), X(c)), math.Max(X(a), X(c))
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12">%s %s→%s</text>`, y+13, html.EscapeString(t.Input), short(t.Low), short(t.High))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x0, y+2, math.Max(x1-x0, 1), row-5, colours[s])
		// A marker on the high end says which way the input pushes.
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="3" fill="#222"/>`, X(c), y+row/2)
	}
	bx := X(base)
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="18" y2="%d" stroke="#222"/>`, bx, bx, H+4)
	axis(&b, lo, hi, left, W-10, H+8)
	b.WriteString(`</svg><p class="note">dot = input at its high value</p>`)
	return b.String()
}
