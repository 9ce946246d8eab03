package model

import (
	"context"
	"errors"
	"testing"
)

var ctx = context.Background()

func ref(t testing.TB) *Reference {
	t.Helper()
	r, err := NewReference(DefaultReference())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var chat = []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "What is a joule?"}}

func req(temp float64, seed uint64) Request {
	return Request{Model: RefModel, Messages: chat, MaxTokens: 40, Temperature: temp, Seed: seed, TopLogprobs: 5}
}

func TestReferenceDeterministic(t *testing.T) {
	a, err := Generate(ctx, ref(t), req(0.8, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(ctx, ref(t), req(0.8, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text() != b.Text() || len(a.Tokens) == 0 {
		t.Fatalf("two runs differ or are empty: %q vs %q", a.Text(), b.Text())
	}
	for i := range a.Tokens {
		for j := range a.Tokens[i].Top {
			if a.Tokens[i].Top[j] != b.Tokens[i].Top[j] {
				t.Fatalf("token %d candidate %d differs", i, j)
			}
		}
	}
	c, _ := Generate(ctx, ref(t), req(0.8, 8), nil)
	if c.Text() == a.Text() {
		t.Fatal("different seeds gave the same text")
	}
	// Logprobs are normalised: the SampleK candidates carry at most all
	// the probability mass, and are sorted.
	for i, tok := range a.Tokens {
		if len(tok.Top) != SampleK {
			t.Fatalf("token %d has %d candidates, want %d", i, len(tok.Top), SampleK)
		}
		mass := 0.0
		for j, c := range tok.Top {
			if c.Logprob > 0 || (j > 0 && c.Logprob > tok.Top[j-1].Logprob) {
				t.Fatalf("token %d: candidates not sorted non-positive logprobs: %v", i, tok.Top)
			}
			mass += expNats(c.Logprob.Nats())
		}
		if mass > 1.001 {
			t.Fatalf("token %d: candidate mass %.4f > 1", i, mass)
		}
	}
}

func expNats(x float64) float64 {
	// small series is enough for the bound check and keeps math out of the
	// assertion's spirit: exp(x) for x ≤ 0.
	r, term := 1.0, 1.0
	for n := 1; n < 60; n++ {
		term *= x / float64(n)
		r += term
	}
	return r
}

// TestReferenceGolden pins joule-ref-1's output: any change to its weights
// or arithmetic breaks validation between old and new nodes.
func TestReferenceGolden(t *testing.T) {
	c, err := Generate(ctx, ref(t), Request{Model: RefModel, Messages: []Message{{Role: "user", Content: "hi"}}, MaxTokens: 24, Temperature: 1, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = goldenRef
	if got := c.Text(); got != want {
		t.Fatalf("joule-ref-1 text = %q, want %q", got, want)
	}
}

func TestGreedyPicksMostLikely(t *testing.T) {
	c, err := Generate(ctx, ref(t), req(0, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range c.Tokens {
		if tok.Text != tok.Top[0].Text {
			t.Fatalf("greedy token %d = %q, most likely %q", i, tok.Text, tok.Top[0].Text)
		}
	}
}

// TestChooseMatchesDistribution: Gumbel-max over the fixed-point logprobs
// samples each candidate about as often as its probability.
func TestChooseMatchesDistribution(t *testing.T) {
	cands := []Candidate{{Text: "a", Logprob: -LPOne}, {Text: "b", Logprob: -2 * LPOne}, {Text: "c", Logprob: -2 * LPOne}}
	// p = 1/2, 1/4, 1/4 at temperature 1.
	counts := map[string]int{}
	const n = 20000
	for s := range uint64(n) {
		counts[cands[Choose(s, 3, 1000, cands)].Text]++
	}
	for text, want := range map[string]float64{"a": 0.5, "b": 0.25, "c": 0.25} {
		got := float64(counts[text]) / n
		if got < want-0.02 || got > want+0.02 {
			t.Fatalf("P(%s) = %.3f, want %.2f ± 0.02 (%v)", text, got, want, counts)
		}
	}
}

func TestRequestCheck(t *testing.T) {
	bad := []Request{
		{Messages: chat, MaxTokens: 1},
		{Model: RefModel, MaxTokens: 1},
		{Model: RefModel, Messages: chat, MaxTokens: 0},
		{Model: RefModel, Messages: chat, MaxTokens: 1, Temperature: 3},
		{Model: RefModel, Messages: chat, MaxTokens: 1, TopLogprobs: 21},
		{Model: RefModel, Messages: []Message{{Role: "robot"}}, MaxTokens: 1},
	}
	for i, r := range bad {
		if err := r.Check(); !errors.Is(err, ErrBadRequest) {
			t.Errorf("case %d: err = %v, want ErrBadRequest", i, err)
		}
	}
	if _, err := Generate(ctx, ref(t), Request{Model: "gpt-9", Messages: chat, MaxTokens: 1}, nil); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("unknown model: err = %v", err)
	}
}

func TestStreamingEmitsEveryToken(t *testing.T) {
	var got []string
	c, err := Generate(ctx, ref(t), req(0.5, 3), func(tok Token) error {
		got = append(got, tok.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(c.Tokens) {
		t.Fatalf("emitted %d tokens, completion has %d", len(got), len(c.Tokens))
	}
	stop := errors.New("client went away")
	if _, err := Generate(ctx, ref(t), req(0.5, 3), func(Token) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("emit error not returned: %v", err)
	}
}
