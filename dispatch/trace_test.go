package dispatch

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/jouleworks/joule/site"
)

func TestTraceYear(t *testing.T) {
	days, _ := strconv.Atoi(os.Getenv("DAYS"))
	if days == 0 {
		t.Skip()
	}
	ipmTrace = func(it int, pinf, dinf, gap, mu float64) { fmt.Printf("%d %.1e %.1e %.1e %.1e; ", it, pinf, dinf, gap, mu) }
	defer func() { ipmTrace = nil }()
	hz := yearHorizon()
	n := days * 96
	hz.Prices, hz.Hashprice, hz.TempC, hz.Peak = hz.Prices[:n], hz.Hashprice[:n], hz.TempC[:n], hz.Peak[:n]
	plan, err := Hindsight(site.Reference(), hz)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(plan.Profit, plan.Iterations)
}
