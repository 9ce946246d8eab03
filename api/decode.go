package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errorBody is every error response: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// badRequest is a client error with a message naming the field.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func fieldErr(field, format string, args ...any) error {
	return &badRequest{status: http.StatusBadRequest, msg: fmt.Sprintf("field %q: ", field) + fmt.Sprintf(format, args...)}
}

// decode reads exactly one JSON object into dst, rejecting unknown fields,
// trailing data and bodies over the limit, with messages that name the field.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &badRequest{http.StatusUnsupportedMediaType, "Content-Type " + ct + ": want application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.More() {
			return &badRequest{http.StatusBadRequest, "body: unexpected data after the JSON object"}
		}
		if _, err := dec.Token(); err != io.EOF {
			return &badRequest{http.StatusBadRequest, "body: unexpected data after the JSON object"}
		}
		return nil
	}
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		return &badRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", mbe.Limit)}
	case errors.Is(err, io.EOF):
		return &badRequest{http.StatusBadRequest, "body: empty, want a JSON object"}
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			field = "body"
		}
		return fieldErr(field, "want %s, got JSON %s", ute.Type, ute.Value)
	case errors.As(err, &se):
		return &badRequest{http.StatusBadRequest, fmt.Sprintf("body: malformed JSON at byte %d: %v", se.Offset, se)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return &badRequest{http.StatusBadRequest, "field " + name + ": unknown field"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{http.StatusBadRequest, "body: truncated JSON"}
	}
	var inner *badRequest
	if errors.As(err, &inner) {
		return inner
	}
	return &badRequest{http.StatusBadRequest, "body: " + err.Error()}
}

// fail writes err: client errors with their message, Site sentinels with
// their status, anything else as 500 with the detail logged, not shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		writeError(w, br.status, br.msg)
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case isNotFound(err):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		s.cfg.Logger.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the controller log")
	}
}
