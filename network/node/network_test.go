package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/proof"
)

// testParams are small enough that a sprint of 256 nonces takes well under
// a second, with epochs of 30 blocks of about 150 ms.
func testParams() ledger.Params {
	p := ledger.DefaultParams()
	p.EpochBlocks, p.SprintBlocks, p.ValidationBlocks = 30, 10, 10
	p.SamplesPerValidator = 32
	p.MinBond = 1_000
	p.EscrowTimeoutBlocks = 40
	p.Proof = proof.Params{Layers: 2, Dim: 16, Heads: 2, Seq: 4, FFN: 32,
		ShiftQKV: 7, ShiftAttn: 7, ShiftOut: 7, ShiftUp: 7, ShiftDown: 8}
	return p
}

func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("JOULE_NET_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startTestnet initialises and starts a testnet in a fresh directory,
// retrying with new ports if one of the free ports it picked was taken by
// another process before CometBFT bound it.
func startTestnet(t testing.TB, ctx context.Context, cfg TestnetConfig, o Options) (*Layout, *Testnet) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		cfg.Dir = t.TempDir()
		layout, err := InitTestnet(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tn, err := StartTestnet(ctx, layout.Homes, o)
		if err == nil {
			return layout, tn
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("port taken, retrying: %v", err)
	}
}

// startHost runs a host agent on chain with its own loopback HTTP server.
func startHost(t *testing.T, ctx context.Context, chain *Chain, cfg HostConfig) *Host {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Endpoint = "http://" + ln.Addr().String()
	h := NewHost(chain, cfg, testLog(t))
	mux := http.NewServeMux()
	h.Register(mux)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	go h.Run(ctx)
	return h
}

// waitFor waits, block by block, until cond holds on n's committed state.
func waitFor(ctx context.Context, n *Node, what string, cond func(*ledger.State) bool) error {
	for {
		ch := n.App.Changed()
		if cond(n.App.View()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return errors.New("timed out waiting for " + what)
		}
	}
}

// TestNetwork is the network's done-means test: four validators in one
// process on loopback, an honest host earning weight, a host faking 10 % of
// its nonces slashed, chat completions through the gateway with the
// official OpenAI client (plain and streamed) paid from escrow and
// validated, and the chain surviving the loss of one validator.
func TestNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four CometBFT nodes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	honestKey, cheatKey := NewAccountKey(), NewAccountKey()
	const apiKey = "sk-joule-test"
	layout, net := startTestnet(t, ctx, TestnetConfig{
		Validators: 4, BlockTime: 100 * time.Millisecond, Params: testParams(),
		Balances:         map[string]uint64{Address(honestKey): 1_000_000, Address(cheatKey): 1_000_000},
		ValidatorBalance: 1_000, APIKey: apiKey, RequesterBalance: 5_000_000,
	}, Options{Log: testLog(t), LazyValidator: func(moniker string) bool { return moniker == "node3" }})
	defer net.Stop()
	n0 := net.Nodes[0]

	if err := n0.WaitHeight(ctx, 3); err != nil {
		t.Fatalf("blocks do not advance: %v", err)
	}

	ref := model.MustReference(model.DefaultReference())
	honest := startHost(t, ctx, net.Nodes[0].Chain, HostConfig{Key: honestKey, Models: []string{model.RefModel}, Backend: ref, Nonces: 256, Workers: 1, Bond: 100_000})
	cheat := startHost(t, ctx, net.Nodes[1].Chain, HostConfig{Key: cheatKey, Models: []string{model.RefModel}, Backend: ref, Nonces: 256, Workers: 1, Bond: 100_000,
		Tamper: func(nonce uint64, d proof.Digest) proof.Digest {
			if nonce%10 == 3 { // 10 % of nonces never computed: a made-up digest
				d[0] ^= 0xff
			}
			return d
		}})

	err := waitFor(ctx, n0, "honest host verified and cheater slashed", func(s *ledger.State) bool {
		h, c := s.Hosts[honest.Address()], s.Hosts[cheat.Address()]
		return h != nil && h.Weight > 0 && c != nil && c.Excluded
	})
	st := n0.App.View()
	if err != nil {
		t.Fatalf("%v; hosts = %+v", err, st.Hosts)
	}
	h, c := st.Hosts[honest.Address()], st.Hosts[cheat.Address()]
	if h.Weight != 256 || h.Excluded || h.Earned == 0 {
		t.Errorf("honest host: weight %d excluded %v earned %d, want weight 256, not excluded, earned > 0", h.Weight, h.Excluded, h.Earned)
	}
	if c.Slashed == 0 || c.Weight != 0 || !strings.Contains(c.Reason, "proof of compute failed") {
		t.Errorf("cheater: slashed %d weight %d reason %q, want slashed > 0, weight 0", c.Slashed, c.Weight, c.Reason)
	}
	t.Logf("height %d: honest weight %d earned %d; cheater slashed %d (%s)", st.Height, h.Weight, h.Earned, c.Slashed, c.Reason)

	// node3's validator votes without recomputing: its guessed digests do
	// not hash into the committed roots, so the chain exposes it, slashes
	// its balance and pays it nothing, while the three honest validators
	// earn the validation share of the mint.
	lazy := Address(net.Nodes[3].Account)
	if err := waitFor(ctx, n0, "lazy validator exposed", func(s *ledger.State) bool {
		r := s.Duty[lazy]
		return r != nil && r.BadVotes > 0
	}); err != nil {
		t.Fatalf("%v; duty = %+v", err, n0.App.View().Duty)
	}
	st = n0.App.View()
	if r := st.Duty[lazy]; r.Slashed == 0 || r.Earned != 0 || !strings.Contains(r.Reason, "does not hash into the committed root") {
		t.Errorf("lazy validator record %+v, want slashed, nothing earned, a wrong-digest reason", r)
	}
	var honestEarned uint64
	for _, n := range net.Nodes[:3] {
		r := st.Duty[Address(n.Account)]
		if r != nil && r.BadVotes != 0 {
			t.Errorf("honest validator %s has bad votes: %+v", n.Config.Moniker, r)
		}
		if r != nil {
			honestEarned += r.Earned
		}
	}
	if honestEarned == 0 {
		t.Errorf("honest validators earned no validation reward; duty = %+v", st.Duty)
	}
	t.Logf("lazy validator: %d bad votes, slashed %d; honest validators earned %d", st.Duty[lazy].BadVotes, st.Duty[lazy].Slashed, honestEarned)
	gw := net.Nodes[2]
	if err := gw.WaitHeight(ctx, st.Height); err != nil {
		t.Fatal(err)
	}

	// Chat completions through node 2's gateway with the official client.
	client := openai.NewClient(option.WithBaseURL(gw.HTTPURL+"/v1/"), option.WithAPIKey(apiKey), option.WithMaxRetries(0))
	reqAddr := Address(layout.Requester)
	before := n0.App.View().Accounts[reqAddr].Balance
	comp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:     model.RefModel,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello, Joule!")},
		MaxTokens: openai.Int(12),
	})
	if err != nil {
		t.Fatalf("chat completion: %v", err)
	}
	if len(comp.Choices) != 1 || comp.Choices[0].Message.Content == "" || comp.Usage.CompletionTokens == 0 {
		t.Fatalf("completion = %+v, want one non-empty choice with usage", comp)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         model.RefModel,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Stream, please.")},
		MaxTokens:     openai.Int(10),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if chunks < 3 || len(acc.Choices) != 1 || acc.Choices[0].Message.Content == "" || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("stream: %d chunks, accumulated %+v", chunks, acc.ChatCompletion)
	}

	// The raw stream is OpenAI's SSE framing, ending with [DONE].
	raw := `{"model":"joule-ref-1","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"raw"}]}`
	req, _ := http.NewRequestWithContext(ctx, "POST", gw.HTTPURL+"/v1/chat/completions", strings.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sse, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || !strings.HasPrefix(string(sse), "data: {") || !strings.HasSuffix(string(sse), "\n\ndata: [DONE]\n\n") || !strings.Contains(string(sse), `"object":"chat.completion.chunk"`) {
		t.Fatalf("raw stream (%s):\n%s", ct, sse)
	}

	for _, id := range []string{comp.ID, acc.ID} {
		escrow := strings.TrimPrefix(id, "chatcmpl-")
		err := waitFor(ctx, n0, "escrow "+escrow+" validated", func(s *ledger.State) bool {
			e := s.Escrows[escrow]
			return e != nil && e.State == ledger.EscrowValidated
		})
		if err != nil {
			t.Fatalf("%v: %+v", err, n0.App.View().Escrows[escrow])
		}
	}
	err = waitFor(ctx, n0, "all escrows closed", func(s *ledger.State) bool {
		for _, e := range s.Escrows {
			if e.State == ledger.EscrowOpen || e.State == ledger.EscrowSettled {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	st = n0.App.View()
	var fees uint64
	for _, e := range st.Escrows {
		if e.Requester == reqAddr {
			fees += e.Fee
		}
	}
	e1 := st.Escrows[strings.TrimPrefix(comp.ID, "chatcmpl-")]
	if got := before - st.Accounts[reqAddr].Balance; got != fees || len(st.Escrows) != 3 {
		t.Errorf("requester paid %d over %d escrows, want the sum of their fees %d over 3", got, len(st.Escrows), fees)
	}
	if len(e1.Validators) != 1 || !e1.Votes[e1.Validators[0]] {
		t.Errorf("escrow 1 validators %v votes %v: want one, voting ok", e1.Validators, e1.Votes)
	}
	if e1.CompletionTokens != uint64(comp.Usage.CompletionTokens) || e1.Fee != e1.PromptTokens+e1.CompletionTokens {
		t.Errorf("escrow 1 settled %d+%d tokens for fee %d; client saw %d completion tokens", e1.PromptTokens, e1.CompletionTokens, e1.Fee, comp.Usage.CompletionTokens)
	}

	// Lose one validator: the other three (75 % of power) keep committing.
	net.Nodes[3].Stop()
	from := n0.App.View().Height
	if err := n0.WaitHeight(ctx, from+5); err != nil {
		t.Fatalf("chain halted after stopping one of four validators: %v", err)
	}
}

// TestRestart stops a one-validator node and starts it again on the same
// home: CometBFT's handshake finds the ledger at its persisted height and
// the chain continues from there.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts CometBFT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	layout, tn := startTestnet(t, ctx, TestnetConfig{Validators: 1, BlockTime: 30 * time.Millisecond, Params: testParams(), ValidatorBalance: 1}, Options{})
	n := tn.Nodes[0]
	if err := n.WaitHeight(ctx, 5); err != nil {
		t.Fatal(err)
	}
	n.Stop()
	stopped := n.App.View()
	n, err := Start(ctx, layout.Homes[0], Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer n.Stop()
	if got := n.App.View().Height; got < stopped.Height {
		t.Fatalf("restarted ledger at height %d, was committed at %d", got, stopped.Height)
	}
	if err := n.WaitHeight(ctx, stopped.Height+3); err != nil {
		t.Fatalf("chain does not continue after restart: %v", err)
	}
}
