package node

import (
	"context"
	"errors"
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
	layout, err := InitTestnet(TestnetConfig{
		Dir: t.TempDir(), Validators: 4, BlockTime: 100 * time.Millisecond, Params: testParams(),
		Balances:         map[string]uint64{Address(honestKey): 1_000_000, Address(cheatKey): 1_000_000},
		ValidatorBalance: 1_000, APIKey: apiKey, RequesterBalance: 5_000_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	net, err := StartTestnet(ctx, layout.Homes, Options{Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
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

	err = waitFor(ctx, n0, "honest host verified and cheater slashed", func(s *ledger.State) bool {
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
	st = n0.App.View()
	e1, e2 := st.Escrows[strings.TrimPrefix(comp.ID, "chatcmpl-")], st.Escrows[strings.TrimPrefix(acc.ID, "chatcmpl-")]
	if got, want := before-st.Accounts[reqAddr].Balance, e1.Fee+e2.Fee; got != want {
		t.Errorf("requester paid %d, want the two fees %d + %d", got, e1.Fee, e2.Fee)
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
