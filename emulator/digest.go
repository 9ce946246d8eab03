package emulator

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// The stock Antminer web interface uses HTTP Digest authentication (RFC
// 7616, MD5, qop=auth) under this realm, user root.
const (
	digestRealm = "antMiner Configuration"
	digestUser  = "root"
	maxNonces   = 64 // outstanding nonces kept per miner
)

// Digest verification failures; errStaleNonce asks the client to retry
// with a fresh nonce (stale=true in the challenge).
var (
	errNoAuth      = errors.New("no digest credentials")
	errBadAuth     = errors.New("malformed digest credentials")
	errStaleNonce  = errors.New("unknown or expired nonce")
	errReplay      = errors.New("nonce count not increasing (replay)")
	errWrongDigest = errors.New("wrong user or password")
)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// newNonce issues a nonce the miner will accept; n.mu must be held.
func (n *node) newNonce() string {
	if len(n.nonces) >= maxNonces {
		clear(n.nonces)
	}
	nonce := randHex(n.rng, 32)
	n.nonces[nonce] = 0
	return nonce
}

// challenge is the WWW-Authenticate value for a fresh nonce.
func (n *node) challenge(stale bool) string {
	s := `Digest realm="` + digestRealm + `", qop="auth", algorithm=MD5, nonce="` + n.newNonce() + `", opaque="` + md5hex(n.info.Serial) + `"`
	if stale {
		s += ", stale=true"
	}
	return s
}

// parseDigest splits the parameters of an Authorization: Digest header,
// honouring quoted strings (which may contain commas).
func parseDigest(h string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		return nil, errNoAuth
	}
	out := map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, errBadAuth
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					i++
					b.WriteByte(rest[i])
					continue
				}
				if c == '"' {
					break
				}
				b.WriteByte(c)
			}
			if i >= len(rest) {
				return nil, errBadAuth
			}
			val, rest = b.String(), rest[i+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		out[key] = val
	}
	return out, nil
}

// verifyDigest checks an Authorization header for method and request URI
// against password, tracking nonce counts so a captured header cannot be
// replayed; n.mu must be held.
func (n *node) verifyDigest(header, method, uri, password string) error {
	if header == "" {
		return errNoAuth
	}
	p, err := parseDigest(header)
	if err != nil {
		return err
	}
	nonce := p["nonce"]
	last, known := n.nonces[nonce]
	if !known {
		return errStaleNonce
	}
	if p["username"] != digestUser || p["realm"] != digestRealm {
		return errWrongDigest
	}
	if p["uri"] != uri {
		return errBadAuth
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return errBadAuth
	}
	ha1 := md5hex(digestUser + ":" + digestRealm + ":" + password)
	ha2 := md5hex(method + ":" + uri)
	var want string
	switch p["qop"] {
	case "auth":
		nc, err := strconv.ParseUint(p["nc"], 16, 64)
		if err != nil || p["cnonce"] == "" {
			return errBadAuth
		}
		if nc <= last {
			return errReplay
		}
		want = md5hex(ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
			return errWrongDigest
		}
		n.nonces[nonce] = nc
		return nil
	case "":
		// RFC 2069 compatibility: no qop, no nonce count; one use per nonce.
		want = md5hex(ha1 + ":" + nonce + ":" + ha2)
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
			return errWrongDigest
		}
		delete(n.nonces, nonce)
		return nil
	}
	return errBadAuth
}
