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
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: name, Msg: "empty config"}
		}
		return nil, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	ps := s.Problems()
	if len(ps) == 0 {
		return &s, nil
	}
	es := make(ConfigErrors, len(ps))
	for i, p := range ps {
		es[i] = &ConfigError{File: name, Line: lineOf(&root, p.Path), Field: p.Path, Msg: p.Msg}
	}
	return nil, es
}

// yamlError turns the decoder's "yaml: line 3: ..." messages into
// ConfigErrors carrying the line.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		es := make(ConfigErrors, 0, len(te.Errors))
		for _, m := range te.Errors {
			es = append(es, lineMsg(name, m))
		}
		return es
	}
	return lineMsg(name, strings.TrimPrefix(err.Error(), "yaml: "))
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

// lineOf finds the line of a path such as "tiers[2].profiles[0].w" in the
// document; it falls back to the deepest node found.
func lineOf(root *yaml.Node, path string) int {
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
