// Package tx defines the Joule ledger's transactions, their canonical JSON
// encoding and their ed25519 signatures.
//
// A transaction is a JSON object whose bytes must be exactly what this package
// would encode for it (fixed key order, no whitespace, no duplicate or unknown
// keys). Decode re-encodes what it parsed and rejects any difference, so one
// transaction has one encoding and one hash: nobody can replay a signed
// transaction under a new hash by re-spacing it.
package tx

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxTxBytes is the largest transaction the ledger accepts. It bounds the
// prompt and completion an inference settlement may carry.
const MaxTxBytes = 64 << 10

// signPrefix domain-separates Joule transaction signatures from any other
// message the same key might sign.
const signPrefix = "joule-tx-v1\n"

// Type names a transaction kind; it is the key of the one body a Tx carries.
type Type string

// The transaction kinds.
const (
	TypeTransfer        Type = "transfer"
	TypeRegisterHost    Type = "register_host"
	TypeCommitProof     Type = "commit_proof"
	TypeProofVote       Type = "proof_vote"
	TypeOpenEscrow      Type = "open_escrow"
	TypeSettleInference Type = "settle_inference"
	TypeInferenceVote   Type = "inference_vote"
	TypeDispute         Type = "dispute_inference"
)

// Tx is a signed ledger transaction. Exactly one body field is set.
type Tx struct {
	ChainID string `json:"chain_id"`
	// From is the signer's ed25519 public key; it is also its account address.
	From PubKey `json:"from"`
	// Nonce must exceed the account's last used nonce; it is what makes a
	// replayed transaction fail.
	Nonce uint64 `json:"nonce"`

	Transfer        *Transfer         `json:"transfer,omitempty"`
	RegisterHost    *RegisterHost     `json:"register_host,omitempty"`
	CommitProof     *CommitProof      `json:"commit_proof,omitempty"`
	ProofVote       *ProofVote        `json:"proof_vote,omitempty"`
	OpenEscrow      *OpenEscrow       `json:"open_escrow,omitempty"`
	SettleInference *SettleInference  `json:"settle_inference,omitempty"`
	InferenceVote   *InferenceVote    `json:"inference_vote,omitempty"`
	Dispute         *DisputeInference `json:"dispute_inference,omitempty"`

	Sig Bytes `json:"sig,omitempty"`
}

// Transfer moves Amount from the signer to To.
type Transfer struct {
	To     PubKey `json:"to"`
	Amount uint64 `json:"amount"`
}

// RegisterHost registers (or updates) the signer as a compute host serving
// Models, reachable at Endpoint (the base URL of its host HTTP server), and
// moves Bond from its balance into a slashable bond.
type RegisterHost struct {
	Models   []string `json:"models"`
	Endpoint string   `json:"endpoint"`
	Bond     uint64   `json:"bond"`
}

// CommitProof commits the Merkle root over Count proof leaves computed for
// Epoch's sprint.
type CommitProof struct {
	Epoch uint64 `json:"epoch"`
	Root  Bytes  `json:"root"`
	Count uint64 `json:"count"`
}

// ProofVote is an assigned validator's verdict on one host's commitment.
// Hosts answer validators with leaf hashes and paths but no digests
// (proof.LeafOpening), so a validator must recompute to vote. Openings holds
// one proof.Opening (binary encoding) per sampled leaf the host answered and
// whose leaf matched the validator's recomputation: the index, the digest
// the validator recomputed and the host's path. The chain checks each
// against the committed root by hashing only (proof.CheckOpening), so a
// validator that did not compute is exposed by a wrong digest. Evidence, if
// set, is one sampled leaf whose committed hash differs from the
// recomputation (proof.LeafOpening); every node recomputes that one nonce,
// so a validator cannot frame an honest host.
type ProofVote struct {
	Epoch    uint64  `json:"epoch"`
	Host     PubKey  `json:"host"`
	Openings []Bytes `json:"openings,omitempty"`
	Evidence Bytes   `json:"evidence,omitempty"`
}

// OpenEscrow locks MaxFee of the signer's balance for one inference request
// to Host. ID is chosen by the requester and must be new.
type OpenEscrow struct {
	ID        string `json:"id"`
	Model     string `json:"model"`
	Host      PubKey `json:"host"`
	MaxTokens uint64 `json:"max_tokens"`
	// RequestHash is sha256 of the canonical request (model, messages,
	// limits); the transcript the host serves must carry this request.
	RequestHash Bytes `json:"request_hash"`
}

// SettleInference is the executing host's receipt: the tokens it counted
// and the hash of the transcript (request and completion with its top-k
// logprobs) it serves to validators. It fixes the fee and releases the rest
// of the escrow.
type SettleInference struct {
	EscrowID         string `json:"escrow_id"`
	PromptTokens     uint64 `json:"prompt_tokens"`
	CompletionTokens uint64 `json:"completion_tokens"`
	TranscriptHash   Bytes  `json:"transcript_hash"`
}

// InferenceVote is an assigned validator's re-execution verdict on a settled
// inference.
type InferenceVote struct {
	EscrowID string `json:"escrow_id"`
	OK       bool   `json:"ok"`
}

// DisputeInference is a requester's (its gateway's) claim that the
// escrow's host settled a transcript other than the one it served. Receipt
// is the host's ed25519 signature over ReceiptBytes(EscrowID,
// TranscriptHash), which the host sends at the end of every /infer stream;
// TranscriptHash is the hash of the transcript the gateway relayed. A valid
// receipt for a hash other than the settled one proves the host
// equivocated.
type DisputeInference struct {
	EscrowID       string `json:"escrow_id"`
	TranscriptHash Bytes  `json:"transcript_hash"`
	Receipt        Bytes  `json:"receipt"`
}

// receiptPrefix domain-separates inference receipts from transactions.
const receiptPrefix = "joule-receipt-v1\n"

// ReceiptBytes is what a host signs for the transcript it served for an
// escrow.
func ReceiptBytes(escrowID string, transcriptHash []byte) []byte {
	b := append([]byte(receiptPrefix), escrowID...)
	b = append(b, '\n')
	return append(b, transcriptHash...)
}

// Type reports which body the transaction carries, or "" if not exactly one.
func (t *Tx) Type() Type {
	var typ Type
	n := 0
	set := func(ok bool, k Type) {
		if ok {
			typ = k
			n++
		}
	}
	set(t.Transfer != nil, TypeTransfer)
	set(t.RegisterHost != nil, TypeRegisterHost)
	set(t.CommitProof != nil, TypeCommitProof)
	set(t.ProofVote != nil, TypeProofVote)
	set(t.OpenEscrow != nil, TypeOpenEscrow)
	set(t.SettleInference != nil, TypeSettleInference)
	set(t.InferenceVote != nil, TypeInferenceVote)
	set(t.Dispute != nil, TypeDispute)
	if n != 1 {
		return ""
	}
	return typ
}

// Encode returns the canonical encoding of t.
func (t *Tx) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("encode tx: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// SignBytes returns the bytes the signature covers: a domain prefix and the
// canonical encoding of t without its signature.
func (t *Tx) SignBytes() ([]byte, error) {
	c := *t
	c.Sig = nil
	b, err := c.Encode()
	if err != nil {
		return nil, err
	}
	return append([]byte(signPrefix), b...), nil
}

// Sign sets t.From to key's public key and signs t.
func (t *Tx) Sign(key ed25519.PrivateKey) error {
	t.From = PubKey(key.Public().(ed25519.PublicKey))
	msg, err := t.SignBytes()
	if err != nil {
		return err
	}
	t.Sig = ed25519.Sign(key, msg)
	return nil
}

// Verify checks t's signature against t.From.
func (t *Tx) Verify() error {
	if len(t.From) != ed25519.PublicKeySize {
		return &Error{Code: CodeBadSignature, Msg: fmt.Sprintf("from: public key is %d bytes, want %d", len(t.From), ed25519.PublicKeySize)}
	}
	if len(t.Sig) != ed25519.SignatureSize {
		return &Error{Code: CodeBadSignature, Msg: fmt.Sprintf("sig: %d bytes, want %d", len(t.Sig), ed25519.SignatureSize)}
	}
	msg, err := t.SignBytes()
	if err != nil {
		return &Error{Code: CodeMalformed, Msg: err.Error()}
	}
	if !ed25519.Verify(ed25519.PublicKey(t.From), msg, t.Sig) {
		return &Error{Code: CodeBadSignature, Msg: "sig: signature does not verify against from"}
	}
	return nil
}

// Hash is the transaction's identifier: sha256 of its canonical bytes, the
// same hash CometBFT reports for it.
func Hash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// Decode parses raw as a canonical transaction. It checks form only (size,
// JSON, canonical bytes, exactly one body, key and signature lengths); Verify
// checks the signature and the ledger checks everything that needs state.
func Decode(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, &Error{Code: CodeTooLarge, Msg: fmt.Sprintf("tx is %d bytes, limit %d", len(raw), MaxTxBytes)}
	}
	if len(raw) == 0 {
		return nil, &Error{Code: CodeMalformed, Msg: "empty tx"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var t Tx
	if err := dec.Decode(&t); err != nil {
		return nil, &Error{Code: CodeMalformed, Msg: "json: " + describeJSONError(raw, err)}
	}
	if dec.More() {
		return nil, &Error{Code: CodeMalformed, Msg: "json: trailing data after the tx object"}
	}
	if t.Type() == "" {
		return nil, &Error{Code: CodeMalformed, Msg: "tx must carry exactly one body (transfer, register_host, commit_proof, proof_vote, open_escrow, settle_inference, inference_vote, dispute_inference)"}
	}
	again, err := t.Encode()
	if err != nil {
		return nil, &Error{Code: CodeMalformed, Msg: err.Error()}
	}
	if !bytes.Equal(again, raw) {
		return nil, &Error{Code: CodeMalformed, Msg: fmt.Sprintf("tx is not canonical: differs from its re-encoding at byte %d (no whitespace, fixed key order, no duplicate keys, minimal escapes)", firstDiff(raw, again))}
	}
	if len(t.From) != ed25519.PublicKeySize {
		return nil, &Error{Code: CodeMalformed, Msg: fmt.Sprintf("from: public key is %d bytes, want %d", len(t.From), ed25519.PublicKeySize)}
	}
	return &t, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// describeJSONError names the byte offset of a JSON syntax or type error.
func describeJSONError(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: %s is not a %s (byte %d)", te.Field, te.Value, te.Type, te.Offset)
	}
	_ = raw
	return err.Error()
}

// Bytes is a byte string encoded as lower-case hex in JSON.
type Bytes []byte

// MarshalJSON encodes b as a hex string.
func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(hex.EncodeToString(b))
}

// UnmarshalJSON accepts lower-case hex only, so the encoding stays unique.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if s != strings.ToLower(s) {
		return fmt.Errorf("hex %q must be lower-case", s)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("hex %q: %w", s, err)
	}
	*b = v
	return nil
}

// PubKey is an ed25519 public key, hex-encoded in JSON; it doubles as the
// account address.
type PubKey []byte

// String returns the key's hex form, the account address users see.
func (p PubKey) String() string { return hex.EncodeToString(p) }

// MarshalJSON encodes p as a hex string.
func (p PubKey) MarshalJSON() ([]byte, error) { return Bytes(p).MarshalJSON() }

// UnmarshalJSON decodes a lower-case hex key.
func (p *PubKey) UnmarshalJSON(data []byte) error {
	var b Bytes
	if err := b.UnmarshalJSON(data); err != nil {
		return err
	}
	*p = PubKey(b)
	return nil
}

// ParsePubKey parses a hex account address.
func ParsePubKey(s string) (PubKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("address %q: %d bytes, want %d", s, len(b), ed25519.PublicKeySize)
	}
	return PubKey(b), nil
}
