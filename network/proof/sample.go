package proof

import "slices"

// Domain tags of the post-commit randomness.
const (
	tagSample = "joule/proof/v1/sample"
	tagAssign = "joule/proof/v1/assign"
)

// SampleLeaves returns n distinct leaf indices in [0, count) that validator
// must check for host, in draw order. revealSeed must be fixed only after the
// host's commitment (e.g. the hash of a later block), so the host cannot know
// which leaves will be opened. Draws are u64le values from the sample stream
// reduced mod count, skipping repeats; if n ≥ count every index is returned.
// Keep n small against count (the ledger uses DefaultSamples): as n nears
// count, skipping repeats costs about count·ln(count) draws.
func SampleLeaves(revealSeed [32]byte, host, validator []byte, count uint64, n int) []uint64 {
	if count == 0 || n <= 0 {
		return nil
	}
	if uint64(n) >= count {
		out := make([]uint64, count)
		for i := range out {
			out[i] = uint64(i)
		}
		return out
	}
	s := newStream(derive(tagSample, revealSeed[:], host, validator))
	out := make([]uint64, 0, n)
	seen := make(map[uint64]bool, n)
	for len(out) < n {
		i := s.uint64() % count
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// AssignValidators picks k distinct validators to check host, as indices
// into validators (which the ledger must pass in a canonical order, e.g.
// sorted by key). A validator whose key equals host is never chosen. The
// choice is a partial Fisher–Yates shuffle of the eligible indices driven by
// the assign stream (u32le draws mod the remaining count). It costs O(len +
// k) per host, so checking N hosts costs O(N·k) validations in total, not
// O(N²). Fewer than k are returned when fewer are eligible.
func AssignValidators(revealSeed [32]byte, host []byte, validators [][]byte, k int) []int {
	elig := make([]int, 0, len(validators))
	for i, v := range validators {
		if !slices.Equal(v, host) {
			elig = append(elig, i)
		}
	}
	k = min(max(k, 0), len(elig))
	s := newStream(derive(tagAssign, revealSeed[:], host))
	for i := range k {
		j := i + int(s.uint32()%uint32(len(elig)-i))
		elig[i], elig[j] = elig[j], elig[i]
	}
	return elig[:k]
}

// DetectionProbability is the chance that at least one of samples distinct
// leaves drawn from count lands on one of fake fake leaves (hypergeometric:
// sampling without replacement). It is for reports and the simulator, not
// consensus.
func DetectionProbability(count, fake uint64, samples int) float64 {
	if fake == 0 {
		return 0
	}
	if uint64(samples) > count-fake {
		return 1
	}
	miss := 1.0
	for i := range uint64(samples) {
		miss *= float64(count-fake-i) / float64(count-i)
	}
	return 1 - miss
}

// Defaults the ledger starts from (consensus parameters there). With them a
// host that fakes 10 % of a ReferenceSprint-nonce sprint escapes with
// probability ≈ 0.9^96 ≈ 4·10⁻⁵, and each validator recomputes
// DefaultSamples/ReferenceSprint ≈ 0.2 % of the host's work.
const (
	DefaultSamples    = 32      // leaves each assigned validator opens
	DefaultValidators = 3       // validators assigned per host (k)
	ReferenceSprint   = 1 << 14 // nonces in the reference sprint
)
