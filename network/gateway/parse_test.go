package gateway

import (
	"errors"
	"testing"

	"github.com/jouleworks/joule/network/model"
)

// FuzzParseChat checks that no request body panics the parser and that an
// accepted one always yields a request the model layer accepts.
func FuzzParseChat(f *testing.F) {
	for _, s := range []string{
		`{"model":"joule-ref-1","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"system","content":null}],"temperature":0,"logprobs":true,"top_logprobs":5}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":0}`,
		`[]`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, ir, _, err := parseChat(body)
		if err != nil {
			return
		}
		if err := ir.ModelRequest(0).Check(); err != nil && !errors.Is(err, model.ErrBadRequest) {
			t.Fatalf("accepted request fails Check: %v", err)
		} else if err != nil {
			t.Fatalf("accepted an invalid request: %v", err)
		}
	})
}

func TestParseChatContentParts(t *testing.T) {
	_, ir, _, err := parseChat([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"max_tokens":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if ir.Messages[0].Content != "ab" || ir.MaxTokens != 3 || ir.TemperatureMilli != 1000 {
		t.Fatalf("parsed %+v, want content ab, 3 tokens, temperature 1000", ir)
	}
}
