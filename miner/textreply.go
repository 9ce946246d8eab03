package miner

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// cgminer answers a plain-text request (`summary`, `pools|0`) in its text
// format rather than JSON on real builds:
//
//	STATUS=S,When=1700000000,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=86400,MHS av=…|
//	STATUS=S,…|POOL=0,URL=stratum+tcp://…,Status=Alive,…|POOL=1,…|
//
// Records are separated by '|', fields by ',', keys from values by '=';
// a backslash escapes any of those. A record's first field names its
// section: a bare name (SUMMARY) or name=index (POOL=0), whose JSON section
// is the plural (POOLS; ASC, PGA and GPU entries are DEVS).

// isTextReply reports whether raw is in the text format.
func isTextReply(raw []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("STATUS="))
}

var textSections = map[string]string{"POOL": "POOLS", "ASC": "DEVS", "PGA": "DEVS", "GPU": "DEVS", "STATS": "STATS"}

// parseTextReply turns a text-format reply into the JSON reply's shape, all
// values as strings.
func parseTextReply(raw []byte) (map[string]any, error) {
	s := strings.TrimRight(string(raw), "\x00 \t\r\n")
	out := map[string]any{}
	for i, rec := range splitEscaped(s, '|') {
		fields := splitEscaped(rec, ',')
		if len(fields) == 0 || (len(fields) == 1 && fields[0] == "") {
			continue
		}
		obj := map[string]any{}
		section := ""
		for j, f := range fields {
			k, v, hasEq := cutEscaped(f)
			if j == 0 {
				switch {
				case i == 0:
					if k != "STATUS" || !hasEq {
						return nil, errors.New("text reply does not start with STATUS")
					}
					section = "STATUS"
				case !hasEq:
					section = k
					continue
				default:
					section = textSections[k]
					if section == "" {
						section = k + "S"
					}
				}
			}
			if !hasEq {
				continue
			}
			obj[k] = v
		}
		if i == 0 && section != "STATUS" {
			return nil, errors.New("text reply does not start with STATUS")
		}
		list, _ := out[section].([]any)
		out[section] = append(list, obj)
	}
	if _, ok := out["STATUS"]; !ok {
		return nil, errors.New("text reply has no STATUS")
	}
	return out, nil
}

// splitEscaped splits s at sep, honouring backslash escapes (which it
// keeps, for cutEscaped to remove).
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// cutEscaped splits a field at its first unescaped '=' and unescapes both
// halves.
func cutEscaped(f string) (key, val string, ok bool) {
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '\\':
			i++
		case '=':
			return unescape(f[:i]), unescape(f[i+1:]), true
		}
	}
	return unescape(f), "", false
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isTextJoin reports whether raw is cgminer's text reply to a plain
// multi-command request (`summary+devs`): each command's reply preceded by
// a `CMD=name|` record.
func isTextJoin(raw []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("CMD="))
}

// parseTextJoin turns a text multi-command reply into the JSON join's
// shape, {"summary":[{STATUS...,SUMMARY...}],"devs":[{...}]}, so one code
// path reads both.
func parseTextJoin(raw []byte) (map[string]any, error) {
	s := strings.TrimLeft(strings.TrimRight(string(raw), "\x00 \t\r\n"), " \t\r\n")
	out := map[string]any{}
	cmd := ""
	var part []string
	flush := func() error {
		if cmd == "" {
			return nil
		}
		if len(part) == 0 {
			return fmt.Errorf("text reply has no records for %q", cmd)
		}
		body, err := parseTextReply([]byte(strings.Join(part, "|")))
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		out[cmd] = []any{body}
		return nil
	}
	for _, rec := range splitEscaped(s, '|') {
		if k, v, ok := cutEscaped(rec); ok && k == "CMD" && len(splitEscaped(rec, ',')) == 1 {
			if err := flush(); err != nil {
				return nil, err
			}
			if v == "" {
				return nil, errors.New("text reply has an empty CMD record")
			}
			cmd, part = v, nil
			continue
		}
		if cmd == "" {
			return nil, errors.New("text multi-command reply does not start with CMD=")
		}
		part = append(part, rec)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("text multi-command reply is empty")
	}
	return out, nil
}
