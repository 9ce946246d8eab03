package market

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// table reads a CSV file row by row and finds columns by normalised name,
// so "Delivery Date", "DeliveryDate" and "delivery_date" are one column.
type table struct {
	file   string
	r      *csv.Reader
	header []string       // as written, for error messages
	index  map[string]int // normalised name -> column
	line   int            // line of the row last returned
}

// normName lower-cases a header and drops everything but letters and digits.
func normName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return b.String()
}

func newTable(r io.Reader, file string) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: file, Line: 1, Err: errors.New("empty file, want a CSV header")}
	}
	if err != nil {
		return nil, csvErr(file, err)
	}
	t := &table{file: file, r: cr, index: make(map[string]int, len(hdr))}
	t.header = make([]string, len(hdr))
	for i, h := range hdr {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		t.header[i] = h
		n := normName(h)
		if _, dup := t.index[n]; dup && n != "" {
			return nil, &ParseError{File: file, Line: 1, Field: h, Err: errors.New("column appears twice in the header")}
		}
		t.index[n] = i
	}
	return t, nil
}

// col returns the index of the first of names present, or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.index[n]; ok {
			return i
		}
	}
	return -1
}

// next returns the next non-empty row, or io.EOF.
func (t *table) next() ([]string, error) {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, csvErr(t.file, err)
		}
		t.line, _ = t.r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		return rec, nil
	}
}

// field returns column i of rec, trimmed, or an error naming the missing field.
func (t *table) field(rec []string, i int) (string, error) {
	if i >= len(rec) {
		return "", t.errf(i, "", "row has %d fields, want at least %d", len(rec), i+1)
	}
	return strings.TrimSpace(rec[i]), nil
}

func (t *table) errf(i int, value, format string, args ...any) error {
	name := ""
	if i >= 0 && i < len(t.header) {
		name = t.header[i]
	}
	return &ParseError{File: t.file, Line: t.line, Field: name, Value: value, Err: fmt.Errorf(format, args...)}
}

func (t *table) headerList() string { return strings.Join(t.header, ", ") }

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: file, Line: pe.Line, Err: fmt.Errorf("column %d: %w", pe.Column, pe.Err)}
	}
	return &ParseError{File: file, Err: err}
}
