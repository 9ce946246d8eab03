package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jouleworks/joule/network/node"
)

func TestNetUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runNet(context.Background(), nil, &out, &errb); !errors.Is(err, errUsage) {
		t.Fatalf("no subcommand: err = %v, want usage", err)
	}
	if err := runNet(context.Background(), []string{"bogus"}, &out, &errb); !errors.Is(err, errUsage) || !strings.Contains(errb.String(), "testnet") {
		t.Fatalf("unknown subcommand: err = %v, usage %q", err, errb.String())
	}
	if err := runNet(context.Background(), []string{"testnet", "--validators", "0"}, &out, &errb); !errors.Is(err, errUsage) {
		t.Fatalf("--validators 0: err = %v, want usage", err)
	}
}

func TestNetTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts CometBFT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	args := []string{"testnet", "--validators", "2", "--block-time", "50ms", "--blocks", "4", "--host-nonces", "0", "--dir", t.TempDir()}
	if err := runNet(ctx, args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, want := range []string{"2 validators", "node1  gateway http://127.0.0.1:", "API key sk-joule-local", "reached height"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// cancelOn cancels when what it is written contains marker.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

func TestNetInitStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts CometBFT")
	}
	home := filepath.Join(t.TempDir(), "n")
	var addrs []string
	for range 3 {
		a, err := node.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, a)
	}
	var out, errb bytes.Buffer
	args := []string{"init", "--home", home, "--p2p", addrs[0], "--rpc", addrs[1], "--http", addrs[2], "--block-time", "50ms", "--api-key", "sk-1"}
	if err := runNet(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("init: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "api key sk-1 pays from account") {
		t.Fatalf("init output: %s", out.String())
	}
	if err := runNet(context.Background(), args, &out, &errb); err == nil || !strings.Contains(err.Error(), "already initialised") {
		t.Fatalf("second init: err = %v, want already initialised", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, stop := context.WithCancel(ctx)
	w := &cancelOn{marker: "epoch 0 sprint", cancel: stop}
	if err := runNet(run, []string{"start", "--home", home}, w, &errb); err != nil {
		t.Fatalf("start: %v\n%s", err, errb.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("node made no block in time: %s", w.buf.String())
	}
}
