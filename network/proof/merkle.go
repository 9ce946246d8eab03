package proof

import (
	"crypto/sha256"
	"encoding/binary"
)

// Hash prefixes separate leaves from interior nodes so that no leaf can be
// passed off as a node (the second-preimage attack on plain Merkle trees).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// Leaf returns the leaf hash of a nonce and its digest:
// SHA-256(0x00 || u64le(nonce) || digest).
func Leaf(nonce uint64, d Digest) [32]byte {
	var b [1 + 8 + DigestSize]byte
	b[0] = leafPrefix
	binary.LittleEndian.PutUint64(b[1:], nonce)
	copy(b[9:], d[:])
	return sha256.Sum256(b[:])
}

func node(l, r [32]byte) [32]byte {
	var b [65]byte
	b[0] = nodePrefix
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// Tree is a binary Merkle tree over leaf hashes. A level of odd width
// promotes its last node unchanged to the next level (it is not paired with
// a copy of itself, which would let two different leaf lists share a root).
type Tree struct {
	levels [][][32]byte // levels[0] = leaves, last = [root]
}

// Build builds the tree over leaves (which it keeps). An empty list gives a
// tree whose root is all zeros.
func Build(leaves [][32]byte) *Tree {
	t := &Tree{levels: [][][32]byte{leaves}}
	for cur := leaves; len(cur) > 1; {
		next := make([][32]byte, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			next[i/2] = node(cur[i], cur[i+1])
		}
		if len(cur)%2 == 1 {
			next[len(next)-1] = cur[len(cur)-1]
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

// Count returns the number of leaves.
func (t *Tree) Count() uint64 { return uint64(len(t.levels[0])) }

// Root returns the root hash (all zeros for an empty tree).
func (t *Tree) Root() [32]byte {
	top := t.levels[len(t.levels)-1]
	if len(top) == 0 {
		return [32]byte{}
	}
	return top[0]
}

// Leaf returns leaf i's hash.
func (t *Tree) Leaf(i uint64) [32]byte { return t.levels[0][i] }

// Prove returns the sibling path of leaf i, bottom-up, skipping levels where
// the node was promoted without a sibling. It panics if i is out of range,
// like a slice index.
func (t *Tree) Prove(i uint64) [][32]byte {
	_ = t.levels[0][i]
	var path [][32]byte
	for _, lv := range t.levels[:len(t.levels)-1] {
		if sib := i ^ 1; sib < uint64(len(lv)) {
			path = append(path, lv[sib])
		}
		i >>= 1
	}
	return path
}

// Verify reports whether path proves that leaf sits at index of a tree with
// count leaves and the given root. The path must be exactly as long as the
// tree's shape requires.
func Verify(root [32]byte, count, index uint64, leaf [32]byte, path [][32]byte) bool {
	if index >= count {
		return false
	}
	h := leaf
	for w := count; w > 1; w = (w + 1) / 2 {
		if sib := index ^ 1; sib < w {
			if len(path) == 0 {
				return false
			}
			if index&1 == 0 {
				h = node(h, path[0])
			} else {
				h = node(path[0], h)
			}
			path = path[1:]
		}
		index >>= 1
	}
	return len(path) == 0 && h == root
}
