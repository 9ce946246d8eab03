package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

func TestNetworkDropAndPowerLoss(t *testing.T) {
	f := startFleet(t, Config{Count: 2, Mix: "s21:luxos", Seed: 2, Net: testNet(230), FreePorts: true})
	// Miner 0: network down in drop mode → accepted, closed, no bytes.
	if err := f.InjectFault(0, physics.Fault{Kind: physics.NetworkTimeout, Start: -10, FailAt: 0, Mode: physics.NetDrop}); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Second)
	c, err := net.DialTimeout("tcp", f.Miner(0).CGMiner.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial a miner with a dropping network: %v, want the connection accepted", err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "summary")
	b, err := io.ReadAll(c)
	c.Close()
	if len(b) != 0 {
		t.Fatalf("dropped connection returned %q", b)
	}
	// Miner 1: PSU failure → connections reset.
	if err := f.InjectFault(1, physics.Fault{Kind: physics.PSUFailure, Start: -60, FailAt: 0}); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Second)
	c, err = net.DialTimeout("tcp", f.Miner(1).CGMiner.String(), 5*time.Second)
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "summary")
		_, err = io.ReadAll(c)
		c.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("powered-off miner: %v, want connection reset", err)
	}
	if got := f.Faults(1); len(got) != 1 || !got[0].Failed() {
		t.Fatalf("Faults(1) = %+v, want one failed PSU fault", got)
	}
}

func TestFleetDeterministicBySeed(t *testing.T) {
	build := func() *Fleet {
		f, err := NewFleet(Config{Count: 50, Seed: 77, FaultRate: 2})
		if err != nil {
			t.Fatal(err)
		}
		f.Advance(6 * time.Hour)
		return f
	}
	a, b := build(), build()
	for i := 0; i < a.Len(); i++ {
		if a.Miner(i).Model != b.Miner(i).Model || a.Miner(i).Firmware != b.Miner(i).Firmware {
			t.Fatalf("miner %d differs: %+v vs %+v", i, a.Miner(i), b.Miner(i))
		}
		if ta, tb := a.Telemetry(i), b.Telemetry(i); ta != tb {
			t.Fatalf("miner %d telemetry differs after 6 h", i)
		}
	}
	c, _ := NewFleet(Config{Count: 50, Seed: 78, FaultRate: 2})
	same := 0
	for i := 0; i < c.Len(); i++ {
		if c.Miner(i).Model == a.Miner(i).Model {
			same++
		}
	}
	if same == c.Len() {
		t.Fatal("another seed gave the same model order")
	}
	faults := 0
	for i := 0; i < a.Len(); i++ {
		faults += len(a.Faults(i))
	}
	if faults != a.Len() {
		t.Fatalf("%d random faults scheduled for %d miners at rate 2/day, want one each", faults, a.Len())
	}
}

func TestAcceleratedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := NewFleet(Config{Count: 3, Seed: 1, Speed: 60})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		f.ctx = ctx
		f.wg.Add(1)
		go f.runClock()
		time.Sleep(10 * time.Second)
		cancel()
		f.wg.Wait()
		if got := f.Elapsed(); math.Abs(got-600) > 6 {
			t.Fatalf("simulated %.1f s after 10 s at speed 60, want 600", got)
		}
		if got := f.Now().Sub(f.Config().Epoch); got.Round(10*time.Second) != 10*time.Minute {
			t.Fatalf("Now − Epoch = %s, want 10m", got)
		}
	})
}

func TestCloseEndsIdleConnections(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Mix: "s21:luxos", Seed: 2, Net: testNet(232), FreePorts: true})
	c, err := net.Dial("tcp", f.Miner(0).CGMiner.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() { f.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(connTimeout / 2):
		t.Fatal("Close waited for an idle client connection")
	}
}

func TestPortFallback(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.213.1.1:4028")
	if err != nil {
		t.Skipf("cannot occupy the port first: %v", err)
	}
	defer busy.Close()
	f := startFleet(t, Config{Count: 2, Mix: "s21:luxos", Seed: 1, Net: testNet(213), Listen: ListenPerMiner})
	m := f.Miner(0)
	if m.CGMiner.Port() == 4028 || m.CGMiner.Addr() != m.Addr {
		t.Fatalf("endpoint %s with 4028 taken, want the miner's address on another port", m.CGMiner)
	}
	if b := rawCG(t, m.CGMiner, "version"); len(b) == 0 {
		t.Fatal("no reply on the fallback port")
	}
	if p := f.Miner(1).CGMiner.Port(); p != 4028 {
		t.Fatalf("miner 1 on port %d, want 4028 (only miner 0's was taken)", p)
	}
}

func TestSharedListeners(t *testing.T) {
	f := startFleet(t, Config{Count: 8, Seed: 4, Net: testNet(214), Listen: ListenShared, FreePorts: true})
	if f.ListenModeInUse() != ListenShared {
		t.Fatal("shared mode not in use")
	}
	for _, m := range f.Miners() {
		v := cgReplyJSON(t, f, m.Index, "version")
		ver := v["VERSION"].([]any)[0].(map[string]any)
		if ver["Type"] != m.Model {
			t.Fatalf("%s (%s) answered as %v: routing by address is wrong", m.Name, m.Addr, ver["Type"])
		}
	}
	for _, m := range f.Miners() {
		if m.Firmware != Stock {
			continue
		}
		resp, err := digestClient("root").Get("http://" + m.HTTP.String() + "/cgi-bin/get_system_info.cgi")
		if err != nil {
			t.Fatal(err)
		}
		var info map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if resp.StatusCode != 200 || info["ipaddress"] != m.Addr.String() {
			t.Fatalf("shared HTTP for %s: %d %v", m.Addr, resp.StatusCode, info)
		}
	}
	// An address in the /16 that is no miner: accepted by the shared
	// socket, then closed without a word.
	stranger := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 214, 200, 200}), f.Miner(0).CGMiner.Port())
	c, err := net.DialTimeout("tcp", stranger.String(), 5*time.Second)
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "version")
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) != 0 {
			t.Fatalf("non-miner address answered %q", b)
		}
	}
}
