// Package sim simulates the Joule compute network over many epochs with
// hundreds of hosts — honest ones on several hardware classes and cheaters
// of every kind the protocol defends against — using the real proof
// sampling and validator assignment (package proof), the real sequential
// test and re-execution validation (package model) and the real reward
// arithmetic (package reward). It reports how many cheaters are caught, how
// many honest hosts are wrongly convicted, and where the rewards go, next to
// a stake-weighted baseline paid on the same hosts. Run is deterministic for
// a given Config.
package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"math/rand/v2"
	"slices"

	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/reward"
)

// ErrConfig is wrapped by Config.Validate errors.
var ErrConfig = errors.New("invalid simulation config")

// Config sets up a run.
type Config struct {
	Hosts  int    // identities on the network (≥ 20)
	Epochs int    // epochs simulated (≥ 1)
	Seed   uint64 // everything random derives from it

	// CheaterPPM is the share of identities that cheat, split evenly over
	// the six cheating behaviours (Sybil rings in whole rings).
	CheaterPPM uint32
	SybilSize  int // identities per Sybil ring
	// Subtle makes cheaters cautious: 0.5–2 % fake leaves (Sybil rings
	// 1 %) and model substitution or pre-fill on 5–10 % of requests, below
	// the sequential test's design rate p1 = 20 %.
	Subtle bool

	Samples         int    // leaves each assigned validator samples
	Validators      int    // validators assigned per host (k)
	NonceCap        uint64 // per-host cap on verified nonces in the mint split
	RequestsPerHost int    // inference requests per active host per epoch
	PricePerToken   uint64 // requester fee per served token
	Schedule        reward.Schedule
	Fees            reward.FeeSplit
	SlashBPS        uint32 // share of a convicted host's stake taken
	BurnBPS         uint32 // share of the taken stake burned (rest to the pool)
	// ValidationBPS of each epoch's mint pays validator slots with a valid
	// vote (reward.ValidationShare); ValidatorSlashBPS of a validator's
	// stake is taken for each bad vote — the ledger's rules.
	ValidationBPS     uint32
	ValidatorSlashBPS uint32

	// Honest failure rates: a validated request of an honest host fails
	// (float jitter on remote GPUs, timeouts) and an honest host misses its
	// openings (outage), each independently.
	HonestRequestFailPPM uint32
	HonestOutagePPM      uint32

	Inference model.SPRTConfig // sequential test over request validations
	Proof     model.SPRTConfig // sequential test over answered/withheld openings

	CalibrationRequests int // real validations per kind for Calibration
}

// DefaultConfig is the configuration `joule net sim` starts from.
func DefaultConfig() Config {
	return Config{
		Hosts: 300, Epochs: 30, Seed: 1,
		CheaterPPM: 300_000, SybilSize: 6,
		Samples: proof.DefaultSamples, Validators: proof.DefaultValidators,
		NonceCap: 400_000, RequestsPerHost: 20, PricePerToken: 1_000,
		Schedule: reward.Schedule{Initial: 5_000_000_000, HalvingEpochs: 100},
		Fees:     reward.DefaultFeeSplit(),
		SlashBPS: 5_000, BurnBPS: 5_000,
		ValidationBPS: 500, ValidatorSlashBPS: 1_000,
		HonestRequestFailPPM: 5_000, HonestOutagePPM: 10_000,
		Inference:           model.DefaultSPRTConfig(),
		Proof:               model.DutySPRTConfig(), // the ledger's withholding and validator-duty test
		CalibrationRequests: 24,
	}
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	bad := func(f string, v any, why string) error { return fmt.Errorf("%w: %s = %v: %s", ErrConfig, f, v, why) }
	switch {
	case c.Hosts < 20 || c.Hosts > 100_000:
		return bad("hosts", c.Hosts, "want 20..100000")
	case c.Epochs < 1 || c.Epochs > 10_000:
		return bad("epochs", c.Epochs, "want 1..10000")
	case c.CheaterPPM > 900_000:
		return bad("cheater share", c.CheaterPPM, "want ≤ 900000 ppm")
	case c.SybilSize < 2:
		return bad("sybil size", c.SybilSize, "want ≥ 2")
	case c.Samples < 1 || c.Validators < 1:
		return bad("samples/validators", [2]int{c.Samples, c.Validators}, "want ≥ 1")
	case c.RequestsPerHost < 0:
		return bad("requests per host", c.RequestsPerHost, "want ≥ 0")
	}
	if _, err := model.NewSPRT(c.Inference); err != nil {
		return fmt.Errorf("%w: inference test: %v", ErrConfig, err)
	}
	if _, err := model.NewSPRT(c.Proof); err != nil {
		return fmt.Errorf("%w: proof test: %v", ErrConfig, err)
	}
	return nil
}

// mix returns how many identities of each behaviour the population has.
func (c Config) mix() [numBehaviours]int {
	var m [numBehaviours]int
	cheaters := int(uint64(c.Hosts) * uint64(c.CheaterPPM) / 1_000_000)
	per := cheaters / int(numBehaviours-1)
	for b := FakeNonces; b < numBehaviours; b++ {
		m[b] = per
	}
	m[SybilRing] = per / c.SybilSize * c.SybilSize
	used := 0
	for _, v := range m {
		used += v
	}
	m[Honest] = c.Hosts - used
	return m
}

// state is a host's running record.
type state struct {
	*host
	inf, prf     model.Tracker
	duty         model.Tracker // validation duty: valid votes cast when assigned
	convicted    bool
	convictEpoch int
	jailed       bool // no longer assigned as a validator (duty test)
	caught       bool // convicted or jailed
	caughtEpoch  int
	reason       string
	earned       uint64 // Joule payouts
	baseline     uint64 // stake-weighted baseline payouts
	compute      uint64 // nonces really computed over the run
	claimed      uint64 // nonces committed over the run
	stake        uint64
}

// Run simulates cfg and returns the report.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	infT, _ := model.NewSPRT(cfg.Inference)
	prfT, _ := model.NewSPRT(cfg.Proof)
	dutyT := prfT // missed or invalid votes are judged like withheld openings
	cal, err := calibrate(ctx, cfg.CalibrationRequests, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("calibrate validation: %w", err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6a6f756c65))
	var hs []*state
	for _, h := range population(cfg, rng) {
		hs = append(hs, &state{host: h, stake: h.stake})
	}
	res := &Result{Config: summary(cfg), Calibration: cal}
	var ledger totals

	for e := range cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		reveal := epochSeed(cfg.Seed, e)
		active := make([]*state, 0, len(hs))
		var vals []*state
		for _, h := range hs {
			if !h.convicted {
				active = append(active, h)
				if !h.jailed {
					vals = append(vals, h)
				}
			}
		}
		// Validators in canonical order: sorted by key. Every active,
		// unjailed host validates (the ledger uses its genesis validator
		// set; see network-sim.md for why the figures carry over).
		slices.SortFunc(vals, func(a, b *state) int { return bytes.Compare(a.key, b.key) })
		vkeys := make([][]byte, len(vals))
		for i, v := range vals {
			vkeys[i] = v.key
		}

		catch := func(h *state, why string) {
			if !h.caught {
				h.caught, h.caughtEpoch, h.reason = true, e, why
			}
		}
		convict := func(h *state, why string) {
			if h.convicted {
				return
			}
			h.convicted, h.convictEpoch = true, e
			catch(h, why)
			burned, pool, rest := reward.Slash(h.stake, cfg.SlashBPS, cfg.BurnBPS)
			ledger.burned += burned
			ledger.pool += pool
			ledger.slashedToPool += pool
			h.stake = rest
		}

		// Proof sprint, sampling and votes. Each assigned validator slot
		// ends valid (paid from the validation pot), missed or bad; bad
		// votes cost the validator ValidatorSlashBPS of its stake. Missed
		// and bad votes feed the validator's duty test, which jails it.
		mint := cfg.Schedule.Mint(uint64(e))
		pot := reward.ValidationShare(mint, 1, uint64(cfg.ValidationBPS), reward.BPS)
		type slot struct {
			v    *state
			paid bool
		}
		var slots []slot
		verified := make(map[int]uint64, len(active))
		availPPM := make(map[int]uint32, len(active))
		badVote := func(v *state) {
			v.duty = dutyT.Observe(v.duty, false)
			burned, pool, rest := reward.Slash(v.stake, cfg.ValidatorSlashBPS, cfg.BurnBPS)
			ledger.burned += burned
			ledger.pool += pool
			ledger.slashedToPool += pool
			v.stake = rest
		}
		for _, h := range active {
			a := min(max(h.avail+rng.NormFloat64()*0.02, 0), 1)
			availPPM[h.id] = uint32(a * reward.PPM)
			real := h.realNonces(a)
			committed := real
			if h.fakePPM > 0 {
				committed = real * 1_000_000 / (1_000_000 - h.fakePPM)
			}
			h.compute += real
			h.claimed += committed
			assigned := proof.AssignValidators(reveal, h.key, vkeys, cfg.Validators)
			withheldOutage := rng.Uint32()%1_000_000 < cfg.HonestOutagePPM
			fraud, anyFakeSampled := false, false
			var honestV, signedFake, signedClean []*state
			for _, vi := range assigned {
				v := vals[vi]
				hit := false
				for _, idx := range proof.SampleLeaves(reveal, h.key, v.key, committed, cfg.Samples) {
					if fakeLeaf(h.host, e, idx) {
						hit = true
						break
					}
				}
				anyFakeSampled = anyFakeSampled || hit
				// Openings reach validators without their digests and a vote
				// carries the digests the validator recomputed, which the
				// chain checks against the committed root (proof.CheckOpening):
				// a lazy validator's guessed digests fail at once. Only a
				// sibling of a colluding host, handed the digests, can approve
				// without computing; its vote is bad if another vote proves
				// a leaf it vouched for fake.
				colluding := v.behaviour == SybilRing && v.operator == h.operator
				switch {
				case v.behaviour == LazyValidator:
					badVote(v)
					slots = append(slots, slot{v: v})
				case colluding && hit:
					signedFake = append(signedFake, v)
				case colluding:
					signedClean = append(signedClean, v)
				case rng.Uint32()%1_000_000 < cfg.HonestOutagePPM:
					// An honest validator that is down misses its vote.
					v.duty = dutyT.Observe(v.duty, false)
					slots = append(slots, slot{v: v})
				default:
					honestV = append(honestV, v)
					fraud = fraud || hit // bit-exact recomputation: the ledger re-verifies the leaf
				}
			}
			withheld := withheldOutage || (h.behaviour == Withholder && anyFakeSampled)
			if withheld {
				fraud = false // nothing opened, nothing proven
			}
			for _, v := range honestV {
				v.duty = dutyT.Observe(v.duty, true)
				slots = append(slots, slot{v: v, paid: !withheld})
			}
			for _, v := range signedClean {
				v.duty = dutyT.Observe(v.duty, true)
				slots = append(slots, slot{v: v, paid: !withheld})
			}
			for _, v := range signedFake {
				if fraud {
					badVote(v) // vouched for a leaf proven fake
					slots = append(slots, slot{v: v})
				} else {
					v.duty = dutyT.Observe(v.duty, true)
					slots = append(slots, slot{v: v, paid: !withheld})
				}
			}
			switch {
			case withheld:
				// Validators voted but could not verify: a failure in the
				// host's withholding test (one never convicts; five in a
				// row do).
				h.prf = prfT.Observe(h.prf, false)
				if h.prf.Convicted {
					convict(h, "withheld openings")
				}
			case fraud:
				convict(h, "proof fraud")
			default:
				h.prf = prfT.Observe(h.prf, true)
				verified[h.id] = committed
			}
		}
		pending := make(map[int]uint64) // this epoch's payouts, settled at the end
		var validationPaid uint64
		for _, sl := range slots {
			if sl.paid {
				pay := reward.ValidationShare(pot, uint64(len(slots)), 1, 1)
				pending[sl.v.id] += pay
				validationPaid += pay
			}
			if sl.v.duty.Convicted && !sl.v.jailed {
				sl.v.jailed = true
				catch(sl.v, "missed or bad validation votes (duty test): jailed")
			}
		}
		ledger.minted += validationPaid

		// Inference: requests routed in proportion to verified weight.
		var route []*state
		var routeW []uint64
		for _, h := range active {
			if !h.convicted && verified[h.id] > 0 {
				route = append(route, h)
				routeW = append(routeW, reward.Weight(reward.Work{VerifiedNonces: verified[h.id], AvailabilityPPM: availPPM[h.id]}, cfg.NonceCap))
			}
		}
		var feesRequested uint64
		cum := cumulative(routeW)
		for range cfg.RequestsPerHost * len(active) {
			if len(route) == 0 {
				break
			}
			h := route[pickWeighted(rng, cum)]
			tokens := uint64(50 + rng.IntN(300))
			fee := tokens * cfg.PricePerToken
			feesRequested += fee
			ledger.tokens += tokens
			if h.convicted {
				ledger.refunded += fee
				continue
			}
			cheat := h.cheatRate > 0 && rng.Float64() < h.cheatRate
			if !infT.ShouldValidate(h.inf, rng.Uint32()) {
				pending[h.id] += fee
				continue
			}
			failP := float64(cfg.HonestRequestFailPPM)/1e6 + (1 - cal.HonestPassRate)
			if cheat {
				failP = cal.SubstitutionCatch
				if h.behaviour == Prefill {
					failP = cal.PrefillCatch
				}
			}
			passed := rng.Float64() >= failP
			h.inf = infT.Observe(h.inf, passed)
			ledger.validated++
			if !passed {
				ledger.refunded += fee
				if h.inf.Convicted {
					convict(h, "failed re-execution (sequential test)")
				}
				continue
			}
			// Two other routed hosts re-execute; they share the validators' cut.
			exec, each, dust := cfg.Fees.Fee(fee, 2)
			pending[h.id] += exec
			for range 2 {
				v := route[rng.IntN(len(route))]
				if v == h {
					v = route[(rng.IntN(len(route))+1)%len(route)]
				}
				pending[v.id] += each
			}
			ledger.pool += dust
		}

		// The rest of the mint split by verified weight × availability.
		ledger.minted += mint - pot
		works := make([]reward.Work, len(active))
		for i, h := range active {
			works[i] = reward.Work{VerifiedNonces: verified[h.id], AvailabilityPPM: availPPM[h.id], Excluded: h.convicted}
		}
		shares, dust, err := reward.SplitMint(mint-pot, works, cfg.NonceCap)
		if err != nil {
			return nil, fmt.Errorf("epoch %d mint: %w", e, err)
		}
		ledger.pool += dust
		for i, h := range active {
			pending[h.id] += shares[i]
		}
		// Settle: a host convicted this epoch forfeits everything pending to
		// the pool, so a penalty never raises a cheater's share.
		for _, h := range active {
			if h.convicted {
				ledger.pool += pending[h.id]
				continue
			}
			h.earned += pending[h.id]
			ledger.paid += pending[h.id]
		}

		// Baseline on the same hosts and the same pot (mint + requested
		// fees): 41 % to miners by claimed work, nothing checked; 41 % to
		// validators and stakers by stake; 18 % to the subnet owner.
		basePot := mint + feesRequested
		miners, stakers := basePot*41/100, basePot*41/100
		owner := basePot - miners - stakers
		claims := make([]uint64, len(hs))
		stakes := make([]uint64, len(hs))
		for i, h := range hs {
			a, ok := availPPM[h.id]
			if !ok { // convicted under Joule; the baseline never convicts
				a = uint32(h.avail * reward.PPM)
			}
			claims[i] = h.realNonces(float64(a)/reward.PPM) * 1_000_000 / (1_000_000 - h.fakePPM)
			stakes[i] = h.host.stake
		}
		ms, md, _ := reward.Split(miners, claims)
		ss, sd, _ := reward.Split(stakers, stakes)
		for i, h := range hs {
			h.baseline += ms[i] + ss[i]
			if h.behaviour == Honest {
				ledger.baselineHonestMiner += ms[i]
			}
		}
		ledger.baselineOwner += owner + md + sd
		ledger.baselineMiner += miners - md
		ledger.baselinePot += basePot
		ledger.feesRequested += feesRequested
	}
	res.fill(hs, ledger, cfg)
	return res, nil
}

// totals are network-wide sums over the run.
type totals struct {
	minted, paid, burned, pool, refunded uint64
	tokens, validated                    uint64
	baselineOwner, baselinePot           uint64
	baselineHonestMiner, baselineMiner   uint64
	feesRequested, slashedToPool         uint64
}

func epochSeed(seed uint64, e int) [32]byte {
	var b [24]byte
	copy(b[:8], "joulesim")
	binary.LittleEndian.PutUint64(b[8:], seed)
	binary.LittleEndian.PutUint64(b[16:], uint64(e))
	return sha256.Sum256(b[:])
}

func cumulative(w []uint64) []uint64 {
	out := make([]uint64, len(w))
	var s uint64
	for i, v := range w {
		s += v
		out[i] = s
	}
	return out
}

func pickWeighted(rng *rand.Rand, cum []uint64) int {
	total := cum[len(cum)-1]
	if total == 0 {
		return rng.IntN(len(cum))
	}
	r := rng.Uint64N(total)
	i, _ := slices.BinarySearchFunc(cum, r, func(c, t uint64) int {
		if c <= t {
			return -1
		}
		return 1
	})
	return i
}

// gini is the Gini coefficient of non-negative values (0 = equal).
func gini(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	var sum, weighted float64
	for i, x := range s {
		sum += x
		weighted += float64(i+1) * x
	}
	n := float64(len(s))
	if sum == 0 || n == 0 {
		return 0
	}
	return 2*weighted/(n*sum) - (n+1)/n
}
