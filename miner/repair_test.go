package miner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var repairCases = []struct {
	name, in, want string
	benign         bool
}{
	{"valid", `{"a":1,"b":[1,2]}`, `{"a":1,"b":[1,2]}`, true},
	{"trailing NUL", "{\"a\":1}\x00", `{"a":1}`, true},
	{"missing comma between objects", `{"S":[{"a":1}{"b":2}]}`, `{"S":[{"a":1},{"b":2}]}`, true},
	{"leading comma in array", `{"S":[,{"a":1}]}`, `{"S":[{"a":1}]}`, true},
	{"trailing commas", `{"a":[1,2,],"b":3,}`, `{"a":[1,2],"b":3}`, true},
	{"double comma", `{"a":1,,"b":2}`, `{"a":1,"b":2}`, true},
	{"inf and nan", `{"a":inf,"b":-inf,"c":nan,"d":NaN}`, `{"a":null,"b":null,"c":null,"d":null}`, true},
	{"missing comma between members", `{"a":"x" "b":1}`, `{"a":"x","b":1}`, true},
	{"bare word value", `{"a":Alive}`, `{"a":"Alive"}`, true},
	{"leading zero number", `{"a":045}`, `{"a":45}`, true},
	{"raw newline in string", "{\"a\":\"x\ny\"}", `{"a":"x\u000ay"}`, true},
	{"bad escape", `{"a":"c:\d"}`, `{"a":"c:\\d"}`, true},
	{"truncated after id", `{"STATUS":[{"STATUS":"S"}],"id":0`, `{"STATUS":[{"STATUS":"S"}],"id":0}`, true},
	{"truncated mid array", `{"STATUS":[{"STATUS":"S"}],"X":[{"a":1`, `{"STATUS":[{"STATUS":"S"}],"X":[{"a":1}]}`, false},
	{"truncated mid string", `{"a":"hel`, `{"a":"hel"}`, false},
	{"truncated after colon", `{"a":`, `{"a":null}`, false},
	{"truncated after comma", `{"a":1,`, `{"a":1}`, false},
	{"garbage after value", `{"a":1}{"b":2}`, `{"a":1}`, true},
	{"keys with spaces and percent", `{"GHS 5s":"1.5","Device Hardware%":0.01}`, `{"GHS 5s":"1.5","Device Hardware%":0.01}`, true},
	{"missing value", `{"a":,"b":1}`, `{"a":null,"b":1}`, true},
	{"missing closer before outer one", `{"a":[1,2}`, `{"a":[1,2]}`, true},
	{"object left open inside array", `{"s":[{"id":0],"t":[{"x":1}],"id":1}`, `{"s":[{"id":0}],"t":[{"x":1}],"id":1}`, true},
	{"stray closer dropped", `{"a":1]}`, `{"a":1}`, true},
}

func TestRepair(t *testing.T) {
	for _, tc := range repairCases {
		t.Run(tc.name, func(t *testing.T) {
			got, dmg, err := Repair([]byte(tc.in))
			if err != nil {
				t.Fatalf("Repair(%q): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("Repair(%q) = %s, want %s", tc.in, got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("Repair(%q) = %s is not valid JSON", tc.in, got)
			}
			if dmg.Benign() != tc.benign {
				t.Errorf("Repair(%q) benign = %v, want %v (damage %+v)", tc.in, dmg.Benign(), tc.benign, dmg)
			}
		})
	}
}

func TestRepairRejects(t *testing.T) {
	for _, in := range []string{"", "   \x00", `{{"a":1}}`, `{[1]}`} {
		if _, _, err := Repair([]byte(in)); err == nil {
			t.Errorf("Repair(%q) succeeded, want an error", in)
		}
	}
}

// FuzzDecode checks that no input panics the repairer or decoder and that
// whatever Repair returns without error is valid JSON.
func FuzzDecode(f *testing.F) {
	for _, tc := range repairCases {
		f.Add([]byte(tc.in))
	}
	files, _ := filepath.Glob("testdata/*.json")
	texts, _ := filepath.Glob("testdata/*.txt") // not JSON: Repair must refuse or fix them
	for _, p := range append(files, texts...) {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := Repair(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Repair(%q) = %q, not valid JSON", in, out)
		}
		_, _, _ = Decode(in)
		if _, err := parseJSON(in); err == nil && !json.Valid(in) {
			t.Fatalf("parseJSON accepted %q, which is not valid JSON", in)
		}
		// parseJSON must agree with encoding/json on every valid input.
		for _, doc := range [][]byte{out, in} {
			if !json.Valid(doc) {
				continue
			}
			got, err := parseJSON(doc)
			if err != nil {
				if strings.Contains(err.Error(), "nesting") {
					continue
				}
				t.Fatalf("parseJSON(%q): %v, but it is valid JSON", doc, err)
			}
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			var want any
			if err := dec.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parseJSON(%q) = %#v, encoding/json gives %#v", doc, got, want)
			}
		}
	})
}
