package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/jouleworks/joule/network/ledger"
	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/tx"
)

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.account(r); !ok {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	st := s.chain.View()
	out := modelList{Object: "list", Data: []modelObject{}}
	for _, id := range sortedModelIDs(st) {
		out.Data = append(out.Data, modelObject{ID: id, Object: "model", OwnedBy: "joule"})
	}
	writeJSON(w, http.StatusOK, out)
}

func sortedModelIDs(st *ledger.State) []string {
	return slices.Sorted(maps.Keys(st.Models))
}

// parseChat validates an OpenAI request body into the canonical request.
// On failure it returns the OpenAI error parameter and message.
func parseChat(body []byte) (chatRequest, InferRequest, string, error) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, InferRequest{}, "", fmt.Errorf("We could not parse the JSON body of your request: %v", err)
	}
	ir := InferRequest{Model: req.Model, MaxTokens: DefaultMaxTokens, TemperatureMilli: 1000}
	if req.Model == "" {
		return req, ir, "model", errors.New("you must provide a model parameter")
	}
	if req.N != nil && *req.N != 1 {
		return req, ir, "n", fmt.Errorf("n = %d is not supported; only 1 choice per request", *req.N)
	}
	for i, m := range req.Messages {
		text, err := m.text()
		if err != nil {
			return req, ir, fmt.Sprintf("messages[%d].content", i), err
		}
		ir.Messages = append(ir.Messages, model.Message{Role: m.Role, Content: text})
	}
	switch {
	case req.MaxCompletionTokens != nil:
		ir.MaxTokens = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		ir.MaxTokens = *req.MaxTokens
	}
	if req.Temperature != nil {
		mr := model.Request{Temperature: *req.Temperature}
		ir.TemperatureMilli = mr.TemperatureMilli()
		if *req.Temperature < 0 || *req.Temperature > model.MaxTemperature {
			return req, ir, "temperature", fmt.Errorf("temperature = %v, want 0..%v", *req.Temperature, model.MaxTemperature)
		}
	}
	if req.Logprobs && req.TopLogprobs != nil {
		ir.TopLogprobs = *req.TopLogprobs
	}
	if err := ir.ModelRequest(0).Check(); err != nil {
		return req, ir, "", err
	}
	return req, ir, "", nil
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	key, ok := s.account(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "request_too_large", fmt.Sprintf("Request body exceeds %d bytes.", MaxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "read body: "+err.Error())
		return
	}
	req, ir, param, err := parseChat(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", param, "", err.Error())
		return
	}
	st := s.chain.View()
	if _, ok := st.Models[ir.Model]; !ok {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model", "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", ir.Model))
		return
	}
	hostAddr, endpoint := s.pickHost(st, ir.Model)
	if hostAddr == "" {
		writeError(w, http.StatusServiceUnavailable, "server_error", "model", "no_host", fmt.Sprintf("No verified host currently serves `%s`; try again after the next epoch's validation.", ir.Model))
		return
	}
	hostPub, _ := tx.ParsePubKey(hostAddr)
	id := newID()
	rh := ir.Hash()
	// A byte-level count bounds the prompt's tokens for byte-level and BPE
	// tokenizers alike, so the escrow always covers the settlement.
	budget := uint64(len(model.Render(ir.Messages)) + ir.MaxTokens)
	_, err = s.chain.Submit(r.Context(), key, &tx.Tx{OpenEscrow: &tx.OpenEscrow{
		ID: id, Model: ir.Model, Host: hostPub, MaxTokens: budget, RequestHash: rh[:],
	}})
	if err != nil {
		var te *tx.Error
		if errors.As(err, &te) && te.Code == tx.CodeInsufficientFunds {
			writeError(w, http.StatusTooManyRequests, "insufficient_quota", "", "insufficient_quota", "Your account's balance cannot cover this request's escrow: "+te.Msg)
			return
		}
		writeError(w, http.StatusBadGateway, "server_error", "", "escrow_failed", "Opening the escrow failed: "+err.Error())
		return
	}
	resp, err := s.callHost(r.Context(), endpoint, InferCall{EscrowID: id, Request: ir})
	if err != nil {
		writeError(w, http.StatusBadGateway, "server_error", "", "host_failed", err.Error())
		return
	}
	defer resp.Body.Close()
	c := completionWriter{id: "chatcmpl-" + id, created: s.now().Unix(), model: ir.Model, top: ir.TopLogprobs, logprobs: req.Logprobs,
		finish: func(tokens []model.Token, done *InferDone) error {
			return s.audit(relayed{key: key, host: hostAddr, id: id, req: ir, tokens: tokens}, done)
		}}
	if req.Stream {
		c.stream(w, resp.Body, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	c.whole(w, resp.Body)
}

func (s *Server) callHost(ctx context.Context, endpoint string, call InferCall) (*http.Response, error) {
	b, err := json.Marshal(call)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+PathInfer, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errHost, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errHost, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%w: host answered %s: %s", errHost, resp.Status, bytes.TrimSpace(msg))
	}
	return resp, nil
}

// completionWriter turns a host's NDJSON token stream into OpenAI output.
type completionWriter struct {
	id       string
	created  int64
	model    string
	top      int
	logprobs bool
	// finish audits the relayed tokens against the host's receipt before
	// the response is completed.
	finish func([]model.Token, *InferDone) error
}

func (c *completionWriter) logprob(t *model.Token) tokenLogprob {
	lp := tokenLogprob{Token: t.Text, Logprob: t.Logprob.Nats(), Bytes: byteList(t.Text), TopLogprobs: []topLogprob{}}
	for i := 0; i < c.top && i < len(t.Top); i++ {
		alt := t.Top[i]
		lp.TopLogprobs = append(lp.TopLogprobs, topLogprob{Token: alt.Text, Logprob: alt.Logprob.Nats(), Bytes: byteList(alt.Text)})
	}
	return lp
}

// events reads NDJSON events, calling fn for each until Done or an error.
func events(r io.Reader, fn func(InferEvent) error) (*InferDone, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var ev InferEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("%w: bad event from host: %v", errHost, err)
		}
		if ev.Error != "" {
			return nil, fmt.Errorf("%w: %s", errHost, ev.Error)
		}
		if ev.Done != nil {
			return ev.Done, nil
		}
		if err := fn(ev); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", errHost, err)
	}
	return nil, fmt.Errorf("%w: stream ended without a summary", errHost)
}

func (c *completionWriter) whole(w http.ResponseWriter, body io.Reader) {
	var text bytes.Buffer
	var lps []tokenLogprob
	var tokens []model.Token
	done, err := events(body, func(ev InferEvent) error {
		if ev.Token != nil {
			tokens = append(tokens, *ev.Token)
			text.WriteString(ev.Token.Text)
			if c.logprobs {
				lps = append(lps, c.logprob(ev.Token))
			}
		}
		return nil
	})
	if err == nil && c.finish != nil {
		err = c.finish(tokens, done)
	}
	if err != nil {
		writeError(w, http.StatusBadGateway, "server_error", "", "host_failed", err.Error())
		return
	}
	content := text.String()
	finish := done.FinishReason
	choice := chatChoice{Message: &outMessage{Role: "assistant", Content: &content}, FinishReason: &finish}
	if c.logprobs {
		choice.Logprobs = &choiceLogprobs{Content: lps}
	}
	writeJSON(w, http.StatusOK, chatCompletion{
		ID: c.id, Object: "chat.completion", Created: c.created, Model: c.model,
		Choices: []chatChoice{choice},
		Usage:   &usage{PromptTokens: done.PromptTokens, CompletionTokens: done.CompletionTokens, TotalTokens: done.PromptTokens + done.CompletionTokens},
	})
}

// stream writes OpenAI's SSE format: a role chunk, one chunk per token, a
// chunk with the finish reason, optionally a usage chunk, then [DONE].
func (c *completionWriter) stream(w http.ResponseWriter, body io.Reader, includeUsage bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	chunk := func(ch chatChoice) chatCompletion {
		return chatCompletion{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model, Choices: []chatChoice{ch}}
	}
	empty := ""
	if err := send(chunk(chatChoice{Delta: &outMessage{Role: "assistant", Content: &empty}})); err != nil {
		return
	}
	var tokens []model.Token
	done, err := events(body, func(ev InferEvent) error {
		if ev.Token == nil {
			return nil
		}
		tokens = append(tokens, *ev.Token)
		text := ev.Token.Text
		ch := chatChoice{Delta: &outMessage{Content: &text}}
		if c.logprobs {
			ch.Logprobs = &choiceLogprobs{Content: []tokenLogprob{c.logprob(ev.Token)}}
		}
		return send(chunk(ch))
	})
	if err == nil && c.finish != nil {
		err = c.finish(tokens, done)
	}
	if err != nil {
		_ = send(apiError{Error: apiErrorBody{Message: err.Error(), Type: "server_error"}})
		return
	}
	finish := done.FinishReason
	_ = send(chunk(chatChoice{Delta: &outMessage{}, FinishReason: &finish}))
	if includeUsage {
		_ = send(chatCompletion{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model, Choices: []chatChoice{},
			Usage: &usage{PromptTokens: done.PromptTokens, CompletionTokens: done.CompletionTokens, TotalTokens: done.PromptTokens + done.CompletionTokens}})
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}
