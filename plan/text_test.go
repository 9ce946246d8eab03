package plan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// The terminal report of a small fixed run is pinned; run with -update
// after an intended change and review the diff.
func TestTextGolden(t *testing.T) {
	r, err := Run(context.Background(), Defaults(), nil, Options{Paths: 300, Seed: 11, SensitivityPaths: 40})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "default_300.txt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./plan -run TestTextGolden -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("terminal output differs from %s (go test ./plan -run TestTextGolden -update to accept):\n%s", golden, buf.String())
	}
}

func TestMoney0(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "0"}, {-0.4, "0"}, {-0.6, "-1"}, {999.5, "1,000"}, {1234567.49, "1,234,567"}, {-1234, "-1,234"}, {12, "12"}} {
		if got := money0(tc.x); got != tc.want {
			t.Errorf("money0(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}
