package miner

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fixtureServer is a small cgminer-API server for tests that must run
// without the emulator: it answers each command with a reply from testdata
// or a handler, one request per connection, like the firmware.
type fixtureServer struct {
	ln    net.Listener
	mu    sync.Mutex
	reply map[string]func(param string) []byte
	multi bool // answer `a+b` requests; otherwise refuse them with code 14
	got   []string
}

func newFixtureServer(t *testing.T, files map[string]string) *fixtureServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fixtureServer{ln: ln, reply: map[string]func(string) []byte{}}
	for cmd, file := range files {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		s.reply[cmd] = func(string) []byte { return b }
	}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

func (s *fixtureServer) addr() string { return s.ln.Addr().String() }

func (s *fixtureServer) host() (string, int) {
	a := s.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func (s *fixtureServer) handle(cmd string, f func(param string) []byte) {
	s.mu.Lock()
	s.reply[cmd] = f
	s.mu.Unlock()
}

func (s *fixtureServer) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *fixtureServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.one(c)
	}
}

func (s *fixtureServer) one(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 65536)
	n, _ := c.Read(buf)
	cmd, param := parseRequest(buf[:n])
	s.mu.Lock()
	s.got = append(s.got, strings.TrimSpace(cmd+"|"+param))
	multi := s.multi
	s.mu.Unlock()
	if strings.Contains(cmd, "+") {
		if !multi {
			c.Write(statusReply("E", 14, "Invalid command"))
			return
		}
		out := map[string]any{"id": 1}
		for _, part := range strings.Split(cmd, "+") {
			v, _, _ := Decode(s.lookup(part, ""))
			out[part] = []any{v}
		}
		b, _ := json.Marshal(out)
		c.Write(b)
		return
	}
	c.Write(s.lookup(cmd, param))
}

func (s *fixtureServer) lookup(cmd, param string) []byte {
	s.mu.Lock()
	f := s.reply[cmd]
	s.mu.Unlock()
	if f == nil {
		return statusReply("E", 14, "Invalid command")
	}
	return f(param)
}

func parseRequest(b []byte) (cmd, param string) {
	var req struct{ Command, Parameter string }
	if json.Unmarshal(b, &req) == nil && req.Command != "" {
		return req.Command, req.Parameter
	}
	cmd, param, _ = strings.Cut(strings.TrimSpace(string(b)), "|")
	return cmd, param
}

func statusReply(st string, code int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{
		"STATUS": []any{map[string]any{"STATUS": st, "When": 1700000000, "Code": code, "Msg": msg, "Description": "fixture"}},
		"id":     1,
	})
	return append(b, 0)
}

// whatsminerFixture serves API v3 frames from a handler.
func whatsminerFixture(t *testing.T, h func(req map[string]any) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var hdr [4]byte
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					return
				}
				body := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
				if _, err := io.ReadFull(c, body); err != nil {
					return
				}
				var req map[string]any
				json.Unmarshal(body, &req)
				out := h(req)
				c.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(out))))
				c.Write(out)
			}()
		}
	}()
	return ln.Addr().String()
}
