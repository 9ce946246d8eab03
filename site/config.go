package site

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	_ "time/tzdata" // sites name IANA zones; do not depend on the host's zoneinfo
)

// ConfigError is a site config that could not be used. Line is 0 when the
// problem is not tied to one line.
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// ConfigErrors is every problem found in one config file.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads and validates a site config file.
func Load(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("site config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a site config. name is used in errors. Unknown
// keys are errors, so a misspelt key never silently falls back to a default.
func Parse(name string, data []byte) (*Site, error) {
	var s Site
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, YAMLError(name, &root, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: name, Msg: "empty config"}
		}
		return nil, YAMLError(name, &root, err)
	}
	ps := s.Problems()
	if len(ps) == 0 {
		return &s, nil
	}
	es := make(ConfigErrors, len(ps))
	for i, p := range ps {
		es[i] = &ConfigError{File: name, Line: LineOf(&root, p.Path), Field: p.Path, Msg: p.Msg}
	}
	return nil, es
}

// YAMLError turns the decoder's "yaml: line 3: ..." messages into
// ConfigErrors carrying the line and, where root locates it, the field. Other
// config files built on this package's error types (the serve config) use it
// too.
func YAMLError(name string, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		es := make(ConfigErrors, 0, len(te.Errors))
		for _, m := range te.Errors {
			es = append(es, withField(lineMsg(name, m), root))
		}
		return es
	}
	return lineMsg(name, strings.TrimPrefix(err.Error(), "yaml: "))
}

// withField names the key a decoder message is about and says it in the
// config's terms rather than Go's: "field x not found in type site.Tier"
// becomes "tiers[0].x: unknown key".
func withField(e *ConfigError, root *yaml.Node) *ConfigError {
	if e.Line == 0 {
		return e
	}
	e.Field = pathAt(root, e.Line, "")
	if rest, ok := strings.CutPrefix(e.Msg, "field "); ok {
		if key, _, ok := strings.Cut(rest, " not found in type "); ok {
			e.Msg = "unknown key"
			if e.Field == "" {
				e.Field = key
			}
		}
	} else if rest, ok := strings.CutPrefix(e.Msg, "cannot unmarshal "); ok {
		// "!!str `abc` into float64" → "want a number, got \"abc\"".
		if got, want, ok := strings.Cut(rest, " into "); ok {
			if _, v, ok := strings.Cut(got, "`"); ok {
				got = strconv.Quote(strings.TrimSuffix(v, "`"))
			}
			e.Msg = "want " + goTypeWord(want) + ", got " + got
		}
	}
	return e
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case t == "time.Duration":
		return "a duration such as 5m"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a " + t
}

// pathAt returns the dotted path ("tiers[1].profiles[0].w") of the key or
// value on line, or "" if none is there.
func pathAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, prefix); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if sub := pathAt(v, line, p); sub != "" {
				return sub
			}
			if k.Line == line {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if sub := pathAt(c, line, p); sub != "" {
				return sub
			}
			if c.Line == line && c.Kind == yaml.ScalarNode {
				return p
			}
		}
	}
	return ""
}

func lineMsg(name, m string) *ConfigError {
	e := &ConfigError{File: name, Msg: m}
	if rest, ok := strings.CutPrefix(m, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line, e.Msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return e
}

// LineOf finds the line of a path such as "tiers[2].profiles[0].w" in the
// document; it falls back to the deepest node found.
func LineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
