package eval

import (
	"flag"
	"os"
	"testing"
)

var full = flag.Bool("full", false, "run the full evaluation (300 miners × 4 days) and print its table")

func TestFull(t *testing.T) {
	if !*full {
		t.Skip("run with -full")
	}
	rep, err := Run(Config{FaultRate: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteTable(os.Stdout); err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.FalseAlarmLog {
		t.Log(l)
	}
}
