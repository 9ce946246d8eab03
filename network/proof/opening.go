package proof

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors VerifyOpening and Opening.UnmarshalBinary return; callers branch on
// them with errors.Is (a wrong digest is provable fraud, a malformed opening
// may be a transport fault).
var (
	ErrWrongDigest = errors.New("digest does not match recomputation")
	ErrBadPath     = errors.New("merkle path does not lead to the committed root")
	ErrIndex       = errors.New("leaf index outside the commitment")
	ErrEncoding    = errors.New("malformed opening encoding")
)

// MaxPathLen bounds a decoded Merkle path: 64 levels cover any uint64 count.
const MaxPathLen = 64

// Opening is a host's answer for one sampled leaf: the digest it claims for
// nonce Index and the Merkle path from that leaf to its committed root.
type Opening struct {
	Index  uint64
	Digest Digest
	Path   [][32]byte
}

// Open builds the opening of leaf i from a host's tree, recomputing its
// digest with wk (hosts that keep digests may fill Opening themselves).
func Open(t *Tree, wk *Worker, i uint64) (Opening, error) {
	if i >= t.Count() {
		return Opening{}, fmt.Errorf("open leaf %d of %d: %w", i, t.Count(), ErrIndex)
	}
	return Opening{Index: i, Digest: wk.Compute(i), Path: t.Prove(i)}, nil
}

// VerifyOpening recomputes nonce o.Index with wk and checks both the digest
// and the Merkle path against (root, count). It returns nil, or an error
// wrapping ErrIndex, ErrWrongDigest or ErrBadPath.
func VerifyOpening(wk *Worker, root [32]byte, count uint64, o Opening) error {
	if err := CheckOpening(root, count, o); err != nil {
		return err
	}
	if got := wk.Compute(o.Index); got != o.Digest {
		return fmt.Errorf("opening of leaf %d: host says %x, recomputed %x: %w", o.Index, o.Digest, got, ErrWrongDigest)
	}
	return nil
}

// MarshalBinary encodes o as u64le index || 16-byte digest || u8 path length
// || 32-byte path nodes.
func (o Opening) MarshalBinary() ([]byte, error) {
	return appendOpening(o.Index, o.Digest[:], o.Path)
}

// UnmarshalBinary decodes what MarshalBinary wrote, rejecting short,
// over-long or trailing input with an error wrapping ErrEncoding.
func (o *Opening) UnmarshalBinary(b []byte) error {
	index, path, err := parseOpening("opening", b, o.Digest[:])
	if err != nil {
		return err
	}
	o.Index, o.Path = index, path
	return nil
}

// CheckOpening checks only the Merkle path of o against (root, count),
// without recomputing: it is how a chain cheaply verifies a validator's vote
// that carries the digests it recomputed (a lazy validator, sent openings
// without digests, cannot produce digests that hash into the root). It
// returns nil, or an error wrapping ErrIndex or ErrBadPath.
func CheckOpening(root [32]byte, count uint64, o Opening) error {
	return CheckLeafOpening(root, count, o.Blind())
}

// LeafOpening is how a host answers a validator: the committed leaf hash
// and its Merkle path, but not the digest. The validator must recompute the
// digest to check the leaf (SHA-256 cannot be inverted), so it cannot vote
// without doing the work; and a leaf that differs from the recomputation is
// fraud evidence anyone can check (VerifyLeafOpening).
type LeafOpening struct {
	Index uint64
	Leaf  [32]byte
	Path  [][32]byte
}

// Blind returns o without its digest: the leaf hash and the path.
func (o Opening) Blind() LeafOpening {
	return LeafOpening{Index: o.Index, Leaf: Leaf(o.Index, o.Digest), Path: o.Path}
}

// WithDigest returns the full opening of o's leaf with digest d (which
// need not match: CheckOpening tells).
func (o LeafOpening) WithDigest(d Digest) Opening {
	return Opening{Index: o.Index, Digest: d, Path: o.Path}
}

// CheckLeafOpening checks o's path against (root, count). It returns nil,
// or an error wrapping ErrIndex or ErrBadPath.
func CheckLeafOpening(root [32]byte, count uint64, o LeafOpening) error {
	if o.Index >= count {
		return fmt.Errorf("opening of leaf %d, commitment has %d: %w", o.Index, count, ErrIndex)
	}
	if !Verify(root, count, o.Index, o.Leaf, o.Path) {
		return fmt.Errorf("opening of leaf %d: %w", o.Index, ErrBadPath)
	}
	return nil
}

// VerifyLeafOpening checks o's path and that its leaf is the leaf of the
// recomputed digest. An error wrapping ErrWrongDigest, with a valid path,
// proves the host committed a leaf it did not compute: the commitment binds
// the leaf at o.Index, so no one can produce such an opening for an honest
// host.
func VerifyLeafOpening(wk *Worker, root [32]byte, count uint64, o LeafOpening) error {
	if err := CheckLeafOpening(root, count, o); err != nil {
		return err
	}
	if got := wk.Compute(o.Index); Leaf(o.Index, got) != o.Leaf {
		return fmt.Errorf("leaf %d: committed %x, recomputed digest %x gives %x: %w", o.Index, o.Leaf, got, Leaf(o.Index, got), ErrWrongDigest)
	}
	return nil
}

// MarshalBinary encodes o as u64le index || 32-byte leaf || u8 path length
// || 32-byte path nodes.
func (o LeafOpening) MarshalBinary() ([]byte, error) {
	return appendOpening(o.Index, o.Leaf[:], o.Path)
}

// UnmarshalBinary decodes what MarshalBinary wrote, rejecting short,
// over-long or trailing input with an error wrapping ErrEncoding.
func (o *LeafOpening) UnmarshalBinary(b []byte) error {
	index, path, err := parseOpening("leaf opening", b, o.Leaf[:])
	if err != nil {
		return err
	}
	o.Index, o.Path = index, path
	return nil
}

// appendOpening encodes the layout both opening kinds share: u64le index ||
// body (digest or leaf) || u8 path length || 32-byte path nodes.
func appendOpening(index uint64, body []byte, path [][32]byte) ([]byte, error) {
	if len(path) > MaxPathLen {
		return nil, fmt.Errorf("opening path has %d nodes, max %d: %w", len(path), MaxPathLen, ErrEncoding)
	}
	b := make([]byte, 0, 8+len(body)+1+32*len(path))
	b = binary.LittleEndian.AppendUint64(b, index)
	b = append(b, body...)
	b = append(b, byte(len(path)))
	for _, h := range path {
		b = append(b, h[:]...)
	}
	return b, nil
}

// parseOpening decodes what appendOpening wrote into body (whose length is
// the body's size), naming kind in its errors.
func parseOpening(kind string, b, body []byte) (index uint64, path [][32]byte, err error) {
	head := 8 + len(body) + 1
	if len(b) < head {
		return 0, nil, fmt.Errorf("%s is %d bytes, header needs %d: %w", kind, len(b), head, ErrEncoding)
	}
	n := int(b[head-1])
	if n > MaxPathLen {
		return 0, nil, fmt.Errorf("%s path length %d at byte %d exceeds %d: %w", kind, n, head-1, MaxPathLen, ErrEncoding)
	}
	if want := head + 32*n; len(b) != want {
		return 0, nil, fmt.Errorf("%s is %d bytes, path of %d nodes needs %d: %w", kind, len(b), n, want, ErrEncoding)
	}
	copy(body, b[8:])
	path = make([][32]byte, n)
	for i := range path {
		copy(path[i][:], b[head+32*i:])
	}
	return binary.LittleEndian.Uint64(b), path, nil
}
