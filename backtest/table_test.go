package backtest

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jouleworks/joule/dispatch"
)

func TestDollars(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {-0.4, "0"}, {999.5, "1,000"}, {1234567.49, "1,234,567"}, {-1234, "-1,234"}, {12, "12"}} {
		if got := dollars(tc.v); got != tc.want {
			t.Errorf("dollars(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestTableReconciles reads the printed table back: the printed components
// must add up to the printed profit, up to rounding of each to the dollar.
func TestTableReconciles(t *testing.T) {
	res, err := Run(context.Background(), richSite(), richInputs(96), Options{Hindsight: true, Policies: dispatch.Online()})
	if err != nil {
		t.Fatal(err)
	}
	// Scale every dollar up so rounding is small against the amounts.
	for _, p := range res.Policies {
		for _, v := range []*float64{&p.Mining, &p.AI, &p.Ancillary, &p.Resale, &p.Energy, &p.FourCP, &p.Switching} {
			*v *= 1000
		}
		p.finish()
	}
	var b bytes.Buffer
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(b.String(), "\n")[2:] {
		f := strings.Fields(line)
		if len(f) != 12 {
			continue
		}
		rows++
		n := make([]float64, 8)
		for i := range n {
			v, err := strconv.ParseFloat(strings.ReplaceAll(f[i+1], ",", ""), 64)
			if err != nil {
				t.Fatalf("row %q: %v", line, err)
			}
			n[i] = v
		}
		sum := n[0] + n[1] + n[2] + n[3] - n[4] - n[5] - n[6]
		if d := sum - n[7]; d > 4 || d < -4 {
			t.Errorf("%s: printed components sum to %.0f, printed profit %.0f", f[0], sum, n[7])
		}
	}
	if rows != 4 {
		t.Fatalf("read %d policy rows, want 4:\n%s", rows, b.String())
	}
}
