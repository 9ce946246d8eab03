package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Limits a Request must respect; the gateway reports violations as OpenAI
// "invalid_request_error"s.
const (
	// SampleK is how many candidates every step considers: Choose samples
	// among the SampleK most likely tokens, and a Completion records all of
	// them so a validator can check the choice. It is also the largest
	// TopLogprobs a request may ask for (OpenAI's limit is 20 as well).
	SampleK = 20
	// MaxTokensLimit caps Request.MaxTokens.
	MaxTokensLimit = 4096
	// MaxTemperature caps Request.Temperature.
	MaxTemperature = 2.0
)

// Finish reasons, as in the OpenAI API.
const (
	FinishStop   = "stop"   // the model chose its end-of-sequence token
	FinishLength = "length" // MaxTokens were generated
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrUnknownModel means the backend does not serve the requested model.
	ErrUnknownModel = errors.New("model not served")
	// ErrBadRequest means a Request field is out of range; the message names it.
	ErrBadRequest = errors.New("invalid request")
	// ErrBackend means the backend failed to answer (network, HTTP status,
	// malformed response); it is not evidence of cheating by itself.
	ErrBackend = errors.New("backend failed")
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Request asks for one chat completion.
type Request struct {
	Model     string
	Messages  []Message
	MaxTokens int // 1..MaxTokensLimit
	// Temperature is 0 for greedy decoding, else in (0, MaxTemperature]. It
	// is quantised to thousandths (TemperatureMilli) before use.
	Temperature float64
	// Seed fixes every sampling choice; it should be fixed by the ledger
	// (e.g. from the escrow transaction) so a host cannot shop for outputs.
	Seed uint64
	// TopLogprobs is how many alternatives per token the caller wants shown
	// (0..SampleK). The Completion always records SampleK for validation.
	TopLogprobs int
}

// TemperatureMilli returns the temperature in thousandths, rounded to
// nearest — the only form of it the sampling rule uses.
func (r Request) TemperatureMilli() int64 {
	return int64(math.Round(r.Temperature * 1000))
}

// Check reports the first out-of-range field as an error wrapping
// ErrBadRequest.
func (r Request) Check() error {
	switch {
	case r.Model == "":
		return fmt.Errorf("%w: model is empty", ErrBadRequest)
	case len(r.Messages) == 0:
		return fmt.Errorf("%w: messages is empty", ErrBadRequest)
	case r.MaxTokens < 1 || r.MaxTokens > MaxTokensLimit:
		return fmt.Errorf("%w: max_tokens = %d, want 1..%d", ErrBadRequest, r.MaxTokens, MaxTokensLimit)
	case math.IsNaN(r.Temperature) || r.Temperature < 0 || r.Temperature > MaxTemperature:
		return fmt.Errorf("%w: temperature = %v, want 0..%v", ErrBadRequest, r.Temperature, MaxTemperature)
	case r.TopLogprobs < 0 || r.TopLogprobs > SampleK:
		return fmt.Errorf("%w: top_logprobs = %d, want 0..%d", ErrBadRequest, r.TopLogprobs, SampleK)
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "developer":
		default:
			return fmt.Errorf("%w: messages[%d].role = %q, want system, developer, user or assistant", ErrBadRequest, i, m.Role)
		}
	}
	return nil
}

// Candidate is one possible next token and its logprob.
type Candidate struct {
	Text    string `json:"text"`          // the token's bytes (may be a partial UTF-8 sequence)
	EOS     bool   `json:"eos,omitempty"` // the end-of-sequence token (Text is then its name)
	Logprob LP     `json:"lp"`
}

// Step is a backend's answer for one position.
type Step struct {
	// Candidates holds at most k tokens, most likely first; ties are broken
	// by Text in byte order so the list is canonical.
	Candidates []Candidate
	// PromptTokens is how many tokens the backend counted in the prompt.
	PromptTokens int
}

// Backend computes next-token distributions for the models it serves.
type Backend interface {
	// Models lists the model names served.
	Models() []string
	// Next returns the k most likely tokens after msgs (rendered as a chat
	// prompt) followed by the generated tokens in prefix. It returns an
	// error wrapping ErrUnknownModel for a model it does not serve and
	// ErrBackend when it cannot answer.
	Next(ctx context.Context, model string, msgs []Message, prefix []string, k int) (Step, error)
}

// Token is one generated token.
type Token struct {
	Text    string `json:"text"`
	Logprob LP     `json:"lp"`
	// Top is the SampleK candidates of this step (most likely first), which
	// a validator compares with its own; show only Request.TopLogprobs.
	Top []Candidate `json:"top"`
}

// Completion is the result of Generate.
type Completion struct {
	Model            string  `json:"model"`
	Tokens           []Token `json:"tokens"`
	FinishReason     string  `json:"finish_reason"` // FinishStop or FinishLength
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"` // len(Tokens)
}

// Text returns the generated text.
func (c Completion) Text() string {
	var b strings.Builder
	for _, t := range c.Tokens {
		b.WriteString(t.Text)
	}
	return b.String()
}

// Texts returns the token texts, the prefix form Backend.Next takes.
func (c Completion) Texts() []string {
	out := make([]string, len(c.Tokens))
	for i, t := range c.Tokens {
		out[i] = t.Text
	}
	return out
}

// Generate runs req on b, choosing each token with Choose, and calls emit
// (if not nil) with each token as soon as it is chosen; an error from emit
// stops generation and is returned.
func Generate(ctx context.Context, b Backend, req Request, emit func(Token) error) (Completion, error) {
	if err := req.Check(); err != nil {
		return Completion{}, err
	}
	if !slices.Contains(b.Models(), req.Model) {
		return Completion{}, fmt.Errorf("generate: %w: %q", ErrUnknownModel, req.Model)
	}
	c := Completion{Model: req.Model, FinishReason: FinishLength}
	var prefix []string
	temp := req.TemperatureMilli()
	for step := range req.MaxTokens {
		if err := ctx.Err(); err != nil {
			return c, fmt.Errorf("generate step %d: %w", step, err)
		}
		st, err := b.Next(ctx, req.Model, req.Messages, prefix, SampleK)
		if err != nil {
			return c, fmt.Errorf("generate step %d: %w", step, err)
		}
		if len(st.Candidates) == 0 {
			return c, fmt.Errorf("generate step %d: %w: no candidates", step, ErrBackend)
		}
		if step == 0 {
			// Remote servers count the generated prefix as prompt too.
			c.PromptTokens = st.PromptTokens
		}
		pick := st.Candidates[Choose(req.Seed, step, temp, st.Candidates)]
		if pick.EOS {
			c.FinishReason = FinishStop
			break
		}
		tok := Token{Text: pick.Text, Logprob: pick.Logprob, Top: st.Candidates}
		c.Tokens = append(c.Tokens, tok)
		c.CompletionTokens++
		prefix = append(prefix, pick.Text)
		if emit != nil {
			if err := emit(tok); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}
