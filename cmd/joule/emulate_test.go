package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunEmulateListsMiners(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runEmulate(ctx, []string{"--count", "4", "--mix", "s19jpro:stock=1,s21:luxos=1,m50s:whatsminer=1,s19xp:braiins=1", "--net", "127.250.0.0", "--speed", "60", "--free-ports"}, &out, &errOut)
	}()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(errOut.String(), "listening") {
		select {
		case err := <-done:
			t.Fatalf("runEmulate returned early: %v; stderr %s", err, errOut.String())
		case <-deadline:
			t.Fatalf("no listening line; stderr %s", errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runEmulate: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want header + 4 miners:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"stock", "luxos", "whatsminer", "braiins", "127.250.1.1:", "127.250.1.4:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunEmulateBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mix", "s19jpro:stok=10"}, `mix token 1 "s19jpro:stok=10": unknown firmware "stok"`},
		{[]string{"--speed", "0"}, "-speed 0"},
		{[]string{"--net", "10.0.0.0"}, "not in 127.0.0.0/8"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--count", "2", "--fault", "m00003:fan_wear:1h"}, `no such miner`},
	} {
		var out, errOut bytes.Buffer
		err := runEmulate(context.Background(), tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUsage) {
			t.Errorf("runEmulate(%v) = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestRunEmulateOverFDLimit: a fleet whose sockets cannot fit the open-file
// limit is refused with the limit and the count it needs, before any bind.
func TestRunEmulateOverFDLimit(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip(err)
	}
	// 64,516 miners of the default mix need about 110,000 sockets.
	if rl.Cur >= 110000 {
		t.Skipf("open-file limit %d fits the largest fleet", rl.Cur)
	}
	var out, errOut bytes.Buffer
	err := runEmulate(context.Background(), []string{"--count", "64516", "--net", "127.251.0.0", "--free-ports", "--quiet"}, &out, &errOut)
	if err == nil {
		t.Fatal("64,516 miners started under a limit of", rl.Cur)
	}
	for _, want := range []string{"--count 64516", "open-file limit of " + strconv.FormatUint(rl.Cur, 10), "listening sockets", "ulimit -n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
