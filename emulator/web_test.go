package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/jouleworks/joule/emulator/physics"
)

func digestClient(password string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &digest.Transport{Username: "root", Password: password}}
}

func TestStockDigestAuth(t *testing.T) {
	f, idx := fourDialects(t, 210)
	i := idx[Stock]
	base := "http://" + f.Miner(i).HTTP.String()

	// No credentials: 401 with a Digest challenge.
	resp, err := http.Get(base + "/cgi-bin/get_miner_conf.cgi")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.HasPrefix(ch, "Digest ") || !strings.Contains(ch, `realm="antMiner Configuration"`) || !strings.Contains(ch, `qop="auth"`) {
		t.Fatalf("unauthenticated: %d %q, want 401 with a Digest challenge", resp.StatusCode, ch)
	}

	// Wrong password: 401 again.
	resp, err = digestClient("wrong").Get(base + "/cgi-bin/get_miner_conf.cgi")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d, want 401", resp.StatusCode)
	}

	// Right password: the config JSON.
	c := digestClient("root")
	resp, err = c.Get(base + "/cgi-bin/get_miner_conf.cgi")
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	err = json.NewDecoder(resp.Body).Decode(&conf)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || conf["miner-mode"] != 0.0 || conf["bitmain-fan-pwm"] != "100" {
		t.Fatalf("get_miner_conf: %d %v %v", resp.StatusCode, conf, err)
	}

	// Sleep through set_miner_conf, counted once; a repeat counts as a repeat.
	for k := 0; k < 2; k++ {
		resp, err = c.Post(base+"/cgi-bin/set_miner_conf.cgi", "application/json", strings.NewReader(`{"miner-mode":"1"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"M000"`)) {
			t.Fatalf("set_miner_conf: %d %s", resp.StatusCode, body)
		}
	}
	f.Advance(30 * time.Second)
	if p := f.Telemetry(i).PowerW; p > 30 {
		t.Fatalf("stock 30 s after sleep: %.1f W, want ≤ 30", p)
	}
	resp, _ = c.Post(base+"/cgi-bin/set_miner_conf.cgi", "application/json", strings.NewReader(`{"miner-mode":0}`))
	resp.Body.Close()
	f.Advance(90 * time.Second)
	if st := f.Telemetry(i).State; st == physics.Hashing {
		t.Fatal("stock hashing 90 s after wake, want minutes (restart, chain init, ramp)")
	}
	f.Advance(10 * time.Minute)
	if st := f.Telemetry(i).State; st != physics.Hashing {
		t.Fatalf("stock %s 11.5 min after wake, want hashing", st)
	}
	resp, _ = c.Post(base+"/cgi-bin/blink.cgi", "application/json", strings.NewReader(`{"blink":true}`))
	resp.Body.Close()
	if got := f.Commands(i); got.Sleep != 2 || got.Repeats != 1 || got.Wake != 1 || got.Blink != 1 {
		t.Fatalf("counters %+v, want sleep 2 (1 repeat), wake 1, blink 1", got)
	}
}

func TestDigestReplayRejected(t *testing.T) {
	f, idx := fourDialects(t, 211)
	n := f.nodes[idx[Stock]]
	n.mu.Lock()
	nonce := n.newNonce()
	n.mu.Unlock()
	uri := "/cgi-bin/get_miner_conf.cgi"
	ha1 := md5hex("root:" + digestRealm + ":root")
	ha2 := md5hex("GET:" + uri)
	resp := md5hex(ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2)
	h := `Digest username="root", realm="` + digestRealm + `", nonce="` + nonce + `", uri="` + uri + `", qop=auth, nc=00000001, cnonce="abc", response="` + resp + `"`
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.verifyDigest(h, "GET", uri, "root"); err != nil {
		t.Fatalf("valid digest rejected: %v", err)
	}
	if err := n.verifyDigest(h, "GET", uri, "root"); err != errReplay {
		t.Fatalf("replayed digest: %v, want errReplay", err)
	}
	if err := n.verifyDigest(h, "POST", uri, "root"); err == nil {
		t.Fatal("digest for GET accepted for POST")
	}
	if err := n.verifyDigest(strings.Replace(h, nonce, "feedface", 1), "GET", uri, "root"); err != errStaleNonce {
		t.Fatalf("unknown nonce: %v, want errStaleNonce", err)
	}
}

func restDo(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestBraiinsREST(t *testing.T) {
	f, idx := fourDialects(t, 212)
	i := idx[Braiins]
	base := "http://" + f.Miner(i).HTTP.String() + "/api/v1"
	if code, v := restDo(t, "POST", base+"/auth/login", "", `{"username":"root","password":"nope"}`); code != 401 || v["code"] != 16.0 {
		t.Fatalf("wrong password: %d %v, want 401 code 16", code, v)
	}
	if code, _ := restDo(t, "GET", base+"/performance/power-target", "", ""); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	code, v := restDo(t, "POST", base+"/auth/login", "", `{"username":"root","password":"root"}`)
	tok, _ := v["token"].(string)
	if code != 200 || tok == "" || v["timeout_s"] != 3600.0 {
		t.Fatalf("login: %d %v", code, v)
	}
	if code, v := restDo(t, "GET", base+"/performance/power-target", tok, ""); code != 200 || v["watt"] != 3068.0 {
		t.Fatalf("get target: %d %v, want 3068", code, v)
	}
	if code, v := restDo(t, "PUT", base+"/performance/power-target", tok, `{"watt":2500}`); code != 200 || v["watt"] != 2500.0 {
		t.Fatalf("set target: %d %v", code, v)
	}
	if code, _ := restDo(t, "PUT", base+"/performance/power-target", tok, `{"watt":50}`); code != 400 {
		t.Fatalf("absurd target: %d, want 400", code)
	}
	f.Advance(20 * time.Minute)
	if p := f.Telemetry(i).PowerW; p < 2400 || p > 2600 {
		t.Fatalf("power 20 min after a 2500 W target: %.0f W", p)
	}
	if code, _ := restDo(t, "PUT", base+"/actions/locate", tok, `{"enable":true}`); code != 200 {
		t.Fatalf("locate: %d", code)
	}
	f.Advance(2 * time.Hour) // token lifetime is 1 h simulated
	if code, v := restDo(t, "GET", base+"/performance/power-target", tok, ""); code != 401 {
		t.Fatalf("expired token: %d %v, want 401", code, v)
	}
	if c := f.Commands(i); c.PowerTarget != 1 || c.Refused != 1 || c.Blink != 1 {
		t.Fatalf("counters %+v, want 1 power target, 1 refused, 1 blink", c)
	}
}
