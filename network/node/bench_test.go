package node

import (
	"context"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
)

// BenchmarkGatewayOverhead measures a chat completion through the gateway
// of a one-validator network (block time 20 ms) against the same
// generation run directly on the reference model. The difference
// (overhead-ns/op) is the escrow transaction's commit wait, routing, the
// host hop and OpenAI encoding.
func BenchmarkGatewayOverhead(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const apiKey = "sk-bench"
	_, tn := startTestnet(b, ctx, TestnetConfig{
		Validators: 1, BlockTime: 20 * time.Millisecond, Params: testParams(),
		ValidatorBalance: 1_000, APIKey: apiKey, RequesterBalance: 1 << 40, HostNonces: 128,
	}, Options{})
	defer tn.Stop()
	n := tn.Nodes[0]
	if err := waitFor(ctx, n, "host weight", func(s *ledger.State) bool {
		addrs, _ := s.ActiveHosts(model.RefModel)
		return len(addrs) > 0
	}); err != nil {
		b.Fatal(err)
	}
	client := openai.NewClient(option.WithBaseURL(n.HTTPURL+"/v1/"), option.WithAPIKey(apiKey), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:     model.RefModel,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Benchmark the gateway.")},
		MaxTokens: openai.Int(16),
	}
	ref := model.MustReference(model.DefaultReference())
	direct := model.Request{Model: model.RefModel, Messages: []model.Message{{Role: "user", Content: "Benchmark the gateway."}}, MaxTokens: 16, Temperature: 1, Seed: 1}
	var gw, be time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := client.Chat.Completions.New(ctx, params); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := model.Generate(ctx, ref, direct, nil); err != nil {
			b.Fatal(err)
		}
		gw += t1.Sub(t0)
		be += time.Since(t1)
	}
	b.ReportMetric(float64(gw.Nanoseconds())/float64(b.N), "gateway-ns/op")
	b.ReportMetric(float64(be.Nanoseconds())/float64(b.N), "backend-ns/op")
	b.ReportMetric(float64((gw-be).Nanoseconds())/float64(b.N), "overhead-ns/op")
}
