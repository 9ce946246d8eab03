package sim

import (
	"context"
	"fmt"

	"github.com/jouleworks/joule/network/model"
)

// Calibration is the per-request outcome of real re-execution validation
// (model.Validate on the reference model), measured at the start of a run
// and used as the probability that a validated request of each kind fails.
type Calibration struct {
	Requests             int     `json:"requests_per_case"`
	HonestPassRate       float64 `json:"honest_pass_rate"`
	SubstitutionCatch    float64 `json:"substitution_catch_rate"`
	PrefillCatch         float64 `json:"prefill_catch_rate"`
	TokensPerRequest     int     `json:"tokens_per_request"`
	SubstituteModelWidth int     `json:"substitute_model_dim"`
}

// calibrate generates n requests of each kind with real backends and
// validates them against joule-ref-1.
func calibrate(ctx context.Context, n int, seed uint64) (Calibration, error) {
	honestB := model.MustReference(model.DefaultReference())
	cheapCfg := model.ReferenceConfig{Name: model.RefModel, Seed: "cheap", Dim: 16, Window: 4}
	cheapB := model.MustReference(cheapCfg)
	cal := Calibration{Requests: n, TokensPerRequest: 12, SubstituteModelWidth: cheapCfg.Dim}
	var pass, subCaught, preCaught int
	for i := range n {
		req := model.Request{
			Model:       model.RefModel,
			Messages:    []model.Message{{Role: "user", Content: fmt.Sprintf("request %d of run %d", i, seed)}},
			MaxTokens:   cal.TokensPerRequest,
			Temperature: 0.7,
			Seed:        seed*1_000_003 + uint64(i),
		}
		honest, err := model.Generate(ctx, honestB, req, nil)
		if err != nil {
			return cal, fmt.Errorf("calibrate honest request %d: %w", i, err)
		}
		v, err := model.Validate(ctx, honestB, req, honest, model.Exact)
		if err != nil {
			return cal, fmt.Errorf("calibrate honest request %d: %w", i, err)
		}
		if v.Valid {
			pass++
		}
		sub, err := model.Generate(ctx, cheapB, req, nil)
		if err != nil {
			return cal, fmt.Errorf("calibrate substituted request %d: %w", i, err)
		}
		if v, err = model.Validate(ctx, honestB, req, sub, model.Exact); err != nil {
			return cal, err
		} else if !v.Valid {
			subCaught++
		}
		// Pre-fill: canned text, honestly scored, so only the seeded choice
		// can expose it.
		pre, err := prefill(ctx, honestB, req, "ok, here is the answer you wanted.")
		if err != nil {
			return cal, err
		}
		if v, err = model.Validate(ctx, honestB, req, pre, model.Exact); err != nil {
			return cal, err
		} else if !v.Valid {
			preCaught++
		}
	}
	cal.HonestPassRate = float64(pass) / float64(n)
	cal.SubstitutionCatch = float64(subCaught) / float64(n)
	cal.PrefillCatch = float64(preCaught) / float64(n)
	return cal, nil
}

// prefill builds the completion a pre-filling host returns: canned bytes,
// each recorded with the real model's candidates and logprob.
func prefill(ctx context.Context, b model.Backend, req model.Request, canned string) (model.Completion, error) {
	c := model.Completion{Model: req.Model, FinishReason: model.FinishLength}
	var prefix []string
	for i := range req.MaxTokens {
		st, err := b.Next(ctx, req.Model, req.Messages, prefix, model.SampleK)
		if err != nil {
			return c, fmt.Errorf("prefill step %d: %w", i, err)
		}
		text := string(canned[i%len(canned)])
		tok := model.Token{Text: text, Top: st.Candidates, Logprob: st.Candidates[len(st.Candidates)-1].Logprob}
		for _, cand := range st.Candidates {
			if cand.Text == text {
				tok.Logprob = cand.Logprob
			}
		}
		c.Tokens = append(c.Tokens, tok)
		if i == 0 {
			c.PromptTokens = st.PromptTokens
		}
		prefix = append(prefix, text)
	}
	c.CompletionTokens = len(c.Tokens)
	return c, nil
}
