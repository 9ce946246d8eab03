package eval

import (
	"os"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	rep, err := Run(Config{Miners: 42, Days: 0.75, Scheduled: true, ScheduledAt: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteTable(os.Stdout)
	for _, l := range rep.FalseAlarmLog {
		t.Log(l)
	}
	for _, o := range rep.Outcomes {
		t.Logf("%+v", o)
	}
}
