package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// openAIServer speaks the OpenAI /v1/completions wire format, answering
// with the reference model's distribution (as float natural-log logprobs,
// jittered by jitter nats to mimic another GPU), so Remote can be checked
// against the model it wraps. It parses the prompt back into messages and
// prefix by the reference chat template.
func openAIServer(t *testing.T, jitter float64) *httptest.Server {
	r := ref(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, req *http.Request) {
		var cr CompletionsRequest
		if err := json.NewDecoder(req.Body).Decode(&cr); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		if cr.Model != RefModel {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": fmt.Sprintf("model %s not found", cr.Model), "type": "invalid_request_error"}})
			return
		}
		// Split the prompt at the assistant marker: before it the messages,
		// after it the generated prefix (one token per byte).
		const marker = "<|assistant|>\n"
		i := strings.LastIndex(cr.Prompt, marker)
		msgs := parseRendered(cr.Prompt[:i])
		var prefix []string
		for _, b := range []byte(cr.Prompt[i+len(marker):]) {
			prefix = append(prefix, string([]byte{b}))
		}
		st, err := r.Next(req.Context(), RefModel, msgs, prefix, cr.Logprobs)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		top := map[string]float64{}
		for j, c := range st.Candidates {
			top[c.Text] = c.Logprob.Nats() + jitter*math.Sin(float64(j+len(prefix)))
		}
		best := st.Candidates[0]
		text, finish := best.Text, "length"
		if best.EOS {
			text, finish = "", "stop"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"object": "text_completion",
			"choices": []any{map[string]any{
				"index": 0, "text": text, "finish_reason": finish,
				"logprobs": map[string]any{
					"tokens": []string{best.Text}, "token_logprobs": []float64{best.Logprob.Nats()},
					"top_logprobs": []any{top},
				},
			}},
			"usage": map[string]int{"prompt_tokens": st.PromptTokens, "completion_tokens": 1},
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func parseRendered(s string) []Message {
	var out []Message
	for len(s) > 0 {
		s = strings.TrimPrefix(s, "<|")
		end := strings.Index(s, "|>\n")
		role := s[:end]
		s = s[end+3:]
		next := strings.Index(s, "\n<|")
		if next < 0 {
			next = len(s) - 1
		}
		out = append(out, Message{Role: role, Content: s[:next]})
		s = s[next+1:]
	}
	return out
}

func TestRemoteAgreesWithReference(t *testing.T) {
	srv := openAIServer(t, 0)
	rem, err := NewRemote(RemoteConfig{BaseURL: srv.URL, Models: []string{RefModel}, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	r := req(0.8, 9)
	r.MaxTokens = 12
	c, err := Generate(ctx, rem, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := Generate(ctx, ref(t), r, nil)
	if c.Text() != local.Text() {
		t.Fatalf("remote text %q, local %q", c.Text(), local.Text())
	}
	// A validator on the integer model accepts the remote executor's work
	// within a float tolerance; the float round trip costs at most 1 LP.
	v, err := Validate(ctx, ref(t), r, c, Tolerance{Logprob: 1})
	if err != nil || !v.Valid {
		t.Fatalf("verdict %+v, err %v", v, err)
	}
}

func TestRemoteToleranceForJitter(t *testing.T) {
	srv := openAIServer(t, 0.01) // another GPU: ±0.01 nat
	rem, _ := NewRemote(RemoteConfig{BaseURL: srv.URL, Models: []string{RefModel}, Client: srv.Client()})
	r := req(0.8, 4)
	r.MaxTokens = 10
	c, err := Generate(ctx, ref(t), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Validate(ctx, rem, r, c, Tolerance{Logprob: LPFromNats(0.05)}); err != nil || !v.Valid {
		t.Fatalf("within tolerance: verdict %+v, err %v", v, err)
	}
	if v, err := Validate(ctx, rem, r, c, Exact); err != nil || v.Valid {
		t.Fatalf("exact against jittered floats should fail: verdict %+v, err %v", v, err)
	}
	cc, _ := Generate(ctx, cheap(t), r, nil)
	if v, err := Validate(ctx, rem, r, cc, Tolerance{Logprob: LPFromNats(0.05)}); err != nil || v.Valid {
		t.Fatalf("substitution passed a float validator: %+v, %v", v, err)
	}
}

func TestRemoteErrors(t *testing.T) {
	srv := openAIServer(t, 0)
	rem, _ := NewRemote(RemoteConfig{BaseURL: srv.URL, Models: []string{RefModel, "other"}, Client: srv.Client()})
	if _, err := rem.Next(ctx, "nope", chat, nil, 5); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("unlisted model: %v", err)
	}
	_, err := rem.Next(ctx, "other", chat, nil, 5)
	if !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("server 404: %v", err)
	}
	if _, err := NewRemote(RemoteConfig{Models: []string{"x"}}); err == nil {
		t.Fatal("empty BaseURL accepted")
	}
	dead, _ := NewRemote(RemoteConfig{BaseURL: "http://127.0.0.1:1", Models: []string{RefModel}})
	if _, err := dead.Next(ctx, RefModel, chat, nil, 5); !errors.Is(err, ErrBackend) {
		t.Fatalf("dead server: %v", err)
	}
}

func FuzzRemoteParse(f *testing.F) {
	f.Add([]byte(`{"choices":[{"text":"a","logprobs":{"tokens":["a"],"token_logprobs":[-0.1],"top_logprobs":[{"a":-0.1,"b":-2.5}]},"finish_reason":"length"}],"usage":{"prompt_tokens":3}}`), 200)
	f.Add([]byte(`{"choices":[{"text":"","logprobs":{"tokens":[""],"token_logprobs":[-0.1],"top_logprobs":[{"x":-3}]},"finish_reason":"stop"}]}`), 200)
	f.Add([]byte(`{"error":{"message":"boom"}}`), 500)
	f.Add([]byte(`not json`), 200)
	f.Add([]byte(`{"choices":[]}`), 200)
	rem, _ := NewRemote(RemoteConfig{BaseURL: "http://127.0.0.1:1", Models: []string{"m"}})
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		st, err := rem.parse(body, status, 5)
		if err != nil {
			if !errors.Is(err, ErrBackend) {
				t.Fatalf("error %v does not wrap ErrBackend", err)
			}
			return
		}
		if len(st.Candidates) == 0 || len(st.Candidates) > 5 {
			t.Fatalf("%d candidates from an accepted response", len(st.Candidates))
		}
		for i := 1; i < len(st.Candidates); i++ {
			if st.Candidates[i].Logprob > st.Candidates[i-1].Logprob {
				t.Fatal("candidates not sorted")
			}
		}
	})
}
