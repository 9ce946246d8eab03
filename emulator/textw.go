package emulator

// cgminer's plain-text reply format, which real cgminer and bmminer send
// when the request was plain text (`summary`, `pools|0`) rather than JSON:
//
//	STATUS=S,When=1767225600,Code=11,Msg=Summary,Description=bmminer 1.0.0|SUMMARY,Elapsed=1800,GHS 5s=104012.35,...|
//
// One record per reply object, each ended by '|'; fields "key=value"
// joined by ','. A record of a single-object section (SUMMARY, VERSION,
// CONFIG) starts with the bare section name; entries of a list start with
// their own numbering field (ASC=0, POOL=1, STATS=0), and the STATUS record
// with STATUS=. Values are written bare; cgminer escapes ',', '|', '=' and
// '\' in them with a backslash. Fields of nested objects, and the trailing
// "id", exist only in JSON.

// textNumbered are the sections whose entries carry their own numbering
// field, so their records have no section-name prefix.
var textNumbered = map[string]bool{"STATUS": true, "DEVS": true, "EDEVS": true, "POOLS": true, "STATS": true}

// textKey remembers the name of the array about to open.
func (w *jw) textKey(k string) {
	if w.depth == 1 {
		w.section = k
	}
}

// textOpen: depth 1 is the reply object, 2 a section's array, 3 a record.
func (w *jw) textOpen(byte) {
	w.depth++
	if w.depth != 3 {
		return
	}
	w.fields = 0
	if !textNumbered[w.section] {
		w.b = appendTextEscaped(w.b, w.section)
		w.fields = 1
	}
}

func (w *jw) textClose(byte) {
	if w.depth == 3 {
		w.b = append(w.b, '|')
	}
	w.depth--
}

// textField writes one key=value of the current record; anything outside a
// record (the trailing "id", nested objects) has no text form.
func (w *jw) textField(k, v string, escape bool) {
	if w.depth != 3 {
		return
	}
	if w.fields > 0 {
		w.b = append(w.b, ',')
	}
	w.fields++
	w.b = appendTextEscaped(w.b, k)
	w.b = append(w.b, '=')
	if escape {
		w.b = appendTextEscaped(w.b, v)
	} else {
		w.b = append(w.b, v...)
	}
}

// appendTextEscaped writes s with cgminer's text escapes; bytes outside
// printable ASCII become '?', as in JSON replies.
func appendTextEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '|' || c == '=' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '?')
		default:
			b = append(b, c)
		}
	}
	return b
}
