// Package testenv finds the external tools some tests need. On a developer
// machine a missing tool skips the test; in CI (JOULE_CI set, as .ci/run does)
// it fails it, so a green CI always means the test really ran.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under .ci/run.
func InCI() bool { return os.Getenv("JOULE_CI") != "" }

// Tool returns the path of the named executable, or skips (fails in CI).
// Extra names are tried in order, e.g. Tool(t, "chromium", "chromium-browser").
func Tool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	missing(t, "executable "+names[0]+" not found in PATH")
	return ""
}

// PostgresDSN returns the DSN of a test PostgreSQL server from
// JOULE_TEST_POSTGRES_DSN, or skips (fails in CI).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("JOULE_TEST_POSTGRES_DSN")
	if dsn == "" {
		missing(t, "JOULE_TEST_POSTGRES_DSN not set")
	}
	return dsn
}

func missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (required under JOULE_CI)", why)
	}
	t.Skip(why)
}
