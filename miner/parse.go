package miner

import (
	"encoding/json"
	"errors"
	"fmt"
)

// parseJSON decodes strictly valid JSON into the values encoding/json
// produces with UseNumber (map[string]any, []any, string, json.Number,
// bool, nil). A fleet sweep decodes tens of thousands of replies; this
// single pass is several times cheaper than encoding/json's generic
// decoding. Strings with escapes or non-ASCII bytes go through
// encoding/json so that both agree exactly; FuzzDecode checks they do.
// Any syntax error fails, and trailing bytes other than whitespace too.
func parseJSON(b []byte) (any, error) {
	p := jsonParser{b: b}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("offset %d: data after the value", p.i)
	}
	return v, nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

var errSyntax = errors.New("invalid JSON")

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) fail() error { return fmt.Errorf("offset %d: %w", p.i, errSyntax) }

func (p *jsonParser) value(depth int) (any, error) {
	if p.i >= len(p.b) {
		return nil, p.fail()
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("offset %d: nesting deeper than %d", p.i, maxDepth)
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, p.fail()
}

func (p *jsonParser) lit(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return p.fail()
	}
	p.i += len(s)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail()
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail()
		}
		p.i++
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		end, err := p.sep('}')
		if err != nil {
			return nil, err
		}
		if end {
			return m, nil
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		end, err := p.sep(']')
		if err != nil {
			return nil, err
		}
		if end {
			return a, nil
		}
	}
}

// sep consumes the separator after a member of an object or array: a comma
// (more follow) or the closing byte (end reports true).
func (p *jsonParser) sep(closing byte) (end bool, err error) {
	p.ws()
	if p.i >= len(p.b) {
		return false, p.fail()
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, p.fail()
}

// str reads a string. Plain ASCII is copied directly; anything else is
// handed to encoding/json for escapes, surrogates and UTF-8 repair.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	simple := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if simple {
				return string(p.b[start+1 : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", fmt.Errorf("offset %d: %w", start, errSyntax)
			}
			return s, nil
		case c == '\\':
			simple = false
			p.i += 2
		case c < 0x20:
			return "", p.fail()
		case c >= 0x80:
			simple = false
			p.i++
		default:
			p.i++
		}
	}
	return "", p.fail()
}

// number checks the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.fail()
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.fail()
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.fail()
		}
	}
	return json.Number(p.b[start:p.i]), nil
}
