package market

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrFormat means the header matched none of the accepted layouts.
	ErrFormat = errors.New("unrecognised file layout")
	// ErrMultiplePoints means the file holds several settlement points and
	// no filter was given; the message lists them.
	ErrMultiplePoints = errors.New("file holds several settlement points")
	// ErrUnknownPoint means the requested settlement point is not in the
	// file; the message lists the ones that are.
	ErrUnknownPoint = errors.New("settlement point not in file")
	// ErrGap means a run of missing intervals is longer than the allowed
	// fill (see ReadOptions.MaxGap).
	ErrGap = errors.New("gap longer than the fill limit")
	// ErrDuplicate means two rows give different values for one interval.
	ErrDuplicate = errors.New("conflicting rows for one interval")
	// ErrNoData means the input held a header but no data rows.
	ErrNoData = errors.New("no data rows")
)

// ParseError reports bad input at a place in a file. Line is 1-based (0 when
// the problem is not tied to one line) and Field is the column name as
// written in the header (empty when the problem concerns the whole row).
type ParseError struct {
	File  string
	Line  int
	Field string
	Value string
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " field %q", e.Field)
	}
	if e.Value != "" {
		v := e.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		fmt.Fprintf(&b, " value %q", v)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }
