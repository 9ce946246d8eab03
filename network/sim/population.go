package sim

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Behaviour is what a simulated host does.
type Behaviour int

// Behaviours; every one but Honest is counted as a cheater.
const (
	Honest        Behaviour = iota
	FakeNonces              // commits more leaves than it computed
	CheapModel              // serves some requests with a cheaper model
	Prefill                 // returns canned/pre-filled output for some requests
	LazyValidator           // approves the openings it is assigned without recomputing
	SybilRing               // one operator split into many identities that fake a little and vouch for each other
	Withholder              // fakes leaves and withholds its openings whenever a fake one is sampled
	numBehaviours
)

var behaviourNames = [numBehaviours]string{"honest", "fake_nonces", "cheap_model", "prefill", "lazy_validator", "sybil_ring", "withholder"}

func (b Behaviour) String() string { return behaviourNames[b] }

// HardwareClass is a kind of accelerator and its proof throughput.
type HardwareClass struct {
	Name string
	// NoncesPerSprint a single device completes in one proof sprint, taken
	// proportional to dense int8 tensor throughput (vendor datasheets:
	// H100 SXM 1979 TOPS, L40S 733, RTX 4090 661, A100 624, RTX 3090 284)
	// divided by 33.
	NoncesPerSprint uint64
	Weight          int // relative frequency in the population
}

// Classes is the hardware mix of the simulated population.
var Classes = []HardwareClass{
	{"H100", 59970, 2},
	{"A100", 18909, 3},
	{"L40S", 22212, 2},
	{"RTX4090", 20030, 4},
	{"RTX3090", 8606, 3},
}

// host is one simulated identity on the network.
type host struct {
	id        int
	operator  int // Sybil identities share an operator
	key       []byte
	class     int
	devices   int
	behaviour Behaviour
	fakePPM   uint64  // share of committed leaves that are fake
	cheatRate float64 // share of served requests substituted or pre-filled
	stake     uint64  // for the stake-weighted baseline
	avail     float64 // mean availability
}

// realNonces is what the host truly computes in a sprint at availability a.
func (h *host) realNonces(a float64) uint64 {
	return uint64(float64(Classes[h.class].NoncesPerSprint*uint64(h.devices)) * a)
}

func pickClass(rng *rand.Rand) int {
	total := 0
	for _, c := range Classes {
		total += c.Weight
	}
	r := rng.IntN(total)
	for i, c := range Classes {
		if r < c.Weight {
			return i
		}
		r -= c.Weight
	}
	return len(Classes) - 1
}

// population builds n hosts: the mix in cfg, with Sybil rings of
// cfg.SybilSize identities per operator.
func population(cfg Config, rng *rand.Rand) []*host {
	var hs []*host
	operator := 0
	add := func(b Behaviour, h *host) {
		h.id = len(hs)
		h.behaviour = b
		h.key = make([]byte, 32)
		binary.LittleEndian.PutUint64(h.key, rng.Uint64())
		binary.LittleEndian.PutUint64(h.key[8:], uint64(h.id))
		// Stake is independent of hardware: log-normal wealth.
		h.stake = uint64(1e6 * math.Exp(rng.NormFloat64()*1.2+3))
		hs = append(hs, h)
	}
	counts := cfg.mix()
	for b := Behaviour(0); b < numBehaviours; b++ {
		if b == SybilRing {
			continue
		}
		for range counts[b] {
			h := &host{operator: operator, class: pickClass(rng), devices: 1 + rng.IntN(8), avail: 0.93 + 0.07*rng.Float64()}
			operator++
			switch {
			case (b == FakeNonces || b == Withholder) && cfg.Subtle:
				h.fakePPM = []uint64{5_000, 10_000, 20_000}[rng.IntN(3)]
			case b == FakeNonces || b == Withholder:
				h.fakePPM = []uint64{50_000, 100_000, 300_000}[rng.IntN(3)]
			case (b == CheapModel || b == Prefill) && cfg.Subtle:
				h.cheatRate = []float64{0.05, 0.1}[rng.IntN(2)]
			case b == CheapModel:
				h.cheatRate = []float64{0.2, 0.5, 1}[rng.IntN(3)]
			case b == Prefill:
				h.cheatRate = []float64{0.3, 1}[rng.IntN(2)]
			}
			add(b, h)
		}
	}
	// A Sybil ring is one large operator (SybilSize × 2 H100s) split into
	// SybilSize identities of 2 devices each.
	for range counts[SybilRing] / cfg.SybilSize {
		for range cfg.SybilSize {
			fake := uint64(50_000)
			if cfg.Subtle {
				fake = 10_000
			}
			add(SybilRing, &host{operator: operator, class: 0, devices: 2, avail: 0.99, fakePPM: fake})
		}
		operator++
	}
	// Shuffle so behaviours are not clustered by index.
	rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	for i, h := range hs {
		h.id = i
	}
	return hs
}

// fakeLeaf reports whether leaf i of host h's epoch-e commitment is fake:
// a keyed mix, so which leaves are fake is fixed before sampling.
func fakeLeaf(h *host, epoch int, i uint64) bool {
	if h.fakePPM == 0 {
		return false
	}
	x := binary.LittleEndian.Uint64(h.key) ^ uint64(epoch)*0x9e3779b97f4a7c15 ^ i*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return x%1_000_000 < h.fakePPM
}
