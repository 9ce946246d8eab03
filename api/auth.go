package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// Role orders what a token may do: viewer < operator < admin.
type Role int

// Roles. RoleNone grants nothing.
const (
	RoleNone Role = iota
	Viewer
	Operator
	Admin
)

func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role name from config.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return Viewer, nil
	case "operator":
		return Operator, nil
	case "admin":
		return Admin, nil
	}
	return RoleNone, fmt.Errorf("role %q: want viewer, operator or admin", s)
}

// Token is a bearer token from config. Name identifies its holder in the
// audit log; Secret is what clients send.
type Token struct {
	Name   string
	Secret string
	Role   Role
}

// MinSecretLen is the shortest secret accepted: 128 bits as hex.
const MinSecretLen = 32

type principal struct {
	name string
	role Role
}

type ctxKey struct{}

// actor returns the authenticated caller's name for audit.
func actor(ctx context.Context) string {
	if p, ok := ctx.Value(ctxKey{}).(principal); ok {
		return "api:" + p.name
	}
	return "api:unknown"
}

type tokenSet struct {
	hashes [][32]byte
	tokens []Token
	public Role
}

func newTokenSet(tokens []Token, public Role) (*tokenSet, error) {
	ts := &tokenSet{public: public}
	names := map[string]bool{}
	for i, t := range tokens {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("api: token %d: name is empty", i)
		case names[t.Name]:
			return nil, fmt.Errorf("api: token %q: name used twice", t.Name)
		case len(t.Secret) < MinSecretLen:
			return nil, fmt.Errorf("api: token %q: secret has %d characters, want at least %d", t.Name, len(t.Secret), MinSecretLen)
		case t.Role < Viewer || t.Role > Admin:
			return nil, fmt.Errorf("api: token %q: role %d: want viewer, operator or admin", t.Name, t.Role)
		}
		names[t.Name] = true
		ts.hashes = append(ts.hashes, sha256.Sum256([]byte(t.Secret)))
		ts.tokens = append(ts.tokens, t)
	}
	return ts, nil
}

// lookup compares the presented secret with every token in constant time
// (hashing first, so neither the secret's length nor which token matched
// leaks through timing).
func (ts *tokenSet) lookup(secret string) (principal, bool) {
	h := sha256.Sum256([]byte(secret))
	found := -1
	for i := range ts.hashes {
		if subtle.ConstantTimeCompare(h[:], ts.hashes[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return principal{}, false
	}
	return principal{name: ts.tokens[found].Name, role: ts.tokens[found].Role}, true
}

// require wraps h so only callers with at least role reach it.
func (s *Server) require(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		var p principal
		switch {
		case authz == "":
			if s.tokens.public < role {
				w.Header().Set("WWW-Authenticate", `Bearer realm="joule"`)
				writeError(w, http.StatusUnauthorized, "missing bearer token")
				return
			}
			p = principal{name: "anonymous", role: s.tokens.public}
		default:
			scheme, secret, ok := strings.Cut(authz, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				w.Header().Set("WWW-Authenticate", `Bearer realm="joule", error="invalid_request"`)
				writeError(w, http.StatusUnauthorized, "Authorization header: want \"Bearer <token>\"")
				return
			}
			var found bool
			if p, found = s.tokens.lookup(strings.TrimSpace(secret)); !found {
				w.Header().Set("WWW-Authenticate", `Bearer realm="joule", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "unknown bearer token")
				return
			}
		}
		if p.role < role {
			w.Header().Set("WWW-Authenticate", `Bearer realm="joule", error="insufficient_scope"`)
			writeError(w, http.StatusForbidden, fmt.Sprintf("role %s may not do this; it needs %s", p.role, role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}
