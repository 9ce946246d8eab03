package model

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// RemoteConfig configures a Remote backend.
type RemoteConfig struct {
	// BaseURL of the OpenAI-compatible server, e.g. "http://127.0.0.1:8000"
	// for vLLM; "/v1/completions" is appended.
	BaseURL string
	// Models are the model names the server serves (as it names them).
	Models []string
	// APIKey, if set, is sent as "Authorization: Bearer <key>".
	APIKey string
	// StopTexts are the token texts that end a sequence (the model's
	// end-of-sequence tokens, as the server spells them in logprobs).
	// Default: "</s>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end|>".
	StopTexts []string
	// Template renders the chat prompt; default Render. Set it to the
	// model's own chat template for real models.
	Template func([]Message) string
	// Client is the HTTP client; default http.DefaultClient.
	Client *http.Client
}

// MaxResponseBytes bounds a remote response body.
const MaxResponseBytes = 1 << 20

// Remote is a Backend over any OpenAI-compatible server whose legacy
// /v1/completions endpoint returns top logprobs (vLLM, llama.cpp server).
// Each Next is one request with max_tokens 1 and logprobs k, so Remote —
// not the server — makes the seeded choice, and a validator can replay it.
type Remote struct {
	cfg RemoteConfig
}

var _ Backend = (*Remote)(nil)

// NewRemote returns a Remote backend for cfg.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("remote backend: BaseURL is empty")
	}
	if len(cfg.Models) == 0 {
		return nil, fmt.Errorf("remote backend %s: no models listed", cfg.BaseURL)
	}
	if cfg.StopTexts == nil {
		cfg.StopTexts = []string{"</s>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>", EOSText}
	}
	if cfg.Template == nil {
		cfg.Template = Render
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Remote{cfg: cfg}, nil
}

// Models implements Backend.
func (r *Remote) Models() []string { return slices.Clone(r.cfg.Models) }

// CompletionsRequest is the body Remote posts to /v1/completions.
type CompletionsRequest struct {
	Model       string  `json:"model"`
	Prompt      string  `json:"prompt"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
	Logprobs    int     `json:"logprobs"`
}

// CompletionsResponse is the part of an OpenAI /v1/completions response
// Remote reads.
type CompletionsResponse struct {
	Choices []struct {
		Text     string `json:"text"`
		Logprobs *struct {
			Tokens        []string             `json:"tokens"`
			TokenLogprobs []float64            `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
		} `json:"logprobs"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Next implements Backend.
func (r *Remote) Next(ctx context.Context, model string, msgs []Message, prefix []string, k int) (Step, error) {
	if !slices.Contains(r.cfg.Models, model) {
		return Step{}, fmt.Errorf("remote %s: %w: %q", r.cfg.BaseURL, ErrUnknownModel, model)
	}
	body, _ := json.Marshal(CompletionsRequest{
		Model: model, Prompt: r.cfg.Template(msgs) + strings.Join(prefix, ""),
		MaxTokens: 1, Logprobs: k,
	})
	url := r.cfg.BaseURL + "/v1/completions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Step{}, fmt.Errorf("remote %s: %w: %v", url, ErrBackend, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return Step{}, fmt.Errorf("remote %s: %w: %v", url, ErrBackend, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return Step{}, fmt.Errorf("remote %s: %w: read body: %v", url, ErrBackend, err)
	}
	if len(raw) > MaxResponseBytes {
		return Step{}, fmt.Errorf("remote %s: %w: response over %d bytes", url, ErrBackend, MaxResponseBytes)
	}
	st, err := r.parse(raw, resp.StatusCode, k)
	if err != nil {
		return Step{}, fmt.Errorf("remote %s: %w", url, err)
	}
	return st, nil
}

// parse turns a /v1/completions response into a Step.
func (r *Remote) parse(raw []byte, status, k int) (Step, error) {
	var cr CompletionsResponse
	jsonErr := json.Unmarshal(raw, &cr)
	if status != http.StatusOK {
		msg := http.StatusText(status)
		if jsonErr == nil && cr.Error != nil {
			msg = cr.Error.Message
		}
		return Step{}, fmt.Errorf("%w: HTTP %d: %s", ErrBackend, status, msg)
	}
	if jsonErr != nil {
		return Step{}, fmt.Errorf("%w: body is not JSON: %v", ErrBackend, jsonErr)
	}
	if len(cr.Choices) == 0 || cr.Choices[0].Logprobs == nil || len(cr.Choices[0].Logprobs.TopLogprobs) == 0 {
		return Step{}, fmt.Errorf("%w: response has no choices[0].logprobs.top_logprobs (does the server support logprobs?)", ErrBackend)
	}
	ch := cr.Choices[0]
	top := ch.Logprobs.TopLogprobs[0]
	cands := make([]Candidate, 0, len(top)+1)
	for text, lp := range top {
		cands = append(cands, Candidate{Text: text, EOS: slices.Contains(r.cfg.StopTexts, text), Logprob: LPFromNats(lp)})
	}
	// A server that stopped on its end-of-sequence token may report it as
	// an empty text rather than in top_logprobs.
	if ch.FinishReason == "stop" && ch.Text == "" && !slices.ContainsFunc(cands, func(c Candidate) bool { return c.EOS }) {
		lp := LP(0)
		if len(ch.Logprobs.TokenLogprobs) > 0 {
			lp = LPFromNats(ch.Logprobs.TokenLogprobs[0])
		}
		cands = append(cands, Candidate{Text: EOSText, EOS: true, Logprob: lp})
	}
	if len(cands) == 0 {
		return Step{}, fmt.Errorf("%w: top_logprobs[0] is empty", ErrBackend)
	}
	sortCandidates(cands)
	if len(cands) > k {
		cands = cands[:k]
	}
	return Step{Candidates: cands, PromptTokens: cr.Usage.PromptTokens}, nil
}
