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
	if len(o.Path) > MaxPathLen {
		return nil, fmt.Errorf("opening path has %d nodes, max %d: %w", len(o.Path), MaxPathLen, ErrEncoding)
	}
	b := make([]byte, 0, 8+DigestSize+1+32*len(o.Path))
	b = binary.LittleEndian.AppendUint64(b, o.Index)
	b = append(b, o.Digest[:]...)
	b = append(b, byte(len(o.Path)))
	for _, h := range o.Path {
		b = append(b, h[:]...)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, rejecting short,
// over-long or trailing input with an error wrapping ErrEncoding.
func (o *Opening) UnmarshalBinary(b []byte) error {
	const head = 8 + DigestSize + 1
	if len(b) < head {
		return fmt.Errorf("opening is %d bytes, header needs %d: %w", len(b), head, ErrEncoding)
	}
	n := int(b[head-1])
	if n > MaxPathLen {
		return fmt.Errorf("opening path length %d at byte %d exceeds %d: %w", n, head-1, MaxPathLen, ErrEncoding)
	}
	if want := head + 32*n; len(b) != want {
		return fmt.Errorf("opening is %d bytes, path of %d nodes needs %d: %w", len(b), n, want, ErrEncoding)
	}
	o.Index = binary.LittleEndian.Uint64(b)
	copy(o.Digest[:], b[8:])
	o.Path = make([][32]byte, n)
	for i := range o.Path {
		copy(o.Path[i][:], b[head+32*i:])
	}
	return nil
}

// CheckOpening checks only the Merkle path of o against (root, count),
// without recomputing: it is how a chain cheaply verifies a validator's vote
// that carries the digests it recomputed (a lazy validator, sent openings
// without digests, cannot produce digests that hash into the root). It
// returns nil, or an error wrapping ErrIndex or ErrBadPath.
func CheckOpening(root [32]byte, count uint64, o Opening) error {
	if o.Index >= count {
		return fmt.Errorf("opening of leaf %d, commitment has %d: %w", o.Index, count, ErrIndex)
	}
	if !Verify(root, count, o.Index, Leaf(o.Index, o.Digest), o.Path) {
		return fmt.Errorf("opening of leaf %d: %w", o.Index, ErrBadPath)
	}
	return nil
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
	if len(o.Path) > MaxPathLen {
		return nil, fmt.Errorf("opening path has %d nodes, max %d: %w", len(o.Path), MaxPathLen, ErrEncoding)
	}
	b := make([]byte, 0, 8+32+1+32*len(o.Path))
	b = binary.LittleEndian.AppendUint64(b, o.Index)
	b = append(b, o.Leaf[:]...)
	b = append(b, byte(len(o.Path)))
	for _, h := range o.Path {
		b = append(b, h[:]...)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, rejecting short,
// over-long or trailing input with an error wrapping ErrEncoding.
func (o *LeafOpening) UnmarshalBinary(b []byte) error {
	const head = 8 + 32 + 1
	if len(b) < head {
		return fmt.Errorf("leaf opening is %d bytes, header needs %d: %w", len(b), head, ErrEncoding)
	}
	n := int(b[head-1])
	if n > MaxPathLen {
		return fmt.Errorf("leaf opening path length %d at byte %d exceeds %d: %w", n, head-1, MaxPathLen, ErrEncoding)
	}
	if want := head + 32*n; len(b) != want {
		return fmt.Errorf("leaf opening is %d bytes, path of %d nodes needs %d: %w", len(b), n, want, ErrEncoding)
	}
	o.Index = binary.LittleEndian.Uint64(b)
	copy(o.Leaf[:], b[8:])
	o.Path = make([][32]byte, n)
	for i := range o.Path {
		copy(o.Path[i][:], b[head+32*i:])
	}
	return nil
}
