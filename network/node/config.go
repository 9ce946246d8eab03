package node

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
)

// Files in a node's home directory.
const (
	ConfigFile     = "joule.json"       // this package's Config
	AccountKeyFile = "account_key.json" // the node operator's ledger account
	keysDir        = "keys"             // API-key account keys
)

// Config is a node's settings, kept in <home>/joule.json. CometBFT's own
// config is derived from it at start, so there is one file to edit.
type Config struct {
	Moniker string `json:"moniker"`
	// P2PAddr and RPCAddr are host:port for CometBFT's peer-to-peer and
	// RPC listeners; RPCAddr "" disables RPC.
	P2PAddr string `json:"p2p_addr"`
	RPCAddr string `json:"rpc_addr"`
	// HTTPAddr serves the OpenAI gateway and, on hosts, the host protocol.
	HTTPAddr string `json:"http_addr"`
	// PersistentPeers is CometBFT's id@host:port list.
	PersistentPeers string `json:"persistent_peers"`
	// TimeoutCommitMS is the pause after each block; the block time.
	TimeoutCommitMS  int `json:"timeout_commit_ms"`
	TimeoutProposeMS int `json:"timeout_propose_ms"`
	// APIKeys maps gateway API keys to account key files under keys/.
	APIKeys map[string]string `json:"api_keys"`
	// Host, when set, makes this node a compute host too.
	Host *HostSettings `json:"host,omitempty"`
}

// HostSettings configure the compute host a node runs.
type HostSettings struct {
	Models []string `json:"models"`
	// Nonces caps the nonces per proof sprint (the host stops earlier, 3
	// blocks before the sprint ends); Workers goroutines compute them.
	Nonces  uint64 `json:"nonces"`
	Workers int    `json:"workers"`
	Bond    uint64 `json:"bond"`
	// Endpoint is the public base URL of HTTPAddr, as validators and
	// gateways reach it.
	Endpoint string `json:"endpoint"`
	// BackendURL is an OpenAI-compatible server with logprobs; empty uses
	// the built-in reference model.
	BackendURL string `json:"backend_url,omitempty"`
	// KeyFile is the host account's key, relative to the home; empty uses
	// the node's account. A separate key lets the node's own validator
	// check its host (nobody is assigned to check themselves).
	KeyFile string `json:"key_file,omitempty"`
}

func (c *Config) validate(path string) error {
	for _, f := range []struct{ name, v string }{{"p2p_addr", c.P2PAddr}, {"http_addr", c.HTTPAddr}} {
		if _, _, err := net.SplitHostPort(f.v); err != nil {
			return fmt.Errorf("%s: field %s %q: %w", path, f.name, f.v, err)
		}
	}
	if c.TimeoutCommitMS <= 0 {
		return fmt.Errorf("%s: field timeout_commit_ms must be positive", path)
	}
	if h := c.Host; h != nil {
		if len(h.Models) == 0 || h.Nonces == 0 || h.Endpoint == "" {
			return fmt.Errorf("%s: field host: models, nonces and endpoint are required", path)
		}
	}
	return nil
}

// LoadConfig reads <home>/joule.json.
func LoadConfig(home string) (*Config, error) {
	path := filepath.Join(home, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node config: %w (run 'joule net init' first)", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("node config %s: %w", path, err)
	}
	return &c, c.validate(path)
}

func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// cometConfig derives CometBFT's configuration for home from c.
func (c *Config) cometConfig(home string) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(home)
	cfg.Moniker = c.Moniker
	cfg.P2P.ListenAddress = "tcp://" + c.P2PAddr
	cfg.P2P.PersistentPeers = c.PersistentPeers
	// Loopback testnets share one IP; allow it and skip address checks.
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.P2P.PexReactor = false
	cfg.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	if c.RPCAddr != "" {
		cfg.RPC.ListenAddress = "tcp://" + c.RPCAddr
	} else {
		cfg.RPC.ListenAddress = ""
	}
	cfg.Instrumentation.Prometheus = false
	cfg.TxIndex.Indexer = "null"
	cfg.Consensus.TimeoutCommit = time.Duration(c.TimeoutCommitMS) * time.Millisecond
	propose := time.Duration(max(c.TimeoutProposeMS, 3*c.TimeoutCommitMS)) * time.Millisecond
	cfg.Consensus.TimeoutPropose = propose
	cfg.Consensus.TimeoutProposeDelta = propose / 6
	cfg.Consensus.TimeoutPrevote = propose / 3
	cfg.Consensus.TimeoutPrevoteDelta = propose / 6
	cfg.Consensus.TimeoutPrecommit = propose / 3
	cfg.Consensus.TimeoutPrecommitDelta = propose / 6
	cfg.Consensus.PeerGossipSleepDuration = 20 * time.Millisecond
	cfg.Consensus.PeerQueryMaj23SleepDuration = queryMaj23Sleep
	return cfg
}

// GenesisOptions describe a new chain.
type GenesisOptions struct {
	ChainID string
	Params  ledger.Params
	// Models priced on the chain; default joule-ref-1 at 1 unit per token.
	Models map[string]ledger.Model
	// Balances of extra accounts (hex address → amount).
	Balances map[string]uint64
	// ValidatorBalance funds each validator's account.
	ValidatorBalance uint64
}

// InitOptions describe one node home to create.
type InitOptions struct {
	Moniker  string
	P2PAddr  string
	RPCAddr  string
	HTTPAddr string
	// BlockTime is CometBFT's timeout_commit.
	BlockTime time.Duration
	Host      *HostSettings
}

// home is what Init creates in one directory before the genesis is known.
type home struct {
	dir     string
	cfg     *Config
	nodeID  p2p.ID
	val     types.GenesisValidator
	account string
	// hostAccount is the host key's address when the home runs a host.
	hostAccount string
}

// initHome creates keys and joule.json in dir (genesis comes later).
func initHome(dir string, o InitOptions) (*home, error) {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		return nil, fmt.Errorf("init %s: already initialised (remove the directory to start over)", dir)
	}
	c := &Config{
		Moniker: o.Moniker, P2PAddr: o.P2PAddr, RPCAddr: o.RPCAddr, HTTPAddr: o.HTTPAddr,
		TimeoutCommitMS: int(max(o.BlockTime, 10*time.Millisecond) / time.Millisecond),
		APIKeys:         map[string]string{}, Host: o.Host,
	}
	if c.Moniker == "" {
		c.Moniker = filepath.Base(dir)
	}
	cc := c.cometConfig(dir)
	for _, d := range []string{filepath.Join(dir, "config"), filepath.Join(dir, "data"), filepath.Join(dir, keysDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("init %s: %w", dir, err)
		}
	}
	nk, err := p2p.LoadOrGenNodeKey(cc.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("init %s: node key: %w", dir, err)
	}
	pv := privval.LoadOrGenFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	pub, err := pv.GetPubKey()
	if err != nil {
		return nil, fmt.Errorf("init %s: validator key: %w", dir, err)
	}
	acct, err := loadOrCreateKey(filepath.Join(dir, AccountKeyFile))
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	h := &home{
		dir: dir, cfg: c, nodeID: nk.ID(), account: Address(acct),
		val: types.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: c.Moniker},
	}
	if c.Host != nil {
		c.Host.KeyFile = "host_key.json"
		hk, err := loadOrCreateKey(filepath.Join(dir, c.Host.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("init %s: %w", dir, err)
		}
		h.hostAccount = Address(hk)
	}
	return h, nil
}

// writeGenesis writes one genesis for homes, all of which validate.
func writeGenesis(homes []*home, g GenesisOptions) (*types.GenesisDoc, error) {
	if g.ChainID == "" {
		g.ChainID = "joule-local"
	}
	if g.Models == nil {
		g.Models = map[string]ledger.Model{model.RefModel: {PricePerToken: 1}}
	}
	lg := ledger.Genesis{Params: g.Params, Models: g.Models, Balances: map[string]uint64{}}
	for k, v := range g.Balances {
		lg.Balances[k] = v
	}
	doc := &types.GenesisDoc{
		GenesisTime:     time.Now().UTC().Truncate(time.Second),
		ChainID:         g.ChainID,
		InitialHeight:   1,
		ConsensusParams: types.DefaultConsensusParams(),
	}
	for _, h := range homes {
		doc.Validators = append(doc.Validators, h.val)
		lg.Validators = append(lg.Validators, h.account)
		lg.Balances[h.account] += g.ValidatorBalance
	}
	if err := lg.Validate(); err != nil {
		return nil, err
	}
	app, err := json.Marshal(lg)
	if err != nil {
		return nil, err
	}
	doc.AppState = app
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	for _, h := range homes {
		if err := doc.SaveAs(filepath.Join(h.dir, "config", "genesis.json")); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}
	return doc, nil
}

// AddAPIKey creates an account key for a new API key in home and records
// it in joule.json. It returns the account's address.
func AddAPIKey(homeDir, apiKey string, key ed25519.PrivateKey) (string, error) {
	c, err := LoadConfig(homeDir)
	if err != nil {
		return "", err
	}
	if _, dup := c.APIKeys[apiKey]; dup {
		return "", errors.New("api key already configured")
	}
	name := "apikey-" + strconv.Itoa(len(c.APIKeys)+1) + ".json"
	k := NewAccountKey()
	if key != nil {
		k = key
	}
	if err := SaveKey(filepath.Join(homeDir, keysDir, name), k); err != nil {
		return "", err
	}
	if c.APIKeys == nil {
		c.APIKeys = map[string]string{}
	}
	c.APIKeys[apiKey] = name
	return Address(k), saveJSON(filepath.Join(homeDir, ConfigFile), c)
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
