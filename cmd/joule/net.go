package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/node"
)

const netUsage = `usage: joule net <command> [flags]

commands:
  init      create a one-validator node home (keys, genesis, joule.json)
  start     run the node in a home until interrupted
  testnet   run a local N-validator network on loopback ports
  sim       simulate hundreds of hosts, honest and cheating (see 'joule net sim -h')`

// runNet routes 'joule net' subcommands.
func runNet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, netUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: net: no subcommand", errUsage)
		}
		return nil
	}
	switch args[0] {
	case "init":
		return runNetInit(ctx, args[1:], stdout, stderr)
	case "start":
		return runNetStart(ctx, args[1:], stdout, stderr)
	case "testnet":
		return runNetTestnet(ctx, args[1:], stdout, stderr)
	case "sim":
		return runNetSim(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, netUsage)
	return fmt.Errorf("%w: net: unknown subcommand %q", errUsage, args[0])
}

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".joule", "node")
	}
	return ".joule-node"
}

func runNetInit(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("net init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", defaultHome(), "node home directory to create")
	chainID := fs.String("chain-id", "joule-local", "chain id")
	p2p := fs.String("p2p", "127.0.0.1:26656", "CometBFT peer-to-peer listen address")
	rpc := fs.String("rpc", "127.0.0.1:26657", "CometBFT RPC listen address (empty disables)")
	httpAddr := fs.String("http", "127.0.0.1:8080", "gateway and host protocol listen address")
	blockTime := fs.Duration("block-time", time.Second, "block time (CometBFT timeout_commit)")
	host := fs.Bool("host", false, "also run a compute host serving the reference model")
	nonces := fs.Uint64("nonces", 4096, "host: most proof nonces per sprint (it commits what it has 3 blocks before the sprint ends)")
	apiKey := fs.String("api-key", "", "gateway API key to create, paid by a new account funded in genesis")
	balance := fs.Uint64("balance", 1_000_000_000, "genesis balance of the node's (and host's, API key's) accounts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := node.InitOptions{P2PAddr: *p2p, RPCAddr: *rpc, HTTPAddr: *httpAddr, BlockTime: *blockTime}
	p := ledger.DefaultParams()
	if *host {
		o.Host = &node.HostSettings{Models: []string{model.RefModel}, Nonces: *nonces, Bond: p.MinBond, Endpoint: "http://" + *httpAddr}
	}
	payer, err := node.InitSingle(*home, *chainID, o, p, *balance, *apiKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "initialised %s (chain %s)\n", *home, *chainID)
	if payer != "" {
		fmt.Fprintf(stdout, "api key %s pays from account %s (balance %d)\n", *apiKey, payer, *balance)
	}
	return nil
}

func runNetStart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("net start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", defaultHome(), "node home directory")
	verbose := fs.Bool("v", false, "log node and CometBFT activity to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var o node.Options
	if *verbose {
		o.Log = slog.New(slog.NewTextHandler(stderr, nil))
		o.CometLog = o.Log
	}
	n, err := node.Start(ctx, *home, o)
	if err != nil {
		return err
	}
	defer n.Stop()
	fmt.Fprintf(stdout, "node %s running: gateway %s/v1, account %s\n", n.Config.Moniker, n.HTTPURL, node.Address(n.Account))
	return followHeight(ctx, stdout, n)
}

func runNetTestnet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("net testnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	validators := fs.Int("validators", 4, "number of validator nodes")
	dir := fs.String("dir", "", "directory for the node homes (default: a temporary one, removed on exit)")
	blockTime := fs.Duration("block-time", 500*time.Millisecond, "block time")
	nonces := fs.Uint64("host-nonces", 1024, "node0 runs a reference-model host computing up to this many nonces per sprint (0: no host)")
	apiKey := fs.String("api-key", "sk-joule-local", "gateway API key configured on every node")
	blocks := fs.Int64("blocks", 0, "stop after this height (0: run until interrupted)")
	verbose := fs.Bool("v", false, "log node and CometBFT activity to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *validators < 1 || *validators > 64 {
		return fmt.Errorf("%w: net testnet: --validators %d, want 1..64", errUsage, *validators)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "joule-testnet-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	layout, err := node.InitTestnet(node.TestnetConfig{
		Dir: *dir, Validators: *validators, BlockTime: *blockTime, Params: ledger.DefaultParams(),
		ValidatorBalance: 1_000_000_000, APIKey: *apiKey, RequesterBalance: 1_000_000_000,
		HostNonces: *nonces,
	})
	if err != nil {
		return err
	}
	var o node.Options
	if *verbose {
		o.Log = slog.New(slog.NewTextHandler(stderr, nil))
		o.CometLog = o.Log
	}
	tn, err := node.StartTestnet(ctx, layout.Homes, o)
	if err != nil {
		return err
	}
	defer tn.Stop()
	fmt.Fprintf(stdout, "testnet %s: %d validators in %s\n", layout.ChainID, len(tn.Nodes), *dir)
	for _, n := range tn.Nodes {
		fmt.Fprintf(stdout, "  %s  gateway %s/v1  rpc %s\n", n.Config.Moniker, n.HTTPURL, n.Config.RPCAddr)
	}
	fmt.Fprintf(stdout, "API key %s (account %s)\n", *apiKey, node.Address(layout.Requester))
	if *blocks > 0 {
		if err := tn.Nodes[0].WaitHeight(ctx, *blocks); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reached height %d\n", tn.Nodes[0].App.View().Height)
		return nil
	}
	return followHeight(ctx, stdout, tn.Nodes[0]) // every node commits the same state
}

// followHeight prints a line per epoch phase change, and each tallied
// epoch's report, as node n commits them, until ctx ends.
func followHeight(ctx context.Context, stdout io.Writer, n *node.Node) error {
	var last ledger.Phase
	reports := len(n.App.View().Reports)
	for {
		ch := n.App.Changed()
		st := n.App.View()
		if st.Height > 0 {
			e, phase, _ := st.Params.EpochAt(st.Height)
			if phase != last {
				last = phase
				active := 0
				for _, h := range st.Hosts {
					if h.Weight > 0 && !h.Excluded {
						active++
					}
				}
				fmt.Fprintf(stdout, "height %d: epoch %d %s, %d hosts, %d with weight\n", st.Height, e, phase, len(st.Hosts), active)
			}
			for _, r := range st.Reports[min(reports, len(st.Reports)):] {
				fmt.Fprintf(stdout, "epoch %d tallied: %d verified, %d convicted, %d withheld; votes %d bad, %d missed; minted %d, to hosts %d, to validators %d, burned %d, to pool %d; compute share %s\n",
					r.Epoch, r.Verified, r.Convicted, r.Withheld, r.BadVotes, r.MissedVotes, r.Minted, r.ToHosts, r.ToValidators, r.Burned, r.ToPool, percent(r.ToHosts, r.ToHosts+r.ToValidators))
			}
			reports = len(st.Reports)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return ctx.Err()
		}
	}
}

// percent formats a/b with one decimal, from integers.
func percent(a, b uint64) string {
	if b == 0 {
		return "n/a"
	}
	permille := a * 1000 / b
	return fmt.Sprintf("%d.%d %%", permille/10, permille%10)
}
