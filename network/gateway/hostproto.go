package gateway

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/jouleworks/joule/network/model"
)

// The host protocol: the off-chain HTTP API every host serves next to the
// chain. Gateways call /infer; validators call /transcript and /openings.
const (
	// PathInfer serves an escrowed request: POST InferCall, response is
	// NDJSON InferEvent lines, tokens as they are generated.
	PathInfer = "/joule/v1/infer"
	// PathTranscript + escrow id returns the Transcript a host settled.
	PathTranscript = "/joule/v1/transcript/"
	// PathOpenings?epoch=E&leaves=i,j,… returns Openings of proof leaves.
	PathOpenings = "/joule/v1/openings"
)

// InferRequest is the canonical request a requester escrows and a host
// executes; its sha256 (RequestHash) is on chain.
type InferRequest struct {
	Model            string          `json:"model"`
	Messages         []model.Message `json:"messages"`
	MaxTokens        int             `json:"max_tokens"`
	TemperatureMilli int64           `json:"temperature_milli"`
	TopLogprobs      int             `json:"top_logprobs"`
}

// ModelRequest converts r to the model package's request with the ledger's
// seed.
func (r InferRequest) ModelRequest(seed uint64) model.Request {
	return model.Request{
		Model: r.Model, Messages: r.Messages, MaxTokens: r.MaxTokens,
		Temperature: float64(r.TemperatureMilli) / 1000, Seed: seed, TopLogprobs: r.TopLogprobs,
	}
}

// Hash returns sha256 over r's JSON encoding (struct order, so canonical).
func (r InferRequest) Hash() [32]byte {
	b, _ := json.Marshal(r)
	return sha256.Sum256(b)
}

// InferCall is the body of POST PathInfer.
type InferCall struct {
	EscrowID string       `json:"escrow_id"`
	Request  InferRequest `json:"request"`
}

// InferEvent is one NDJSON line of an /infer response: a token, the final
// summary, or an error.
type InferEvent struct {
	Token *model.Token `json:"token,omitempty"`
	Done  *InferDone   `json:"done,omitempty"`
	Error string       `json:"error,omitempty"`
}

// InferDone ends a successful /infer stream. TranscriptHash is the hash of
// the Transcript the host will settle, and Receipt the host's ed25519
// signature over tx.ReceiptBytes(escrow id, TranscriptHash), both hex. The
// gateway rebuilds the transcript from what it relayed and checks both; a
// settlement with another hash is then provable equivocation (a
// dispute_inference transaction).
type InferDone struct {
	FinishReason     string `json:"finish_reason"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	TranscriptHash   string `json:"transcript_hash"`
	Receipt          string `json:"receipt"`
}

// Transcript is what a host settled for one escrow: validators re-execute
// it and check its sha256 against the settlement's transcript_hash.
type Transcript struct {
	EscrowID   string           `json:"escrow_id"`
	Request    InferRequest     `json:"request"`
	Seed       uint64           `json:"seed"`
	Completion model.Completion `json:"completion"`
}

// Hash returns sha256 over t's JSON encoding.
func (t *Transcript) Hash() ([32]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return [32]byte{}, fmt.Errorf("transcript %s: %w", t.EscrowID, err)
	}
	return sha256.Sum256(b), nil
}

// Openings is the response of PathOpenings: hex of proof.LeafOpening's
// binary encoding (leaf hash and path, no digest, so a validator must
// recompute each digest to vote), in the order asked.
type Openings struct {
	Openings []string `json:"openings"`
}
