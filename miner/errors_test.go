package miner

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// freeClosedPort returns an address on loopback where nothing listens.
func freeClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func wantMinerError(t *testing.T, err error, addr string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one naming %s", addr)
	}
	if !strings.Contains(err.Error(), "miner "+addr) {
		t.Errorf("error %q does not name miner %s", err, addr)
	}
	var me *Error
	if !errors.As(err, &me) {
		t.Errorf("error %q is not a *miner.Error", err)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q is not %v", err, target)
	}
}

func TestCGMinerErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("closed port", func(t *testing.T) {
		addr := freeClosedPort(t)
		_, err := (&CGMiner{Addr: addr, Timeout: time.Second}).Do(ctx, "summary")
		wantMinerError(t, err, addr, nil)
		if !strings.Contains(err.Error(), "summary") || !strings.Contains(err.Error(), "refused") {
			t.Errorf("error %q should say summary and connection refused", err)
		}
	})
	t.Run("refused command", func(t *testing.T) {
		s := newFixtureServer(t, nil)
		s.handle("curtail", func(string) []byte { return statusReply("E", 45, "Access denied to 'curtail' command") })
		_, err := (&CGMiner{Addr: s.addr()}).Do(ctx, "curtail", "x", "sleep")
		wantMinerError(t, err, s.addr(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 45 || ae.Status != "E" {
			t.Fatalf("error %v, want APIError E code 45", err)
		}
		if want := "miner " + s.addr() + ": curtail: STATUS E code 45: Access denied to 'curtail' command"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})
	t.Run("half-written reply", func(t *testing.T) {
		s := newFixtureServer(t, map[string]string{"stats": "s19jpro_stats.json"})
		full := s.lookup("stats", "")
		s.handle("stats", func(string) []byte { return full[:len(full)/2] })
		_, err := (&CGMiner{Addr: s.addr()}).Do(ctx, "stats")
		wantMinerError(t, err, s.addr(), ErrTruncated)
	})
	t.Run("silent server times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		done := make(chan struct{})
		defer close(done)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				defer c.Close()
				c.Write([]byte(`{"STATUS":[{"STATUS":"S"`)) // then nothing until the test ends
				<-done
			}
		}()
		_, err = (&CGMiner{Addr: ln.Addr().String(), Timeout: 200 * time.Millisecond}).Do(ctx, "summary")
		wantMinerError(t, err, ln.Addr().String(), ErrTruncated)
	})
	t.Run("cancelled context", func(t *testing.T) {
		s := newFixtureServer(t, map[string]string{"summary": "s19jpro_summary.json"})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := (&CGMiner{Addr: s.addr()}).Do(cctx, "summary")
		wantMinerError(t, err, s.addr(), context.Canceled)
	})
}

func TestMultiFallback(t *testing.T) {
	files := map[string]string{"summary": "s19jpro_summary.json", "stats": "s19jpro_stats.json"}
	for _, multi := range []bool{false, true} {
		s := newFixtureServer(t, files)
		s.multi = multi
		rs, err := (&CGMiner{Addr: s.addr()}).Multi(context.Background(), "summary", "stats")
		if err != nil {
			t.Fatalf("multi=%v: %v", multi, err)
		}
		if rs["summary"].First("SUMMARY") == nil || len(rs["stats"].Section("STATS")) != 2 {
			t.Errorf("multi=%v: replies %v", multi, rs)
		}
		got := s.commands()
		wantN := 3 // refused multi, then two singles
		if multi {
			wantN = 1
		}
		if len(got) != wantN {
			t.Errorf("multi=%v: server saw %v, want %d requests", multi, got, wantN)
		}
	}
}

func TestPlainRequest(t *testing.T) {
	s := newFixtureServer(t, nil)
	s.handle("profileset", func(p string) []byte {
		if p != "sid1,-2" {
			return statusReply("E", 2, "bad param "+p)
		}
		return statusReply("S", 1, "ok")
	})
	c := &CGMiner{Addr: s.addr(), Plain: true}
	if _, err := c.Do(context.Background(), "profileset", "sid1", "-2"); err != nil {
		t.Fatal(err)
	}
	if got := s.commands(); len(got) != 1 || got[0] != "profileset|sid1,-2" {
		t.Errorf("server saw %v, want profileset|sid1,-2", got)
	}
}

func TestWhatsminerErrors(t *testing.T) {
	ctx := context.Background()
	addr := whatsminerFixture(t, func(req map[string]any) []byte {
		switch req["cmd"] {
		case "get.device.info":
			return []byte(`{"code":0,"when":1,"msg":{"salt":"abcdefgh","miner":{"type":"M50S"}},"desc":"get.device.info"}`)
		case "set.miner.service":
			want := WhatsminerToken("set.miner.service", "super", "abcdefgh", int64(req["ts"].(float64)))
			if req["token"] != want {
				return []byte(`{"code":-4,"when":1,"msg":"token error","desc":"set.miner.service"}`)
			}
			return []byte(`{"code":0,"when":1,"msg":"ok","desc":"set.miner.service"}`)
		case "half":
			return []byte(`{"code":0,"msg":{"a":`)
		}
		return []byte(`{"code":-1,"when":1,"msg":"invalid command","desc":""}`)
	})
	good := &WhatsminerAPI{Addr: addr, Account: "super", Password: "super"}
	if _, err := good.Set(ctx, "set.miner.service", "stop"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	bad := &WhatsminerAPI{Addr: addr, Account: "super", Password: "wrong"}
	_, err := bad.Set(ctx, "set.miner.service", "stop")
	wantMinerError(t, err, addr, ErrAuth)
	_, err = good.Get(ctx, "get.nonsense", nil)
	wantMinerError(t, err, addr, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != -1 {
		t.Errorf("refused command error %v, want code -1", err)
	}
	_, err = good.Get(ctx, "half", nil)
	wantMinerError(t, err, addr, ErrTruncated)
	closed := freeClosedPort(t)
	_, err = (&WhatsminerAPI{Addr: closed}).Get(ctx, "get.device.info", nil)
	wantMinerError(t, err, closed, nil)
}

func TestBraiinsRESTWrongPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":16,"message":"invalid username or password"}`))
	}))
	defer srv.Close()
	b := &BraiinsREST{Base: srv.URL, User: "root", Password: "nope"}
	_, err := b.PowerTarget(context.Background())
	wantMinerError(t, err, strings.TrimPrefix(srv.URL, "http://"), ErrAuth)
	if !strings.Contains(err.Error(), "invalid username or password") {
		t.Errorf("error %q should carry the firmware's message", err)
	}
}

// Real cgminer answers plain-text requests in its text format.
func TestPlainTextReplyFormat(t *testing.T) {
	s := newFixtureServer(t, nil)
	s.handle("summary", func(string) []byte {
		return []byte("STATUS=S,When=1700000000,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=3600,MHS av=98000000.00,MHS 5s=98100000.50,Accepted=10,Hardware Errors=2,Device Hardware%=0.0100|\x00")
	})
	s.handle("pools", func(string) []byte {
		return []byte(`STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=cgminer|POOL=0,URL=stratum+tcp://a.example:3333,Status=Alive,User=w\,1,Stratum Active=true|POOL=1,URL=stratum+tcp://b.example:3333,Status=Dead,Stratum Active=false|`)
	})
	s.handle("ascset", func(string) []byte {
		return []byte("STATUS=E,When=1,Code=45,Msg=Access denied to 'ascset' command,Description=cgminer|")
	})
	c := &CGMiner{Addr: s.addr(), Plain: true}
	ctx := context.Background()
	rs := map[string]*Response{}
	for _, cmd := range []string{"summary", "pools"} {
		r, err := c.Do(ctx, cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		rs[cmd] = r
	}
	var r Reading
	fromCGMiner(&r, rs)
	approx(t, "hashrate", r.HashrateTHs, 98.1000005)
	approx(t, "hw rate", r.HWErrorRate, 0.0001)
	if r.Uptime != time.Hour || len(r.Pools) != 2 || !r.Pools[0].Active || r.Pools[0].User != "w,1" || r.Pools[1].Alive {
		t.Errorf("reading %+v pools %+v", r, r.Pools)
	}
	_, err := c.Do(ctx, "ascset")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 45 {
		t.Errorf("text-format refusal: %v, want APIError code 45", err)
	}
}
