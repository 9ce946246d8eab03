package miner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Damage records what Repair had to fix, so that callers can tell a known
// firmware quirk from a reply cut off mid-stream.
type Damage struct {
	// Fixes counts syntax repairs: inserted or dropped commas, replaced
	// inf/nan literals, quoted bare words, escaped control characters.
	Fixes int
	// Truncated is set when the input ended inside an open object or array.
	Truncated bool
	// OpenAtEOF is how many containers were still open at the end.
	OpenAtEOF int
	// CutMidValue is set when the input ended inside a string, after a key,
	// after a colon, or after a comma: the last value itself is incomplete.
	CutMidValue bool
}

// Benign reports whether the damage is at most the quirk seen on real
// bmminer builds: everything present except the top-level closing brace
// (output ending in `"id":0`). Anything deeper means a half-written reply.
func (d Damage) Benign() bool {
	return !d.Truncated || (d.OpenAtEOF == 1 && !d.CutMidValue)
}

// container states for the repair state machine.
const (
	stKey      = iota // object: expecting a key or '}'
	stColon           // object: key read, expecting ':'
	stValue           // expecting a value (array element, or after ':')
	stCommaEnd        // a value was read, expecting ',' or the closer
)

type frame struct {
	obj   bool
	state int
}

// Repair rewrites the JSON-like text cgminer-family firmware emits into valid
// JSON. It drops NUL bytes, inserts missing commas (`}{`, `""`), drops
// stray ones (`[,{`, `,,`, `,}`), turns inf/nan into null, quotes bare words,
// escapes raw control characters in strings, ignores anything after the
// first complete top-level value, and closes whatever is still open at the
// end. It never panics; it fails only when no JSON value starts in the input
// or the structure cannot be mapped to JSON (a container where a key must be).
func Repair(in []byte) ([]byte, Damage, error) {
	var (
		out   = make([]byte, 0, len(in)+16)
		stack []frame
		dmg   Damage
		// pendingComma is emitted only when another element follows, so a
		// trailing comma before a closer simply disappears.
		pendingComma bool
		started      bool
	)
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return &stack[len(stack)-1]
	}
	// beginValue prepares the output for a new value or key and reports
	// whether one is allowed here.
	beginValue := func(isKeyCandidate bool) (asKey bool, err error) {
		f := top()
		if f == nil {
			return false, nil
		}
		switch f.state {
		case stCommaEnd:
			out = append(out, ',')
			dmg.Fixes++
			pendingComma = false
			if f.obj {
				f.state = stKey
			} else {
				f.state = stValue
			}
		case stColon:
			// `{"a" 1}`: a value where the colon should be.
			out = append(out, ':')
			dmg.Fixes++
			f.state = stValue
		}
		if pendingComma {
			out = append(out, ',')
			pendingComma = false
		}
		if f.state == stKey {
			if !isKeyCandidate {
				return false, errors.New("object key expected")
			}
			return true, nil
		}
		return false, nil
	}
	endValue := func() {
		if f := top(); f != nil {
			f.state = stCommaEnd
		}
	}
	i := 0
	for i < len(in) {
		if started && len(stack) == 0 {
			break // first top-level value complete; ignore trailing bytes
		}
		c := in[i]
		switch {
		case c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '{' || c == '[':
			if _, err := beginValue(false); err != nil {
				return nil, dmg, fmt.Errorf("offset %d: %c where %w", i, c, err)
			}
			out = append(out, c)
			f := frame{obj: c == '{', state: stValue}
			if f.obj {
				f.state = stKey
			}
			stack = append(stack, f)
			started = true
			i++
		case c == '}' || c == ']':
			i++
			// Close up to the nearest container this closer matches,
			// closing any left open inside it (`{"a":[{"b":1]}` lost a
			// brace); a closer that matches nothing open is dropped.
			want := c == '}'
			k := len(stack) - 1
			for k >= 0 && stack[k].obj != want {
				k--
			}
			if k < 0 {
				dmg.Fixes++
				continue
			}
			for len(stack) > k {
				f := top()
				pendingComma = false
				if f.obj && f.state == stColon {
					out = append(out, ':', 'n', 'u', 'l', 'l')
					dmg.Fixes++
				} else if f.obj && f.state == stValue {
					out = append(out, 'n', 'u', 'l', 'l')
					dmg.Fixes++
				}
				closer := byte(']')
				if f.obj {
					closer = '}'
				}
				if len(stack)-1 != k {
					dmg.Fixes++
				}
				out = append(out, closer)
				stack = stack[:len(stack)-1]
				endValue()
			}
		case c == ',':
			f := top()
			i++
			if f == nil {
				dmg.Fixes++
				continue
			}
			switch f.state {
			case stCommaEnd:
				pendingComma = true
				if f.obj {
					f.state = stKey
				} else {
					f.state = stValue
				}
			case stColon:
				out = append(out, ':', 'n', 'u', 'l', 'l')
				dmg.Fixes++
				pendingComma = true
				f.state = stKey
			case stValue:
				if f.obj {
					// `{"a":,` — missing value.
					out = append(out, 'n', 'u', 'l', 'l')
					pendingComma = true
					f.state = stKey
				}
				dmg.Fixes++ // `[,` or `,,` or `:,`
			default:
				dmg.Fixes++ // `{,`
			}
		case c == ':':
			i++
			if f := top(); f != nil && f.obj && f.state == stColon {
				out = append(out, ':')
				f.state = stValue
			} else {
				dmg.Fixes++
			}
		case c == '"':
			asKey, err := beginValue(true)
			if err != nil {
				return nil, dmg, fmt.Errorf("offset %d: %w", i, err)
			}
			n, closed := copyString(&out, in[i:], &dmg)
			i += n
			started = true
			if !closed {
				dmg.CutMidValue = true
				if asKey {
					out = append(out, ':', 'n', 'u', 'l', 'l')
				}
				endValue()
				break
			}
			if asKey {
				top().state = stColon
			} else {
				endValue()
			}
		default:
			j := i
			for j < len(in) && !isDelim(in[j]) {
				j++
			}
			word := in[i:j]
			asKey, err := beginValue(true)
			if err != nil {
				return nil, dmg, fmt.Errorf("offset %d: %w", i, err)
			}
			started = true
			if asKey {
				out = appendQuoted(out, string(word))
				dmg.Fixes++
				top().state = stColon
			} else {
				out = appendWord(out, word, &dmg)
				endValue()
			}
			i = j
		}
	}
	if !started {
		return nil, dmg, errors.New("no JSON value in reply")
	}
	if len(stack) > 0 {
		dmg.Truncated = true
		dmg.OpenAtEOF = len(stack)
		f := top()
		switch {
		case f.obj && f.state == stColon:
			out = append(out, ':', 'n', 'u', 'l', 'l')
			dmg.CutMidValue = true
		case f.obj && f.state == stValue:
			out = append(out, 'n', 'u', 'l', 'l')
			dmg.CutMidValue = true
		case pendingComma:
			dmg.CutMidValue = true
		}
		for k := len(stack) - 1; k >= 0; k-- {
			if stack[k].obj {
				out = append(out, '}')
			} else {
				out = append(out, ']')
			}
		}
	}
	return out, dmg, nil
}

func isDelim(c byte) bool {
	switch c {
	case 0, ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

// copyString copies the string starting at s[0]=='"' into out, escaping raw
// control bytes and invalid escapes. It returns the bytes consumed and
// whether the closing quote was found.
func copyString(out *[]byte, s []byte, dmg *Damage) (int, bool) {
	o := append(*out, '"')
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			*out = append(o, '"')
			return i + 1, true
		case c == '\\':
			if i+1 >= len(s) {
				o = append(o, '\\', '\\')
				i++
				continue
			}
			e := s[i+1]
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				o = append(o, '\\', e)
				i += 2
			case 'u':
				if i+6 <= len(s) && isHex4(s[i+2:i+6]) {
					o = append(o, s[i:i+6]...)
					i += 6
				} else {
					o = append(o, '\\', '\\')
					dmg.Fixes++
					i++
				}
			default:
				o = append(o, '\\', '\\')
				dmg.Fixes++
				i++
			}
		case c < 0x20:
			o = append(o, fmt.Sprintf(`\u%04x`, c)...)
			dmg.Fixes++
			i++
		default:
			o = append(o, c)
			i++
		}
	}
	*out = append(o, '"')
	return i, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// appendWord writes a bare token as valid JSON: literals and numbers as they
// are, inf/nan as null (a reading that cannot be trusted is a missing one),
// other numeric spellings canonicalised, anything else as a string.
func appendWord(out, word []byte, dmg *Damage) []byte {
	w := string(word)
	switch w {
	case "true", "false", "null":
		return append(out, w...)
	}
	switch strings.ToLower(strings.TrimLeft(w, "+-")) {
	case "inf", "infinity", "nan":
		dmg.Fixes++
		return append(out, "null"...)
	}
	if json.Valid(word) && (word[0] == '-' || word[0] >= '0' && word[0] <= '9') {
		return append(out, word...)
	}
	dmg.Fixes++
	if f, err := strconv.ParseFloat(w, 64); err == nil && !isNaNOrInf(f) {
		return strconv.AppendFloat(out, f, 'g', -1, 64)
	}
	return appendQuoted(out, w)
}

func isNaNOrInf(f float64) bool {
	return f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308
}

// Decode repairs in and decodes it into generic JSON values, numbers kept as
// json.Number so that large counters lose no precision.
func Decode(in []byte) (map[string]any, Damage, error) {
	var dmg Damage
	// Most replies need nothing but the trailing NUL dropped; parsing them
	// as they are is cheaper than rewriting them first.
	v, err := parseJSON(bytes.TrimRight(in, "\x00 \t\r\n"))
	if err != nil {
		var fixed []byte
		if fixed, dmg, err = Repair(in); err != nil {
			return nil, dmg, err
		}
		if v, err = parseJSON(fixed); err != nil {
			return nil, dmg, fmt.Errorf("decode repaired reply: %w", err)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, dmg, fmt.Errorf("reply is a JSON %s, want an object", kindOf(v))
	}
	return m, dmg, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// appendQuoted writes s as a JSON string (invalid UTF-8 becomes U+FFFD).
func appendQuoted(out []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(out, b...)
}
