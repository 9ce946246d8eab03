package dispatch

import (
	"os"
	"strconv"
	"testing"

	"github.com/jouleworks/joule/site"
)

func TestDbgYear(t *testing.T) {
	debugIPM = os.Getenv("DBG") != ""
	defer func() { debugIPM = false }()
	hz := yearHorizon()
	days, _ := strconv.Atoi(os.Getenv("DAYS"))
	if days == 0 {
		t.Skip()
	}
	a, n := 150*96, days*96
	hz.Start = hz.Start.Add(hz.Step * 150 * 96)
	hz.Prices, hz.Hashprice, hz.TempC, hz.Peak = hz.Prices[a:a+n], hz.Hashprice[a:a+n], hz.TempC[a:a+n], hz.Peak[a:a+n]
	plan, err := Hindsight(site.Reference(), hz)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(plan.Profit, plan.DualBound, plan.Iterations)
}
