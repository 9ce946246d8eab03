package tx

import "fmt"

// Code is an ABCI result code. CheckTx and FinalizeBlock return these, with
// codespace "joule", so clients can branch on why a transaction failed.
type Code uint32

// The result codes. Zero is success, as ABCI requires. Values are part of the
// wire protocol: never renumber, only append.
const (
	CodeOK                Code = 0
	CodeMalformed         Code = 1  // not a canonical, well-formed tx
	CodeTooLarge          Code = 2  // over MaxTxBytes or a field limit
	CodeBadSignature      Code = 3  // signature missing or does not verify
	CodeBadNonce          Code = 4  // nonce not above the account's last: a replay
	CodeInsufficientFunds Code = 5  // balance cannot cover amount, bond or escrow
	CodeUnknownModel      Code = 6  // model not in the ledger's model list
	CodeUnknownAccount    Code = 7  // account, host or escrow does not exist
	CodeWrongPhase        Code = 8  // tx not allowed in the current epoch phase
	CodeInvalid           Code = 9  // a field value is out of range
	CodeUnauthorized      Code = 10 // signer may not do this (e.g. not the assigned validator)
	CodeWrongChain        Code = 11 // chain_id differs from this chain's
	CodeDuplicate         Code = 12 // already done (commitment, vote, escrow id)
	CodeExcluded          Code = 13 // the host was slashed and excluded
)

var codeNames = map[Code]string{
	CodeOK:                "ok",
	CodeMalformed:         "malformed",
	CodeTooLarge:          "too_large",
	CodeBadSignature:      "bad_signature",
	CodeBadNonce:          "bad_nonce",
	CodeInsufficientFunds: "insufficient_funds",
	CodeUnknownModel:      "unknown_model",
	CodeUnknownAccount:    "unknown_account",
	CodeWrongPhase:        "wrong_phase",
	CodeInvalid:           "invalid",
	CodeUnauthorized:      "unauthorized",
	CodeWrongChain:        "wrong_chain",
	CodeDuplicate:         "duplicate",
	CodeExcluded:          "excluded",
}

// String returns the code's stable name.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code(%d)", uint32(c))
}

// Error is a rejected transaction: its code and a message naming the field.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Msg) }

// Errf builds an Error.
func Errf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
