package tx

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func signed(t testing.TB, tx *Tx) []byte {
	t.Helper()
	if err := tx.Sign(testKey(1)); err != nil {
		t.Fatal(err)
	}
	raw, err := tx.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRoundTripAndVerify(t *testing.T) {
	to := PubKey(testKey(2).Public().(ed25519.PublicKey))
	cases := []*Tx{
		{ChainID: "c", Nonce: 1, Transfer: &Transfer{To: to, Amount: 5}},
		{ChainID: "c", Nonce: 2, RegisterHost: &RegisterHost{Models: []string{"joule-ref-1"}, Endpoint: "http://127.0.0.1:1", Bond: 10}},
		{ChainID: "c", Nonce: 3, CommitProof: &CommitProof{Epoch: 4, Root: bytes.Repeat([]byte{9}, 32), Count: 100}},
		{ChainID: "c", Nonce: 4, ProofVote: &ProofVote{Epoch: 4, Host: to, Openings: []Bytes{{1, 2}, {3}}}},
		{ChainID: "c", Nonce: 5, OpenEscrow: &OpenEscrow{ID: "e1", Model: "m", Host: to, MaxTokens: 16, RequestHash: []byte{1}}},
		{ChainID: "c", Nonce: 6, SettleInference: &SettleInference{EscrowID: "e<1>", CompletionTokens: 2, TranscriptHash: []byte{1}}},
		{ChainID: "c", Nonce: 7, InferenceVote: &InferenceVote{EscrowID: "e1", OK: true}},
		{ChainID: "c", Nonce: 8, Dispute: &DisputeInference{EscrowID: "e1", TranscriptHash: []byte{2}, Receipt: []byte{3}}},
	}
	for _, c := range cases {
		raw := signed(t, c)
		got, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: decode %s: %v", c.Type(), raw, err)
		}
		if err := got.Verify(); err != nil {
			t.Fatalf("%s: verify: %v", c.Type(), err)
		}
		if got.Type() != c.Type() {
			t.Fatalf("type = %q, want %q", got.Type(), c.Type())
		}
	}
}

var rejectCases = []struct {
	name string
	mut  func(raw []byte) []byte
	code Code
}{
	{"empty", func([]byte) []byte { return nil }, CodeMalformed},
	{"not json", func([]byte) []byte { return []byte("hello") }, CodeMalformed},
	{"trailing", func(r []byte) []byte { return append(r, []byte(" {}")...) }, CodeMalformed},
	{"whitespace", func(r []byte) []byte { return bytes.Replace(r, []byte(`,"from"`), []byte(`, "from"`), 1) }, CodeMalformed},
	{"unknown field", func(r []byte) []byte { return bytes.Replace(r, []byte(`{"chain_id"`), []byte(`{"x":1,"chain_id"`), 1) }, CodeMalformed},
	{"upper hex", func(r []byte) []byte {
		i := bytes.Index(r, []byte(`"sig":"`)) + 7
		out := append([]byte{}, r...)
		copy(out[i:], strings.ToUpper(string(out[i:i+10])))
		return out
	}, CodeMalformed},
	{"two bodies", func(r []byte) []byte {
		return bytes.Replace(r, []byte(`,"sig"`), []byte(`,"inference_vote":{"escrow_id":"x","ok":true},"sig"`), 1)
	}, CodeMalformed},
	{"oversized", func([]byte) []byte { return bytes.Repeat([]byte("a"), MaxTxBytes+1) }, CodeTooLarge},
}

func TestDecodeRejects(t *testing.T) {
	base := signed(t, &Tx{ChainID: "c", Nonce: 1, Transfer: &Transfer{To: PubKey(testKey(2).Public().(ed25519.PublicKey)), Amount: 5}})
	for _, c := range rejectCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.mut(base))
			var te *Error
			if !errors.As(err, &te) || te.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
		})
	}
}

func TestVerifyRejectsTamper(t *testing.T) {
	tx := &Tx{ChainID: "c", Nonce: 1, Transfer: &Transfer{To: PubKey(testKey(2).Public().(ed25519.PublicKey)), Amount: 5}}
	signed(t, tx)
	tx.Transfer.Amount = 6
	var te *Error
	if err := tx.Verify(); !errors.As(err, &te) || te.Code != CodeBadSignature {
		t.Fatalf("verify tampered = %v, want bad_signature", err)
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to exactly the input (one encoding per transaction).
func FuzzDecode(f *testing.F) {
	base := signed(f, &Tx{ChainID: "c", Nonce: 1, Transfer: &Transfer{To: PubKey(testKey(2).Public().(ed25519.PublicKey)), Amount: 5}})
	f.Add(base)
	f.Add(signed(f, &Tx{ChainID: "c", Nonce: 10, ProofVote: &ProofVote{Epoch: 1, Host: make(PubKey, 32), Openings: []Bytes{{1}, {2, 3}}, Evidence: []byte{4}}}))
	f.Add(signed(f, &Tx{ChainID: "c", Nonce: 11, Dispute: &DisputeInference{EscrowID: "e", TranscriptHash: []byte{5}, Receipt: []byte{6}}}))
	f.Add(signed(f, &Tx{ChainID: "c", Nonce: 9, SettleInference: &SettleInference{EscrowID: "e", PromptTokens: 3, TranscriptHash: []byte{7}}}))
	for _, c := range rejectCases[:7] {
		f.Add(c.mut(base))
	}
	f.Add([]byte(`{"chain_id":"c","from":"","nonce":1,"transfer":{"to":"","amount":1}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := Decode(raw)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *tx.Error", err)
			}
			return
		}
		again, err := tx.Encode()
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("accepted non-canonical input %q (re-encodes to %q, %v)", raw, again, err)
		}
		_ = tx.Verify()
	})
}
