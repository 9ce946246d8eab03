package miner

import (
	"errors"
	"fmt"
)

// Sentinels callers branch on. Every error this package returns wraps one of
// these or an *APIError, inside an *Error naming the miner.
var (
	// ErrAuth: the miner rejected the credentials (HTTP 401, Whatsminer
	// token error, LuxOS session refused).
	ErrAuth = errors.New("authentication failed")
	// ErrTruncated: the reply ended mid-way (connection closed or timed out
	// while the miner was still writing).
	ErrTruncated = errors.New("half-written reply")
	// ErrUnsupported: the firmware has no way to do what was asked.
	ErrUnsupported = errors.New("not supported by this firmware")
	// ErrUnknownFirmware: detection could not tell which dialect answers.
	ErrUnknownFirmware = errors.New("unknown firmware")
	// ErrBadReply: the reply was not in the documented shape.
	ErrBadReply = errors.New("malformed reply")
)

// Error is any failure talking to one miner: Addr is the endpoint
// (host:port) and Op the command, e.g. "miner 127.0.0.5:4028: summary:
// STATUS E code 14: Invalid command".
type Error struct {
	Addr string
	Op   string
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("miner %s: %s: %v", e.Addr, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func wrap(addr, op string, err error) error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return err // already names the miner
	}
	return &Error{Addr: addr, Op: op, Err: err}
}

// APIError is a STATUS E/F (cgminer family) or a negative code (Whatsminer)
// returned by the firmware: the miner understood the request and refused it.
type APIError struct {
	Status      string // "E" or "F" (cgminer), "" for Whatsminer
	Code        int
	Msg         string
	Description string
	// Auth marks refusals about credentials or sessions, set by the dialect
	// that knows its firmware's codes.
	Auth bool
}

func (e *APIError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("code %d: %s", e.Code, e.Msg)
	}
	return fmt.Sprintf("STATUS %s code %d: %s", e.Status, e.Code, e.Msg)
}

// Is makes errors.Is(err, ErrAuth) true for refusals that are about
// credentials, so callers need not know each firmware's codes.
func (e *APIError) Is(target error) bool {
	return target == ErrAuth && e.Auth
}
