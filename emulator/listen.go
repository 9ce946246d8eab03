package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
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
}

// ListenModeInUse reports the listener layout: always ListenPerMiner, the
// only layout there is.
func (f *Fleet) ListenModeInUse() ListenMode { return ListenPerMiner }

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

// Listeners is how many listening sockets Start binds: one per miner and
// port its dialect serves (LuxOS 1; stock, Braiins and Whatsminer 2).
func (f *Fleet) Listeners() int {
	need := 0
	for _, n := range f.nodes {
		for s := svcCGMiner; s <= svcAPI3; s++ {
			if n.serves(s) {
				need++
			}
		}
	}
	return need
}

// ConnReserve is how many file descriptors Start keeps free beyond the
// listeners, for connections being served (and, in tests and benchmarks,
// the client sockets of the same process) and the process's own files.
const ConnReserve = 1024

// FDLimitError reports that a fleet's listeners do not fit in the process's
// open-file limit (RLIMIT_NOFILE). Start returns it before binding anything.
type FDLimitError struct {
	Miners    int // fleet size
	Listeners int // sockets the fleet needs, see Fleet.Listeners
	Open      int // file descriptors already open
	Limit     int // the soft open-file limit
}

func (e *FDLimitError) Error() string {
	need := e.Listeners + ConnReserve + e.Open
	return fmt.Sprintf("emulator: %d miners need %d listening sockets (+%d reserved for connections, %d already open) = %d file descriptors, over the open-file limit of %d (ulimit -n); raise the limit or use fewer miners, or a mix with more LuxOS miners (1 listener each; stock, Braiins and Whatsminer need 2)",
		e.Miners, e.Listeners, ConnReserve, e.Open, need, e.Limit)
}

// checkFDs returns an *FDLimitError when need listeners plus ConnReserve do
// not fit next to the open descriptors under limit (limit ≤ 0: unknown,
// not checked).
func checkFDs(miners, need, open, limit int) error {
	if limit <= 0 || need+ConnReserve+open <= limit {
		return nil
	}
	return &FDLimitError{Miners: miners, Listeners: need, Open: open, Limit: limit}
}

// listen binds every endpoint, each on its miner's own loopback address,
// and starts the accept loops.
func (f *Fleet) listen() (*listeners, error) {
	lis := &listeners{}
	if err := checkFDs(len(f.nodes), f.Listeners(), openFDs(), fdLimit()); err != nil {
		return nil, err
	}
	lis.http = &http.Server{
		Handler:           http.HandlerFunc(f.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return f.ctx },
	}
	if err := f.listenPerMiner(lis); err != nil {
		lis.close()
		return nil, err
	}
	f.log.Info("fleet listening", "miners", len(f.nodes), "listeners", len(lis.ls))
	return lis, nil
}

// fdLimit is the soft open-file limit (Go raises it to the hard limit at
// start-up on Linux); 0 when unknown.
func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(rl.Cur)
}

// openFDs counts the process's open file descriptors (0 where /proc is
// not available).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// listenPerMiner binds each endpoint on the miner's own 127.x.y.z address:
// nothing ever binds the wildcard address, so no miner is reachable from
// another host.
func (f *Fleet) listenPerMiner(lis *listeners) error {
	lc := net.ListenConfig{KeepAlive: -1} // one request per connection: keep-alive would only cost syscalls
	for _, n := range f.nodes {
		for s := svcCGMiner; s <= svcAPI3; s++ {
			if !n.serves(s) {
				continue
			}
			if !n.info.Addr.IsLoopback() {
				// NewFleet keeps Net in 127.0.0.0/8; never bind anything else.
				return fmt.Errorf("emulator: miner %s: address %s is not loopback", n.info.Name, n.info.Addr)
			}
			l, err := listenFallback(context.Background(), lc, n.info.Addr, f.port(s))
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

// add registers a listener of miner n and starts serving it.
func (lis *listeners) add(f *Fleet, l net.Listener, s service, n *node) {
	lis.mu.Lock()
	lis.ls = append(lis.ls, l)
	lis.mu.Unlock()
	if s == svcHTTP {
		go func() { _ = lis.http.Serve(l) }()
		return
	}
	go lis.accept(f, l, s, n)
}

func (lis *listeners) accept(f *Fleet, l net.Listener, s service, n *node) {
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
