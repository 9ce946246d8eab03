package emulator

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"strings"
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

// TestListenersBindOwnAddress: every endpoint of every miner is bound on
// that miner's own loopback address (never the wildcard), each answers as
// its own miner, and an address in the /16 that is no miner refuses.
func TestListenersBindOwnAddress(t *testing.T) {
	f := startFleet(t, Config{Count: 8, Seed: 4, Net: testNet(214), FreePorts: true})
	if got, want := f.Listeners(), 0; got <= want {
		t.Fatalf("Listeners() = %d", got)
	}
	bound := 0
	for _, m := range f.Miners() {
		for _, ap := range []netip.AddrPort{m.CGMiner, m.HTTP, m.API3} {
			if !ap.IsValid() {
				continue
			}
			bound++
			if ap.Addr() != m.Addr || !ap.Addr().IsLoopback() {
				t.Errorf("%s endpoint %s, want on its own loopback address %s", m.Name, ap, m.Addr)
			}
		}
		v := cgReplyJSON(t, f, m.Index, "version")
		ver := v["VERSION"].([]any)[0].(map[string]any)
		if ver["Type"] != m.Model {
			t.Fatalf("%s (%s) answered as %v", m.Name, m.Addr, ver["Type"])
		}
		if m.Firmware == Stock {
			resp, err := digestClient("root").Get("http://" + m.HTTP.String() + "/cgi-bin/get_system_info.cgi")
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if resp.StatusCode != 200 || info["ipaddress"] != m.Addr.String() {
				t.Fatalf("HTTP for %s: %d %v", m.Addr, resp.StatusCode, info)
			}
		}
	}
	if bound != f.Listeners() {
		t.Errorf("%d endpoints bound, Listeners() = %d", bound, f.Listeners())
	}
	stranger := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 214, 200, 200}), f.Miner(0).CGMiner.Port())
	if c, err := net.DialTimeout("tcp", stranger.String(), 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s is no miner but accepted a connection", stranger)
	}
}

// TestFDLimit: a fleet whose listeners cannot fit the open-file limit is
// refused before anything is bound, with the figures in the error.
func TestFDLimit(t *testing.T) {
	for _, tc := range []struct {
		miners, need, open, limit int
		fail                      bool
	}{
		{10000, 15000, 10, 20000, false},
		{10000, 17000, 10, 20000, false},
		{10000, 20000, 10, 20000, true},
		{100, 200, 10, 1024, true},
		{100, 200, 10, 0, false}, // limit unknown
	} {
		err := checkFDs(tc.miners, tc.need, tc.open, tc.limit)
		var fe *FDLimitError
		if got := errors.As(err, &fe); got != tc.fail {
			t.Errorf("checkFDs(%d listeners, %d open, limit %d) = %v, want failure %v", tc.need, tc.open, tc.limit, err, tc.fail)
		}
	}
	f, err := NewFleet(Config{Count: maxMiners, Seed: 1, Net: testNet(215), FreePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Listeners() <= maxMiners {
		t.Fatalf("default mix of %d miners needs %d listeners, want more than one each", maxMiners, f.Listeners())
	}
	if fdLimit() >= f.Listeners()+ConnReserve+openFDs() {
		t.Skipf("open-file limit %d fits %d listeners", fdLimit(), f.Listeners())
	}
	err = f.Start(context.Background())
	defer f.Close()
	var fe *FDLimitError
	if !errors.As(err, &fe) || fe.Listeners != f.Listeners() || fe.Limit != fdLimit() {
		t.Fatalf("Start = %v, want an FDLimitError for %d listeners", err, f.Listeners())
	}
	for _, want := range []string{fmt.Sprint(f.Listeners()), fmt.Sprint(fdLimit()), "ulimit -n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestCutReplies: the network fault in cut mode writes a strict prefix of
// each reply and closes, on every protocol: the cgminer API (JSON, and
// text to bmminer), API v3 (the frame is shorter than its length prefix)
// and HTTP (the body is shorter than its Content-Length).
func TestCutReplies(t *testing.T) {
	f := startFleet(t, Config{Count: 4, Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1", Seed: 5, Net: testNet(216), FreePorts: true})
	f.Advance(10 * time.Minute)
	for i := range f.Len() {
		spec, err := ParseFaultSpec(fmt.Sprintf("%d:network_timeout:0s:0s:cut", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Schedule(spec); err != nil {
			t.Fatal(err)
		}
	}
	f.Advance(time.Second)
	lengths := map[int]bool{}
	for i, m := range f.Miners() {
		// The whole reply, as the handler builds it before the cut.
		full := map[int][]byte{i: bytes.TrimRight(f.nodes[i].cgReply([]byte(`{"command":"version"}`)), "\x00")}
		for range 5 {
			got := rawCG(t, m.CGMiner, `{"command":"version"}`)
			if len(got) == 0 || len(got) >= len(full[i]) || !bytes.HasPrefix(full[i], got) {
				t.Fatalf("%s: cut reply %q is not a strict prefix of %q", m.Name, got, full[i])
			}
			lengths[len(got)] = true
		}
		if m.Firmware == Stock {
			got := rawCG(t, m.CGMiner, "version")
			if len(got) == 0 || bytes.HasSuffix(got, []byte("|\x00")) || !bytes.HasPrefix([]byte("STATUS=S,"), got[:min(len(got), 9)]) {
				t.Fatalf("stock text reply cut to %q", got)
			}
		}
		if m.API3.IsValid() {
			b := rawAPI3(t, m.API3, []byte(`{"cmd":"get.device.info"}`))
			if len(b) == 0 {
				t.Fatal("API v3 cut reply is empty")
			}
			if len(b) >= 4 && int(binary.LittleEndian.Uint32(b)) <= len(b)-4 {
				t.Fatalf("API v3 cut reply %q is complete", b)
			}
		}
		if m.HTTP.IsValid() {
			c, err := net.DialTimeout("tcp", m.HTTP.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(c, "GET /cgi-bin/get_system_info.cgi HTTP/1.1\r\nHost: x\r\n\r\n")
			b, _ := io.ReadAll(c)
			c.Close()
			if len(b) == 0 || !bytes.HasPrefix([]byte("HTTP/1.1 200 OK"), b[:min(len(b), 15)]) || bytes.Contains(b, []byte("}")) {
				t.Fatalf("%s HTTP cut reply %q", m.Name, b)
			}
		}
	}
	if len(lengths) < 3 {
		t.Errorf("cut points %v: want them to vary", lengths)
	}
}
