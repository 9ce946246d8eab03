package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// service is one kind of endpoint a miner serves.
type service uint8

const (
	svcCGMiner service = iota // cgminer-family JSON API, TCP 4028
	svcHTTP                   // stock Antminer CGI or Braiins REST, HTTP 80
	svcAPI3                   // Whatsminer API v3, TCP 4433
)

func (n *node) serves(s service) bool {
	switch s {
	case svcCGMiner:
		return true
	case svcHTTP:
		return n.info.Firmware == Stock || n.info.Firmware == Braiins
	case svcAPI3:
		return n.info.Firmware == Whatsminer
	}
	return false
}

// listeners owns every socket of a running fleet.
type listeners struct {
	mu     sync.Mutex
	ls     []net.Listener
	http   *http.Server
	conns  sync.WaitGroup
	active map[net.Conn]struct{} // raw TCP connections being served
	closed bool
	mode   ListenMode
}

// ListenModeInUse reports the layout Start chose (PerMiner or Shared).
func (f *Fleet) ListenModeInUse() ListenMode {
	if f.lis == nil {
		return f.cfg.Listen
	}
	return f.lis.mode
}

func (f *Fleet) port(s service) int {
	if f.cfg.FreePorts {
		return 0
	}
	switch s {
	case svcHTTP:
		return f.cfg.Ports.HTTP
	case svcAPI3:
		return f.cfg.Ports.Whatsminer
	}
	return f.cfg.Ports.CGMiner
}

// listen binds every endpoint and starts the accept loops.
func (f *Fleet) listen() (*listeners, error) {
	lis := &listeners{mode: f.cfg.Listen}
	need := 0
	for _, n := range f.nodes {
		for s := svcCGMiner; s <= svcAPI3; s++ {
			if n.serves(s) {
				need++
			}
		}
	}
	if lis.mode == ListenAuto {
		lis.mode = ListenPerMiner
		if need > fdBudget() {
			lis.mode = ListenShared
		}
	}
	lis.http = &http.Server{
		Handler:           http.HandlerFunc(f.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return f.ctx },
	}
	var err error
	if lis.mode == ListenShared {
		err = f.listenShared(lis)
	} else {
		err = f.listenPerMiner(lis)
	}
	if err != nil {
		lis.close()
		return nil, err
	}
	f.log.Info("fleet listening", "miners", len(f.nodes), "listeners", len(lis.ls), "mode", map[ListenMode]string{ListenPerMiner: "per-miner", ListenShared: "shared"}[lis.mode])
	return lis, nil
}

// fdBudget is how many listeners PerMiner may use: half the open-file
// limit, leaving the rest for connections (client and server side).
func fdBudget() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1000
	}
	return int(rl.Cur / 2)
}

func (f *Fleet) listenPerMiner(lis *listeners) error {
	for _, n := range f.nodes {
		for s := svcCGMiner; s <= svcAPI3; s++ {
			if !n.serves(s) {
				continue
			}
			l, err := listenFallback(context.Background(), net.ListenConfig{KeepAlive: -1}, n.info.Addr, f.port(s))
			if err != nil {
				return fmt.Errorf("emulator: miner %s: %w", n.info.Name, err)
			}
			ap := l.Addr().(*net.TCPAddr).AddrPort()
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			n.mu.Lock()
			n.setEndpoint(s, ap)
			n.mu.Unlock()
			lis.add(f, l, s, n)
		}
	}
	return nil
}

func (f *Fleet) listenShared(lis *listeners) error {
	for s := svcCGMiner; s <= svcAPI3; s++ {
		used := false
		for _, n := range f.nodes {
			if n.serves(s) {
				used = true
				break
			}
		}
		if !used {
			continue
		}
		lc, err := loopbackOnly()
		if err != nil {
			return fmt.Errorf("emulator: shared listener: %w", err)
		}
		l, err := listenFallback(context.Background(), lc, netip.IPv4Unspecified(), f.port(s))
		if err != nil {
			return fmt.Errorf("emulator: shared listener: %w", err)
		}
		port := uint16(l.Addr().(*net.TCPAddr).Port)
		for _, n := range f.nodes {
			if n.serves(s) {
				n.mu.Lock()
				n.setEndpoint(s, netip.AddrPortFrom(n.info.Addr, port))
				n.mu.Unlock()
			}
		}
		lis.add(f, l, s, nil)
	}
	return nil
}

// listenFallback binds addr:port, or addr with a free port when port is
// taken or privileged.
func listenFallback(ctx context.Context, lc net.ListenConfig, addr netip.Addr, port int) (net.Listener, error) {
	l, err := lc.Listen(ctx, "tcp4", netip.AddrPortFrom(addr, uint16(port)).String())
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
		return nil, fmt.Errorf("listen %s:%d: %w", addr, port, err)
	}
	l, err2 := lc.Listen(ctx, "tcp4", netip.AddrPortFrom(addr, 0).String())
	if err2 != nil {
		return nil, fmt.Errorf("listen %s:%d: %w (and on a free port: %v)", addr, port, err, err2)
	}
	return l, nil
}

func (n *node) setEndpoint(s service, ap netip.AddrPort) {
	switch s {
	case svcCGMiner:
		n.info.CGMiner = ap
	case svcHTTP:
		n.info.HTTP = ap
	case svcAPI3:
		n.info.API3 = ap
	}
}

// add registers a listener and starts serving it. fixed is the miner a
// per-miner listener belongs to; nil routes by local address.
func (lis *listeners) add(f *Fleet, l net.Listener, s service, fixed *node) {
	lis.mu.Lock()
	lis.ls = append(lis.ls, l)
	lis.mu.Unlock()
	if s == svcHTTP {
		go func() { _ = lis.http.Serve(l) }()
		return
	}
	go lis.accept(f, l, s, fixed)
}

func (lis *listeners) accept(f *Fleet, l net.Listener, s service, fixed *node) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, keep serving.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n := fixed
		if n == nil {
			n = f.nodeFor(c.LocalAddr())
		}
		if n == nil || !n.serves(s) {
			c.Close()
			continue
		}
		if !lis.track(c) {
			c.Close()
			return
		}
		go func() {
			defer lis.untrack(c)
			switch s {
			case svcCGMiner:
				f.serveCGMiner(n, c)
			case svcAPI3:
				f.serveAPI3(n, c)
			}
		}()
	}
}

// nodeFor maps the address a connection was made to onto its miner.
func (f *Fleet) nodeFor(a net.Addr) *node {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return nil
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return nil
	}
	return f.byAddr[ip.Unmap()]
}

// track registers a connection so close can end it; false once closing.
func (lis *listeners) track(c net.Conn) bool {
	lis.mu.Lock()
	defer lis.mu.Unlock()
	if lis.closed {
		return false
	}
	if lis.active == nil {
		lis.active = map[net.Conn]struct{}{}
	}
	lis.active[c] = struct{}{}
	lis.conns.Add(1)
	return true
}

func (lis *listeners) untrack(c net.Conn) {
	c.Close()
	lis.mu.Lock()
	delete(lis.active, c)
	lis.mu.Unlock()
	lis.conns.Done()
}

// close stops accepting, ends every connection in flight and waits for
// their handlers.
func (lis *listeners) close() {
	lis.mu.Lock()
	if lis.closed {
		lis.mu.Unlock()
		return
	}
	lis.closed = true
	ls := lis.ls
	for c := range lis.active {
		c.Close()
	}
	lis.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	lis.http.Close()
	lis.conns.Wait()
}
