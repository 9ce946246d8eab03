package backtest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/market"
	"github.com/jouleworks/joule/site"
)

// recorder wraps a policy and keeps every decision it takes, and checks
// that nothing past the decided interval is within reach of the policy.
type recorder struct {
	dispatch.Policy
	t         *testing.T
	decisions []dispatch.Decision
}

func (r *recorder) Decide(in *dispatch.Input) dispatch.Decision {
	if cap(in.Prices) != len(in.Prices) || cap(in.SystemLoad) != len(in.SystemLoad) {
		r.t.Errorf("%s at %v: past series reach beyond their length (prices len %d cap %d, load len %d cap %d)",
			r.Name(), in.Start, len(in.Prices), cap(in.Prices), len(in.SystemLoad), cap(in.SystemLoad))
	}
	d := r.Policy.Decide(in)
	r.decisions = append(r.decisions, d)
	return d
}

// lookAheadCases are the sites and inputs the no-look-ahead test perturbs.
var lookAheadCases = []struct {
	name string
	site func() *site.Site
	in   func() Inputs
}{
	{"rich site", richSite, func() Inputs { return richInputs(192) }},
	{"reference site, scenario", site.Reference, func() Inputs {
		sc := market.Generate(7, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), 3)
		return Inputs{Prices: sc.Prices, Hashprice: sc.Hashprice, SystemLoad: sc.SystemLoad, Temperature: sc.Temperature}
	}},
}

// TestOnlinePoliciesDoNotLookAhead changes every price from interval k on
// (spikes, negatives, reshuffled) and, separately, the hashprice from the
// day of interval k on, and requires each online policy's decisions for
// intervals 0..k to stay identical: a policy that read the price of the
// interval it decides, or any later one, or the hashprice of a day whose
// BTC close is not yet known, would change its decision.
func TestOnlinePoliciesDoNotLookAhead(t *testing.T) {
	perturb := []struct {
		name string
		f    func(i int, v float64) float64
	}{
		{"spike", func(i int, v float64) float64 { return 5000 }},
		{"negative", func(i int, v float64) float64 { return -250 }},
		{"shuffled", func(i int, v float64) float64 { return v*3 - 40 + float64(i%7)*90 }},
	}
	for _, tc := range lookAheadCases {
		for _, pol := range dispatch.Online() {
			base := runRecorded(t, tc.site(), tc.in(), pol)
			n := len(base)
			for _, k := range []int{1, n / 3, n / 2, n - 1} {
				t.Run(fmt.Sprintf("%s/%s/k=%d/hashprice", tc.name, pol.Name(), k), func(t *testing.T) {
					// A daily hashprice comes from the day's closing BTC
					// price: the day holding interval k must not be seen.
					in := tc.in()
					hp := in.Hashprice
					day, ok := hp.Index(in.Prices.At(k))
					if !ok {
						t.Fatalf("hashprice does not cover interval %d", k)
					}
					// The series' first day has no earlier close; the
					// backtest lets a policy see it (documented), so only
					// later days are perturbed there.
					v := append([]float64(nil), hp.Values...)
					for i := max(day, 1); i < len(v); i++ {
						v[i] *= 3
					}
					in.Hashprice.Values = v
					got := runRecorded(t, tc.site(), in, pol)
					for i := 0; i <= k; i++ {
						if !reflect.DeepEqual(got[i], base[i]) {
							t.Fatalf("decision %d changed when the hashprice from the day of interval %d on changed", i, k)
						}
					}
				})
				for _, pt := range perturb {
					t.Run(fmt.Sprintf("%s/%s/k=%d/%s", tc.name, pol.Name(), k, pt.name), func(t *testing.T) {
						in := tc.in()
						p := append([]float64(nil), in.Prices.Values...)
						for i := k; i < len(p); i++ {
							p[i] = pt.f(i, p[i])
						}
						in.Prices.Values = p
						got := runRecorded(t, tc.site(), in, pol)
						for i := 0; i <= k; i++ {
							if !reflect.DeepEqual(got[i], base[i]) {
								t.Fatalf("decision %d changed when prices from %d on changed:\n got %+v\nwant %+v", i, k, got[i], base[i])
							}
						}
						// The perturbation must matter somewhere, or the
						// test proves nothing.
						if pol.Name() != "always-on" && pt.name == "spike" && k < n-1 && reflect.DeepEqual(got, base) {
							t.Fatalf("a $5,000 price from interval %d on changed no decision", k)
						}
					})
				}
			}
		}
	}
}

func runRecorded(t *testing.T, s *site.Site, in Inputs, p dispatch.Policy) []dispatch.Decision {
	t.Helper()
	r := &recorder{Policy: p, t: t}
	if _, err := Run(context.Background(), s, in, Options{Policies: []dispatch.Policy{r}}); err != nil {
		t.Fatal(err)
	}
	return r.decisions
}

// TestPolicySeesLoadBeforeThePeriod starts a backtest mid-June after a
// higher system load on June 1st: the joule policy must know the month's
// high so far and so see no likely 4CP in the period's lower peaks. Cut the
// load file at the period start and the same days look like likely peaks.
func TestPolicySeesLoadBeforeThePeriod(t *testing.T) {
	fourCP := func(in Inputs) int {
		r := &recorder{Policy: dispatch.Joule{}, t: t}
		if _, err := Run(context.Background(), richSite(), in, Options{Policies: []dispatch.Policy{r}}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range r.decisions {
			for _, why := range d.Reasons {
				if why.Code == dispatch.CodeFourCP {
					n++
				}
			}
		}
		return n
	}
	in := richInputs(96)
	load := append([]float64(nil), in.SystemLoad.Values...)
	load[20] = 120000 // 2024-06-01 20:00Z, two days before the period
	in.SystemLoad.Values = load
	if n := fourCP(in); n != 0 {
		t.Errorf("%d intervals flagged as likely 4CP although June 1st's load was higher", n)
	}
	cut, err := in.SystemLoad.Slice(in.Prices.Start, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	in.SystemLoad = cut
	if n := fourCP(in); n == 0 {
		t.Error("no likely 4CP flagged without the load history: the test case does not exercise the history")
	}
}
