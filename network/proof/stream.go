package proof

import (
	"crypto/sha256"
	"encoding/binary"
)

// derive hashes a domain tag and length-prefixed parts into a 32-byte key:
// SHA-256(u8 len(tag) || tag || for each part: u32le len(part) || part).
// Length prefixes make the encoding injective, so no two field lists collide.
func derive(tag string, parts ...[]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(len(tag))})
	h.Write([]byte(tag))
	var n [4]byte
	for _, p := range parts {
		binary.LittleEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func u32le(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64le(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// stream is SHA-256 in counter mode: block i is SHA-256(key || u64le(i)) and
// the stream is blocks 0, 1, 2, ... concatenated. It is the only source of
// pseudo-randomness in the workload.
type stream struct {
	in  [40]byte // key || counter
	ctr uint64
	buf [32]byte
	pos int
}

func newStream(key [32]byte) *stream {
	s := &stream{pos: 32}
	copy(s.in[:32], key[:])
	return s
}

func (s *stream) refill() {
	binary.LittleEndian.PutUint64(s.in[32:], s.ctr)
	s.ctr++
	s.buf = sha256.Sum256(s.in[:])
	s.pos = 0
}

func (s *stream) byte() byte {
	if s.pos == 32 {
		s.refill()
	}
	b := s.buf[s.pos]
	s.pos++
	return b
}

// read fills p with the next len(p) stream bytes.
func (s *stream) read(p []byte) {
	for len(p) > 0 {
		if s.pos == 32 {
			s.refill()
		}
		n := copy(p, s.buf[s.pos:])
		s.pos += n
		p = p[n:]
	}
}

func (s *stream) uint32() uint32 {
	var b [4]byte
	s.read(b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func (s *stream) uint64() uint64 {
	var b [8]byte
	s.read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}
