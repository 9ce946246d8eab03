// Package node runs a Joule network node in-process: CometBFT consensus over
// the ledger application, the OpenAI gateway, the validator agent that
// checks hosts' proofs and inferences, and optionally a compute host. It
// also creates node homes and local multi-validator testnets.
package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"

	"github.com/jouleworks/joule/network/gateway"
	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
)

// Options tune Start beyond the home's config.
type Options struct {
	Log *slog.Logger
	// CometLog receives CometBFT's own log (errors only); nil discards it.
	CometLog *slog.Logger
	// Backends serve models for validation (and for the host, if any);
	// default: the built-in reference model.
	Backends []model.Backend
	// HTTPListener replaces listening on the config's http_addr.
	HTTPListener net.Listener
	// LazyValidator, if set and true for a node's moniker, makes that
	// node's validator agent vote on proofs without recomputing (it
	// guesses digests): a fault-injection hook for tests and drills that
	// play a lazy validator, which the ledger must expose. Leave nil.
	LazyValidator func(moniker string) bool
}

// Node is a running node.
type Node struct {
	Home    string
	Config  *Config
	App     *ledger.App
	Chain   *Chain
	Account ed25519.PrivateKey
	// HTTPURL is the base URL of the gateway (and host protocol).
	HTTPURL string
	Host    *Host

	cmt    *cmtnode.Node
	dbs    *dbSet
	http   *http.Server
	gw     *gateway.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Start starts the node in home and returns once CometBFT is running.
func Start(ctx context.Context, homeDir string, o Options) (*Node, error) {
	cfg, err := LoadConfig(homeDir)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	log := o.Log.With("node", cfg.Moniker)
	acct, err := LoadKey(filepath.Join(homeDir, AccountKeyFile))
	if err != nil {
		return nil, err
	}
	keys := map[string]ed25519.PrivateKey{}
	for apiKey, file := range cfg.APIKeys {
		k, err := LoadKey(filepath.Join(homeDir, keysDir, file))
		if err != nil {
			return nil, fmt.Errorf("api key %q: %w", file, err)
		}
		keys[apiKey] = k
	}
	if len(o.Backends) == 0 {
		ref, err := model.NewReference(model.DefaultReference())
		if err != nil {
			return nil, err
		}
		o.Backends = []model.Backend{ref}
	}
	cc := cfg.cometConfig(homeDir)
	app, err := ledger.NewApp(filepath.Join(homeDir, "data", "ledger"), log)
	if err != nil {
		return nil, err
	}
	nk, err := p2p.LoadNodeKey(cc.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	pv := privval.LoadFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	var clog cmtlog.Logger = cmtlog.NewNopLogger()
	if o.CometLog != nil {
		clog = cmtlog.NewFilter(slogAdapter{o.CometLog.With("node", cfg.Moniker)}, cmtlog.AllowError())
	}
	dbs := &dbSet{}
	cn, err := cmtnode.NewNodeWithContext(ctx, cc, pv, nk,
		proxy.NewLocalClientCreator(app),
		cmtnode.DefaultGenesisDocProviderFunc(cc),
		dbs.provider,
		cmtnode.DefaultMetricsProvider(cc.Instrumentation),
		clog)
	if err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("start %s: %w", cfg.Moniker, err)
	}
	if err := cn.Start(); err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("start %s: %w", cfg.Moniker, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n := &Node{Home: homeDir, Config: cfg, App: app, Account: acct, cmt: cn, cancel: cancel, dbs: dbs}
	n.Chain = &Chain{app: app, rpc: rpclocal.New(cn), nonces: map[string]uint64{}}

	ln := o.HTTPListener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			n.Stop()
			return nil, fmt.Errorf("gateway listen %s: %w", cfg.HTTPAddr, err)
		}
	}
	n.HTTPURL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	n.gw = gateway.New(n.Chain, keys, log)
	n.gw.Register(mux)
	if hs := cfg.Host; hs != nil {
		be, err := hostBackend(hs, o.Backends)
		if err != nil {
			n.Stop()
			return nil, err
		}
		hostKey := acct
		if hs.KeyFile != "" {
			if hostKey, err = LoadKey(filepath.Join(homeDir, hs.KeyFile)); err != nil {
				n.Stop()
				return nil, err
			}
		}
		n.Host = NewHost(n.Chain, HostConfig{Key: hostKey, Models: hs.Models, Backend: be, Nonces: hs.Nonces, Workers: hs.Workers, Bond: hs.Bond, Endpoint: hs.Endpoint}, log)
		n.Host.Register(mux)
		n.goRun(func() { n.Host.Run(runCtx) })
	}
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.goRun(func() {
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	})
	backends := o.Backends
	if n.Host != nil && n.Host.cfg.Backend != o.Backends[0] {
		// A node hosting a remote model can also re-execute it.
		backends = append(slices.Clone(backends), n.Host.cfg.Backend)
	}
	v := NewValidator(n.Chain, acct, backends, log)
	v.lazy = o.LazyValidator != nil && o.LazyValidator(cfg.Moniker)
	n.goRun(func() { v.Run(runCtx) })
	log.Info("node started", "http", n.HTTPURL, "account", Address(acct))
	return n, nil
}

func (n *Node) goRun(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Stop shuts the node down: agents, HTTP server, then CometBFT.
func (n *Node) Stop() {
	n.once.Do(func() {
		n.cancel()
		if n.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = n.http.Shutdown(ctx)
			cancel()
		}
		if n.gw != nil {
			n.gw.Close()
		}
		if n.cmt.IsRunning() {
			_ = n.cmt.Stop()
			n.cmt.Wait()
		}
		n.wg.Wait()
		time.Sleep(dbGrace)
		n.dbs.closeAll()
	})
}

// NodeID is the CometBFT peer id.
func (n *Node) NodeID() string { return string(n.cmt.NodeInfo().ID()) }

func hostBackend(hs *HostSettings, backends []model.Backend) (model.Backend, error) {
	if hs.BackendURL != "" {
		r, err := model.NewRemote(model.RemoteConfig{BaseURL: hs.BackendURL, Models: hs.Models})
		if err != nil {
			return nil, fmt.Errorf("host: backend_url: %w", err)
		}
		return r, nil
	}
	return backends[0], nil
}

// slogAdapter lets CometBFT log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.l.Info(msg, kv...) }
func (a slogAdapter) Error(msg string, kv ...any) { a.l.Error(msg, kv...) }
func (a slogAdapter) With(kv ...any) cmtlog.Logger {
	return slogAdapter{a.l.With(kv...)}
}
