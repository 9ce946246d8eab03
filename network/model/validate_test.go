package model

import (
	"testing"
)

// cheap is a smaller model a dishonest host might serve under the
// reference model's name.
func cheap(t testing.TB) *Reference {
	r, err := NewReference(ReferenceConfig{Name: RefModel, Seed: "cheap", Dim: 16, Window: 4})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValidateHonest(t *testing.T) {
	for _, temp := range []float64{0, 0.7, 1.3} {
		r := req(temp, 11)
		c, err := Generate(ctx, ref(t), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Validate(ctx, ref(t), r, c, Exact)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Valid || v.MaxDelta != 0 {
			t.Fatalf("T=%v: honest completion rejected: %+v", temp, v)
		}
	}
}

// validationCases are the cheats Validate must catch, each a way to turn an
// honest completion (or request) into a dishonest one.
var validationCases = []struct {
	name   string
	cheat  func(t *testing.T, r Request, honest Completion) Completion
	reason string
}{
	{"cheap model substituted", func(t *testing.T, r Request, _ Completion) Completion {
		c, err := Generate(ctx, cheap(t), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}, ReasonLogprobs},
	{"pre-filled text with true logprobs", func(t *testing.T, r Request, honest Completion) Completion {
		// The host emits canned text but scores it with the real model, so
		// the logprobs match; the seeded choice does not.
		canned := "the answer is forty two and that is that."
		c := Completion{Model: r.Model, FinishReason: FinishLength}
		var prefix []string
		for i := range r.MaxTokens {
			st, err := ref(t).Next(ctx, r.Model, r.Messages, prefix, SampleK)
			if err != nil {
				t.Fatal(err)
			}
			text := string(canned[i%len(canned)])
			tok := Token{Text: text, Top: st.Candidates}
			for _, cand := range st.Candidates {
				if cand.Text == text {
					tok.Logprob = cand.Logprob
				}
			}
			c.Tokens = append(c.Tokens, tok)
			c.PromptTokens = st.PromptTokens
			prefix = append(prefix, text)
		}
		c.CompletionTokens = len(c.Tokens)
		return c
	}, ReasonChoice},
	{"one logprob nudged", func(t *testing.T, r Request, honest Completion) Completion {
		honest.Tokens[3].Top[2].Logprob++
		return honest
	}, ReasonLogprobs},
	{"truncated but says length", func(t *testing.T, r Request, honest Completion) Completion {
		honest.Tokens = honest.Tokens[:5]
		honest.CompletionTokens = 5
		honest.FinishReason = FinishLength
		return honest
	}, ReasonFinish},
	{"stopped early", func(t *testing.T, r Request, honest Completion) Completion {
		honest.Tokens = honest.Tokens[:5]
		honest.CompletionTokens = 5
		honest.FinishReason = FinishStop
		return honest
	}, ReasonChoice},
	{"prompt tokens inflated", func(t *testing.T, r Request, honest Completion) Completion {
		honest.PromptTokens += 100
		return honest
	}, ReasonShape},
	{"other model claimed", func(t *testing.T, r Request, honest Completion) Completion {
		honest.Model = "joule-ref-0"
		return honest
	}, ReasonModel},
}

func TestValidateCatchesCheats(t *testing.T) {
	r := req(0.9, 5)
	r.MaxTokens = 30
	for _, c := range validationCases {
		t.Run(c.name, func(t *testing.T) {
			honest, err := Generate(ctx, ref(t), r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(honest.Tokens) < 10 {
				t.Fatalf("honest completion too short for the case: %d tokens", len(honest.Tokens))
			}
			v, err := Validate(ctx, ref(t), r, c.cheat(t, r, honest), Exact)
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid || v.Reason != c.reason {
				t.Fatalf("verdict %+v, want invalid with reason %q", v, c.reason)
			}
		})
	}
}

func TestSubstitutionCaughtOften(t *testing.T) {
	// Over many seeds the cheap model is caught every time: its logprobs
	// differ at the very first step.
	for seed := range uint64(20) {
		r := req(0.7, seed)
		r.MaxTokens = 8
		c, err := Generate(ctx, cheap(t), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Validate(ctx, ref(t), r, c, Exact)
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			t.Fatalf("seed %d: substitution passed", seed)
		}
	}
}
