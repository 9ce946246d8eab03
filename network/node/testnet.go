package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
)

// TestnetConfig describes a local network of validators on loopback.
type TestnetConfig struct {
	Dir        string
	Validators int
	ChainID    string
	BlockTime  time.Duration
	Params     ledger.Params
	// Balances funds extra accounts in genesis.
	Balances         map[string]uint64
	ValidatorBalance uint64
	// APIKey, if set, is configured on every node's gateway for one shared
	// requester account funded with RequesterBalance.
	APIKey           string
	RequesterBalance uint64
	// HostNonces > 0 makes node 0 a compute host serving the reference
	// model with this many nonces per sprint.
	HostNonces uint64
	HostBond   uint64
}

// Layout is what InitTestnet created.
type Layout struct {
	Homes     []string
	ChainID   string
	Requester ed25519.PrivateKey
	APIKey    string
}

// InitTestnet creates cfg.Validators node homes under cfg.Dir sharing one
// genesis, each listening on free loopback ports and peering with all
// others.
func InitTestnet(cfg TestnetConfig) (*Layout, error) {
	if cfg.Validators < 1 {
		return nil, fmt.Errorf("testnet: validators = %d, want at least 1", cfg.Validators)
	}
	if cfg.BlockTime <= 0 {
		cfg.BlockTime = time.Second
	}
	if cfg.ChainID == "" {
		cfg.ChainID = "joule-testnet"
	}
	var homes []*home
	balances := map[string]uint64{}
	for i := range cfg.Validators {
		var addrs [3]string
		for j := range addrs {
			a, err := FreeAddr()
			if err != nil {
				return nil, fmt.Errorf("testnet: %w", err)
			}
			addrs[j] = a
		}
		o := InitOptions{Moniker: fmt.Sprintf("node%d", i), P2PAddr: addrs[0], RPCAddr: addrs[1], HTTPAddr: addrs[2], BlockTime: cfg.BlockTime}
		if i == 0 && cfg.HostNonces > 0 {
			o.Host = &HostSettings{Models: []string{model.RefModel}, Nonces: cfg.HostNonces, Workers: 1, Bond: max(cfg.HostBond, cfg.Params.MinBond), Endpoint: "http://" + addrs[2]}
		}
		h, err := initHome(filepath.Join(cfg.Dir, o.Moniker), o)
		if err != nil {
			return nil, err
		}
		if h.hostAccount != "" {
			balances[h.hostAccount] += 10 * o.Host.Bond
		}
		homes = append(homes, h)
	}
	for i, h := range homes {
		var peers []string
		for j, o := range homes {
			if i != j {
				peers = append(peers, fmt.Sprintf("%s@%s", o.nodeID, o.cfg.P2PAddr))
			}
		}
		h.cfg.PersistentPeers = strings.Join(peers, ",")
	}
	l := &Layout{ChainID: cfg.ChainID, APIKey: cfg.APIKey}
	for k, v := range cfg.Balances {
		balances[k] = v
	}
	if cfg.APIKey != "" {
		l.Requester = NewAccountKey()
		balances[Address(l.Requester)] += cfg.RequesterBalance
	}
	if _, err := writeGenesis(homes, GenesisOptions{ChainID: cfg.ChainID, Params: cfg.Params, Balances: balances, ValidatorBalance: cfg.ValidatorBalance}); err != nil {
		return nil, err
	}
	for _, h := range homes {
		if err := saveJSON(filepath.Join(h.dir, ConfigFile), h.cfg); err != nil {
			return nil, err
		}
		if cfg.APIKey != "" {
			if _, err := AddAPIKey(h.dir, cfg.APIKey, l.Requester); err != nil {
				return nil, err
			}
		}
		l.Homes = append(l.Homes, h.dir)
	}
	return l, nil
}

// Testnet is a set of running nodes.
type Testnet struct {
	Nodes []*Node
}

// StartTestnet starts a node in each home.
func StartTestnet(ctx context.Context, homes []string, o Options) (*Testnet, error) {
	t := &Testnet{}
	for _, h := range homes {
		n, err := Start(ctx, h, o)
		if err != nil {
			t.Stop()
			return nil, err
		}
		t.Nodes = append(t.Nodes, n)
	}
	return t, nil
}

// Stop stops every node (in parallel: each waits out dbGrace).
func (t *Testnet) Stop() {
	var wg sync.WaitGroup
	for _, n := range t.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Stop()
		}()
	}
	wg.Wait()
}

// InitSingle creates a one-validator node home in dir: the node validates
// alone, and its account (and its host's, if any) is funded with balance.
// A non-empty apiKey is configured on the gateway for a new account, also
// funded with balance; its address is returned.
func InitSingle(dir string, chainID string, o InitOptions, p ledger.Params, balance uint64, apiKey string) (string, error) {
	h, err := initHome(dir, o)
	if err != nil {
		return "", err
	}
	extra := map[string]uint64{}
	if h.hostAccount != "" {
		extra[h.hostAccount] = balance
	}
	var payer ed25519.PrivateKey
	if apiKey != "" {
		payer = NewAccountKey()
		extra[Address(payer)] = balance
	}
	if _, err := writeGenesis([]*home{h}, GenesisOptions{ChainID: chainID, Params: p, ValidatorBalance: balance, Balances: extra}); err != nil {
		return "", err
	}
	if err := saveJSON(filepath.Join(dir, ConfigFile), h.cfg); err != nil {
		return "", err
	}
	if apiKey == "" {
		return "", nil
	}
	return AddAPIKey(dir, apiKey, payer)
}

// WaitHeight blocks until n's committed height reaches h.
func (n *Node) WaitHeight(ctx context.Context, h int64) error {
	for {
		ch := n.App.Changed()
		if n.App.View().Height >= h {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("node %s at height %d, waiting for %d", n.Config.Moniker, n.App.View().Height, h), ctx.Err())
		}
	}
}
