package emulator

import (
	"math"
	"strconv"
)

// jw writes JSON with keys in the order firmware writes them (maps would
// sort them) and lets dialects reproduce their quirks (a missing comma
// between objects, numbers as strings). Only ASCII keys are written.
//
// With text set it writes the same reply in cgminer's plain-text format
// instead (see textw.go): dialect code is written once for both.
type jw struct {
	b    []byte
	need bool // a comma is due before the next key or element

	text    bool   // cgminer text format
	depth   int    // text: nesting of open objects and arrays
	section string // text: name of the array being written
	fields  int    // text: fields written in the current record
}

func (w *jw) sep() {
	if w.need {
		w.b = append(w.b, ',')
	}
	w.need = false
}

// open starts an object or array, as an element or after a key.
func (w *jw) open(c byte) *jw {
	if w.text {
		w.textOpen(c)
		return w
	}
	w.sep()
	w.b = append(w.b, c)
	return w
}

func (w *jw) close(c byte) *jw {
	if w.text {
		w.textClose(c)
		return w
	}
	w.b = append(w.b, c)
	w.need = true
	return w
}

// noComma drops the comma due before the next element: bmminer's `}{`.
func (w *jw) noComma() *jw { w.need = false; return w }

func (w *jw) key(k string) *jw {
	w.sep()
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
	return w
}

// obj opens an object under key k.
func (w *jw) obj(k string) *jw {
	if w.text {
		w.textKey(k)
		return w.open('{')
	}
	return w.key(k).open('{')
}

// arr opens an array under key k.
func (w *jw) arr(k string) *jw {
	if w.text {
		w.textKey(k)
		return w.open('[')
	}
	return w.key(k).open('[')
}

func (w *jw) str(k, v string) *jw {
	if w.text {
		w.textField(k, v, true)
		return w
	}
	w.key(k)
	w.b = appendString(w.b, v)
	w.need = true
	return w
}

func (w *jw) int(k string, v int64) *jw {
	if w.text {
		w.textField(k, strconv.FormatInt(v, 10), false)
		return w
	}
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.need = true
	return w
}

// num writes a float with prec decimals (NaN and ±Inf as 0: the quirk
// writers below emit bare inf/nan deliberately, never by accident).
func (w *jw) num(k string, v float64, prec int) *jw {
	if w.text {
		w.textField(k, string(appendFloat(nil, v, prec)), false)
		return w
	}
	w.key(k)
	w.b = appendFloat(w.b, v, prec)
	w.need = true
	return w
}

// numStr writes a number as a JSON string, as bmminer does for some keys
// (in text, where every value is bare, a plain number).
func (w *jw) numStr(k string, v float64, prec int) *jw {
	if w.text {
		return w.num(k, v, prec)
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendFloat(w.b, v, prec)
	w.b = append(w.b, '"')
	w.need = true
	return w
}

func (w *jw) bool(k string, v bool) *jw {
	if w.text {
		w.textField(k, strconv.FormatBool(v), false)
		return w
	}
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.need = true
	return w
}

// raw writes pre-formed JSON text under key k.
func (w *jw) raw(k, v string) *jw {
	if w.text {
		w.textField(k, v, true)
		return w
	}
	w.key(k)
	w.b = append(w.b, v...)
	w.need = true
	return w
}

func appendFloat(b []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// appendString quotes s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c >= 0x7f:
			b = append(b, '?') // echoed input may not be UTF-8
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
