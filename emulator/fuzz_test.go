package emulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func fuzzFleet(t testing.TB) *Fleet {
	f, err := NewFleet(Config{Count: 4, Mix: "s19jpro:stock=1,s19xp:luxos=1,s19jpro:braiins=1,m50s:whatsminer=1", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// FuzzCGMinerRequest feeds any bytes to every dialect's 4028 request
// handler: no panic, and the reply is JSON once bmminer's `}{` and the NUL
// are accounted for, or, for a plain request to bmminer, well-formed text:
// a STATUS record first, every record ended by '|', every field key=value.
func FuzzCGMinerRequest(f *testing.F) {
	for _, s := range []string{
		"summary", "stats", "version|", "devs\x00", "summary\n", "pools|0", "logon", "curtail|abc,sleep",
		"profileset|abc,0,-2", "atmset|x,enabled=false", "pause", "tunerstatus",
		`{"command":"summary","parameter":""}`, `{"command":"summary+devs+stats"}`, `{"command":"curtail","parameter":"x,wakeup,mode=safe"}`,
		`{"command":5}`, `{"command":"a","parameter":{"x":[1,2]}}`, `{`, `}`, "", "\x00", "a|b|c", "\xff\xfe", `{"command":"\u0000"}`,
		"profileget|99", "ledset|s,red,blink", "summary+devs", "summary+nosuch+pools|0", "+", "version+",
	} {
		f.Add([]byte(s))
	}
	fl := fuzzFleet(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := parseCGRequest(raw); err != nil && err != errEmptyRequest && err != errInvalidJSON && err != errMissingCmd {
			t.Fatalf("parseCGRequest error %v is not one of the documented ones", err)
		}
		_ = requestComplete(raw)
		req, _ := parseCGRequest(raw)
		for _, n := range fl.nodes {
			out := n.cgReply(raw)
			if n.dialect().text() && !req.JSON {
				if err := checkText(out); err != nil {
					t.Fatalf("%s text reply to %q: %v: %q", n.info.Firmware, raw, err, out)
				}
				continue
			}
			out = bytes.TrimRight(out, "\x00")
			out = bytes.ReplaceAll(out, []byte("}{"), []byte("},{"))
			for _, q := range [][2]string{{"[,", "["}, {",,", ","}, {",]", "]"}, {":inf", ":null"}} {
				out = bytes.ReplaceAll(out, []byte(q[0]), []byte(q[1]))
			}
			if !json.Valid(out) {
				t.Fatalf("%s reply to %q is not JSON: %s", n.info.Firmware, raw, out)
			}
		}
	})
}

// checkText checks a cgminer text reply's grammar; a multi-command reply
// is a CMD=<cmd> record before each command's reply.
func checkText(b []byte) error {
	if bytes.HasPrefix(b, []byte("CMD=")) && bytes.HasSuffix(b, []byte("|\x00")) {
		var part []byte
		for i, rec := range splitUnescaped(b[:len(b)-2], '|') {
			if bytes.HasPrefix(rec, []byte("CMD=")) && len(splitUnescaped(rec, ',')) == 1 {
				if i > 0 {
					if err := checkText(append(part, '|', 0)); err != nil {
						return err
					}
				}
				part = nil
				continue
			}
			if part != nil {
				part = append(part, '|')
			}
			part = append(part, rec...)
		}
		return checkText(append(part, '|', 0))
	}
	if !bytes.HasSuffix(b, []byte("|\x00")) {
		return errors.New(`does not end in "|" NUL`)
	}
	if !bytes.HasPrefix(b, []byte("STATUS=")) {
		return errors.New("does not start with STATUS=")
	}
	recs := splitUnescaped(b[:len(b)-2], '|')
	for i, rec := range recs {
		for j, f := range splitUnescaped(rec, ',') {
			if len(splitUnescaped(f, '=')) == 2 {
				continue
			}
			if j == 0 && i > 0 && len(splitUnescaped(f, '=')) == 1 {
				continue // a bare section name
			}
			return fmt.Errorf("record %d field %d %q is not key=value", i, j, f)
		}
	}
	return nil
}

// splitUnescaped splits b at sep where sep is not backslash-escaped.
func splitUnescaped(b []byte, sep byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case sep:
			out = append(out, b[start:i])
			start = i + 1
		}
	}
	return append(out, b[start:])
}

// FuzzAPI3 feeds any frame body to the Whatsminer API v3 handler and any
// bytes to the frame reader.
func FuzzAPI3(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"get.device.info"}`, `{"cmd":"get.miner.status","param":"summary,edevs,pools"}`,
		`{"cmd":"set.miner.service","param":"stop","ts":1,"account":"super","token":"abcdefgh"}`,
		`{"cmd":"set.miner.power_limit","param":2800,"ts":"1","account":"super","token":"x"}`,
		`{"cmd":""}`, `[]`, `{"cmd":1}`, `null`, "", "\x00\x00\x00\x00",
	} {
		f.Add([]byte(s))
	}
	fl := fuzzFleet(f)
	var wm *node
	for _, n := range fl.nodes {
		if n.info.Firmware == Whatsminer {
			wm = n
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out := wm.api3Reply(body)
		var v struct {
			Code *int `json:"code"`
		}
		if err := json.Unmarshal(out, &v); err != nil || v.Code == nil {
			t.Fatalf("reply to %q: %s (%v)", body, out, err)
		}
		framed := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
		got, err := readFrame(bytes.NewReader(append(framed, body...)), maxRequest)
		if len(body) > 0 && (err != nil || !bytes.Equal(got, body)) {
			t.Fatalf("frame round trip of %d bytes: %v", len(body), err)
		}
		_, _ = readFrame(bytes.NewReader(body), maxRequest)
	})
}

// FuzzDigest feeds any Authorization header to the digest verifier.
func FuzzDigest(f *testing.F) {
	for _, s := range []string{
		`Digest username="root", realm="antMiner Configuration", nonce="abc", uri="/cgi-bin/x", qop=auth, nc=00000001, cnonce="c", response="00"`,
		`Digest username="a\"b", nonce=`, `Digest `, `Basic cm9vdDpyb290`, `Digest a="unterminated`, `Digest ,,,=,`,
	} {
		f.Add(s)
	}
	fl := fuzzFleet(f)
	n := fl.nodes[0]
	f.Fuzz(func(t *testing.T, h string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		_, _ = parseDigest(h)
		if err := n.verifyDigest(h, "GET", "/cgi-bin/get_miner_conf.cgi", "root"); err == nil {
			t.Fatalf("header %q accepted without a valid response", h)
		}
	})
}

// FuzzParseMix: any spec either parses into a mix that expands exactly,
// or fails with an error.
func FuzzParseMix(f *testing.F) {
	for _, s := range []string{DefaultMix, "s21=50%,m50s=50%", "s21", "s21:luxos=1e308,m60=1e308", ",", "=", ":=%", "s21=-1"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, spec string, count int) {
		mix, err := ParseMix(spec)
		if err != nil {
			return
		}
		count = count%1000 + 1
		if count < 1 {
			count = -count + 1
		}
		got, err := mix.Expand(count)
		if err != nil {
			t.Fatalf("Expand(%d) of %q: %v", count, spec, err)
		}
		if len(got) != count {
			t.Fatalf("Expand(%d) of %q gave %d miners", count, spec, len(got))
		}
	})
}
