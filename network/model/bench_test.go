package model

import (
	"testing"
)

// BenchmarkGenerate measures serving with the reference model, per token.
func BenchmarkGenerate(b *testing.B) {
	r := ref(b)
	q := req(0.8, 1)
	q.MaxTokens = 32
	var tokens int
	for b.Loop() {
		c, err := Generate(ctx, r, q, nil)
		if err != nil {
			b.Fatal(err)
		}
		tokens += len(c.Tokens)
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkValidate measures re-execution of a 32-token completion.
func BenchmarkValidate(b *testing.B) {
	r := ref(b)
	q := req(0.8, 1)
	q.MaxTokens = 32
	c, err := Generate(ctx, r, q, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		v, err := Validate(ctx, r, q, c, Exact)
		if err != nil || !v.Valid {
			b.Fatalf("%+v %v", v, err)
		}
	}
	b.ReportMetric(float64(len(c.Tokens)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
