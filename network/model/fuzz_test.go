package model

import (
	"encoding/json"
	"testing"
)

// FuzzValidate feeds arbitrary executor completions (as the JSON a host
// sends back) to Validate: it must return a verdict, never panic, and never
// accept anything but the honest completion's tokens.
func FuzzValidate(f *testing.F) {
	r := ref(f)
	q := req(0.9, 2)
	q.MaxTokens = 4
	honest, err := Generate(ctx, r, q, nil)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(honest)
	f.Add(good)
	f.Add([]byte(`{"model":"joule-ref-1","tokens":[{"text":"a","lp":0,"top":[]}],"finish_reason":"stop","completion_tokens":1}`))
	f.Add([]byte(`{"model":"joule-ref-1","finish_reason":"stop"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Completion
		if json.Unmarshal(b, &c) != nil {
			return
		}
		v, err := Validate(ctx, r, q, c, Exact)
		if err != nil {
			t.Fatalf("validate returned an error for executor input: %v", err)
		}
		if v.Valid && c.Text() != honest.Text() {
			t.Fatalf("accepted %q, honest text is %q", c.Text(), honest.Text())
		}
	})
}
