// Package ledger is the Joule network's ABCI++ application for CometBFT: the
// deterministic state machine holding accounts, hosts, epochs of proof
// sprints and their validation, inference escrows, rewards and slashing.
//
// Every state change happens in FinalizeBlock from the block's transactions,
// its height and its hash; nothing reads the wall clock, floats or map
// iteration order. The state is encoded as JSON (struct fields in declaration
// order, map keys sorted by encoding/json), its sha256 is the app hash, and
// Commit writes it atomically to disk so a restarted node resumes at the
// height it had committed.
package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jouleworks/joule/network/model"
	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/reward"
	"github.com/jouleworks/joule/network/tx"
)

// Params are the chain's consensus parameters, fixed in genesis.
type Params struct {
	// EpochBlocks is the epoch length; epoch e covers heights
	// e*EpochBlocks+1 .. (e+1)*EpochBlocks.
	EpochBlocks int64 `json:"epoch_blocks"`
	// SprintBlocks is the proof sprint: commitments are accepted in the first
	// SprintBlocks blocks of an epoch.
	SprintBlocks int64 `json:"sprint_blocks"`
	// ValidationBlocks follow the sprint; votes are accepted in them. The
	// first of them supplies the reveal seed.
	ValidationBlocks int64 `json:"validation_blocks"`
	// ValidatorsPerHost is k: how many validators check each host.
	ValidatorsPerHost int `json:"validators_per_host"`
	// SamplesPerValidator is how many leaves each assigned validator checks.
	SamplesPerValidator int `json:"samples_per_validator"`
	// WeightCap caps one host's verified nonces per epoch.
	WeightCap uint64 `json:"weight_cap"`
	// MinBond is the smallest bond a host may register with.
	MinBond uint64 `json:"min_bond"`
	// SlashBPS of a convicted host's bond is taken; BurnBPS of that is
	// burned and the rest goes to the community pool (reward.Slash).
	SlashBPS uint32 `json:"slash_bps"`
	BurnBPS  uint32 `json:"burn_bps"`
	// ValidationBPS of each epoch's mint pays the validators for proof
	// votes: an equal share per assigned slot, earned in proportion to the
	// sampled leaves the vote verified (reward.ValidationShare). Missed and
	// invalid votes earn nothing and their share is not minted.
	ValidationBPS uint32 `json:"validation_bps"`
	// ValidatorSlashBPS of a validator's balance is taken (BurnBPS of it
	// burned, the rest to the pool) for each vote carrying a digest that
	// does not hash into the committed root (a lazy or colluding vote).
	ValidatorSlashBPS uint32 `json:"validator_slash_bps"`
	// Mint is the decaying per-epoch reward schedule (reward.Schedule).
	Mint reward.Schedule `json:"mint"`
	// Fees is the split of a validated inference fee (reward.FeeSplit).
	Fees reward.FeeSplit `json:"fees"`
	// EscrowTimeoutBlocks after opening, an unsettled escrow is refunded;
	// after settling, an unvoted validation is paid out.
	EscrowTimeoutBlocks int64 `json:"escrow_timeout_blocks"`
	// Proof are the proof-of-compute workload parameters, in genesis so
	// every node recomputes with the same numbers.
	Proof proof.Params `json:"proof"`
}

// DefaultParams are the parameters of a fresh testnet: short epochs so a
// local network shows every phase within a minute.
func DefaultParams() Params {
	return Params{
		EpochBlocks:         40,
		SprintBlocks:        12,
		ValidationBlocks:    12,
		ValidatorsPerHost:   3,
		SamplesPerValidator: 32,
		WeightCap:           100_000,
		MinBond:             1_000_000,
		SlashBPS:            5_000,
		BurnBPS:             5_000,
		ValidationBPS:       500,
		ValidatorSlashBPS:   1_000,
		Mint:                reward.Schedule{Initial: 10_000_000, HalvingEpochs: 1000},
		Fees:                reward.DefaultFeeSplit(),
		EscrowTimeoutBlocks: 30,
		Proof:               proof.DefaultParams(),
	}
}

// Validate reports the first inconsistent parameter.
func (p Params) Validate() error {
	switch {
	case p.EpochBlocks <= 0 || p.SprintBlocks <= 0 || p.ValidationBlocks <= 0:
		return fmt.Errorf("params: epoch_blocks, sprint_blocks and validation_blocks must be positive")
	case p.SprintBlocks+p.ValidationBlocks >= p.EpochBlocks:
		return fmt.Errorf("params: sprint_blocks+validation_blocks = %d must be below epoch_blocks = %d (leave an inference phase)", p.SprintBlocks+p.ValidationBlocks, p.EpochBlocks)
	case p.ValidatorsPerHost <= 0 || p.SamplesPerValidator <= 0:
		return fmt.Errorf("params: validators_per_host and samples_per_validator must be positive")
	case p.SlashBPS > reward.BPS || p.BurnBPS > reward.BPS || p.Fees.ValidatorBPS > reward.BPS ||
		p.ValidationBPS > reward.BPS || p.ValidatorSlashBPS > reward.BPS:
		return fmt.Errorf("params: slash_bps, burn_bps, validation_bps, validator_slash_bps and fees.ValidatorBPS must be at most %d", reward.BPS)
	case p.SamplesPerValidator > maxVoteSamples:
		return fmt.Errorf("params: samples_per_validator = %d: a vote carrying that many openings would exceed the %d-byte transaction limit (max %d)", p.SamplesPerValidator, tx.MaxTxBytes, maxVoteSamples)
	case p.EscrowTimeoutBlocks <= 0:
		return fmt.Errorf("params: escrow_timeout_blocks must be positive")
	}
	if err := p.Proof.Validate(); err != nil {
		return fmt.Errorf("params: proof: %w", err)
	}
	return nil
}

// Model is an inference model the network prices and routes.
type Model struct {
	// PricePerToken is charged per prompt and completion token, in base units.
	PricePerToken uint64 `json:"price_per_token"`
}

// Account is a ledger account keyed by its ed25519 public key (hex).
type Account struct {
	Balance uint64 `json:"balance"`
	// Nonce is the highest nonce this account has used.
	Nonce uint64 `json:"nonce"`
}

// Host is a registered compute host.
type Host struct {
	Models   []string `json:"models"`
	Endpoint string   `json:"endpoint"`
	Bond     uint64   `json:"bond"`
	// Weight is the verified nonces (capped) of the last tallied epoch; it
	// sets the host's share of minted rewards and of inference routing.
	Weight      uint64 `json:"weight"`
	WeightEpoch uint64 `json:"weight_epoch"`
	Excluded    bool   `json:"excluded"`
	// Slashed is the total burned from this host's bond.
	Slashed uint64 `json:"slashed"`
	// Reason says why the host was excluded.
	Reason string `json:"reason,omitempty"`
	// Inference is the sequential-test record of its validated inferences.
	Inference model.Tracker `json:"inference"`
	// Withholding is the sequential-test record (model.DutySPRTConfig) of
	// its epochs: a pass when verified, a failure when a quorum of its
	// validators voted but could not verify it (openings withheld).
	Withholding model.Tracker `json:"withholding"`
	// Earned is the total of rewards and fees paid to this host.
	Earned uint64 `json:"earned"`
}

// Commitment is a host's proof commitment for one epoch and its validation.
type Commitment struct {
	Root  tx.Bytes `json:"root"`
	Count uint64   `json:"count"`
	// Validators are the k accounts assigned at the reveal, in order.
	Validators []string `json:"validators,omitempty"`
	// Votes by validator account.
	Votes map[string]Vote `json:"votes,omitempty"`
	// Outcome is set at the tally: "verified", "convicted" or "unverified".
	Outcome string `json:"outcome,omitempty"`
}

// Vote is one validator's verdict on one commitment.
type Vote struct {
	// Checked is how many of the vote's openings (validator-recomputed
	// digests on the host's paths) hash into the committed root.
	Checked uint64 `json:"checked"`
	// Leaves are the indices of those openings.
	Leaves []uint64 `json:"leaves,omitempty"`
	// Proven is set when the vote carried evidence every node verified;
	// FakeLeaf is the index it proved fake.
	Proven   bool   `json:"proven,omitempty"`
	FakeLeaf uint64 `json:"fake_leaf,omitempty"`
	// Bad is set when the vote carried a digest that does not hash into the
	// root, or vouched for a leaf another vote proved fake: the validator
	// did not compute (or colludes). Reason says which.
	Bad    bool   `json:"bad,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ValidatorRecord is a validator's proof-validation record.
type ValidatorRecord struct {
	// Duty is the sequential test (model.DutySPRTConfig) over its assigned
	// slots: a valid vote passes, a missed or bad vote fails. Reaching the
	// threshold jails it: it is no longer assigned hosts or inferences.
	Duty     model.Tracker `json:"duty"`
	Votes    uint64        `json:"votes"`
	Missed   uint64        `json:"missed"`
	BadVotes uint64        `json:"bad_votes"`
	// Slashed is the total taken from its balance for bad votes.
	Slashed uint64 `json:"slashed"`
	// Earned is the total of validation rewards paid to it.
	Earned uint64 `json:"earned"`
	Jailed bool   `json:"jailed,omitempty"`
	// Reason describes the last bad vote, or why it was jailed.
	Reason string `json:"reason,omitempty"`
}

// Epoch is the on-chain record of one epoch.
type Epoch struct {
	Number uint64 `json:"number"`
	// Seed is the hash of the epoch's first block: it seeds the proof
	// workload's weights, so no one can start computing before the epoch.
	Seed tx.Bytes `json:"seed"`
	// Reveal is the hash of the first block after the commit deadline: it
	// picks sampled leaves and validators, and was unknowable when hosts
	// committed.
	Reveal      tx.Bytes               `json:"reveal,omitempty"`
	Commitments map[string]*Commitment `json:"commitments"`
	Tallied     bool                   `json:"tallied"`
}

// Escrow states.
const (
	EscrowOpen      = "open"      // funds locked, awaiting the executor's receipt
	EscrowSettled   = "settled"   // receipt in, awaiting validation
	EscrowValidated = "validated" // re-execution agreed; fee paid
	EscrowPaid      = "paid"      // not sampled for validation (or validators silent); fee paid
	EscrowRejected  = "rejected"  // re-execution disagreed; fee refunded
	EscrowRefunded  = "refunded"  // never settled; locked funds refunded
	EscrowDisputed  = "disputed"  // host's signed receipt contradicts its settlement; host slashed
)

// Escrow is an inference request's locked payment and, once settled, its
// transcript for validation.
type Escrow struct {
	Requester   string   `json:"requester"`
	Host        string   `json:"host"`
	Model       string   `json:"model"`
	MaxTokens   uint64   `json:"max_tokens"`
	Locked      uint64   `json:"locked"`
	RequestHash tx.Bytes `json:"request_hash"`
	// Seed fixes the executor's sampling; the ledger draws it from the
	// opening block's hash so neither side picks it.
	Seed    uint64 `json:"seed"`
	State   string `json:"state"`
	Opened  int64  `json:"opened"`
	Settled int64  `json:"settled,omitempty"`
	// Fee is price × actual tokens, fixed at settlement.
	Fee              uint64 `json:"fee,omitempty"`
	PromptTokens     uint64 `json:"prompt_tokens,omitempty"`
	CompletionTokens uint64 `json:"completion_tokens,omitempty"`
	// TranscriptHash is the executor's commitment to what it served.
	TranscriptHash tx.Bytes `json:"transcript_hash,omitempty"`
	// Validators assigned to re-execute (empty when not sampled).
	Validators []string        `json:"validators,omitempty"`
	Votes      map[string]bool `json:"votes,omitempty"`
	Closed     int64           `json:"closed,omitempty"`
}

// EpochReport summarises one tallied epoch's economics.
type EpochReport struct {
	Epoch  uint64 `json:"epoch"`
	Minted uint64 `json:"minted"`
	// ToHosts is minted reward plus executor fees paid to hosts (compute
	// contributors); ToValidators is validator fees.
	ToHosts      uint64 `json:"to_hosts"`
	ToValidators uint64 `json:"to_validators"`
	Burned       uint64 `json:"burned"`
	ToPool       uint64 `json:"to_pool"`
	Verified     int    `json:"verified"`
	Convicted    int    `json:"convicted"`
	// Withheld counts hosts a quorum of validators could not verify;
	// BadVotes and MissedVotes count validator slots voted wrongly or not
	// at all.
	Withheld    int `json:"withheld"`
	BadVotes    int `json:"bad_votes"`
	MissedVotes int `json:"missed_votes"`
}

// State is the whole ledger state. Its JSON encoding is canonical (see the
// package comment) and hashes to the app hash.
type State struct {
	ChainID    string              `json:"chain_id"`
	Height     int64               `json:"height"`
	Params     Params              `json:"params"`
	Models     map[string]Model    `json:"models"`
	Accounts   map[string]*Account `json:"accounts"`
	Validators []string            `json:"validators"`
	// Duty holds each validator's record, by account.
	Duty    map[string]*ValidatorRecord `json:"duty"`
	Hosts   map[string]*Host            `json:"hosts"`
	Epochs  map[string]*Epoch           `json:"epochs"`
	Escrows map[string]*Escrow          `json:"escrows"`
	Burned  uint64                      `json:"burned"`
	// Pool collects slashed stake not burned and rounding dust.
	Pool   uint64 `json:"pool"`
	Minted uint64 `json:"minted"`
	// FeesToHosts and FeesToValidators accumulate over the current epoch
	// and reset into its report.
	FeesToHosts      uint64        `json:"fees_to_hosts"`
	FeesToValidators uint64        `json:"fees_to_validators"`
	Reports          []EpochReport `json:"reports"`
}

// Genesis is the ledger's part of the CometBFT genesis (its app_state).
type Genesis struct {
	Params     Params            `json:"params"`
	Models     map[string]Model  `json:"models"`
	Balances   map[string]uint64 `json:"balances"`
	Validators []string          `json:"validators"`
}

// Validate checks a genesis for consistency.
func (g *Genesis) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	if len(g.Models) == 0 {
		return fmt.Errorf("genesis: models is empty")
	}
	for _, k := range sortedKeys(g.Balances) {
		if _, err := tx.ParsePubKey(k); err != nil {
			return fmt.Errorf("genesis: balances: %w", err)
		}
	}
	if len(g.Validators) == 0 {
		return fmt.Errorf("genesis: validators is empty")
	}
	for i, v := range g.Validators {
		if _, err := tx.ParsePubKey(v); err != nil {
			return fmt.Errorf("genesis: validators[%d]: %w", i, err)
		}
	}
	return nil
}

func newState(chainID string, g *Genesis) *State {
	s := &State{
		ChainID:  chainID,
		Params:   g.Params,
		Models:   map[string]Model{},
		Accounts: map[string]*Account{},
		Hosts:    map[string]*Host{},
		Duty:     map[string]*ValidatorRecord{},
		Epochs:   map[string]*Epoch{},
		Escrows:  map[string]*Escrow{},
	}
	for k, m := range g.Models {
		s.Models[k] = m
	}
	for k, b := range g.Balances {
		s.Accounts[k] = &Account{Balance: b}
	}
	s.Validators = slices.Clone(g.Validators)
	slices.Sort(s.Validators)
	s.Validators = slices.Compact(s.Validators)
	return s
}

// encode returns the canonical encoding of s.
func (s *State) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeState(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if s.Accounts == nil {
		s.Accounts = map[string]*Account{}
	}
	if s.Hosts == nil {
		s.Hosts = map[string]*Host{}
	}
	if s.Duty == nil {
		s.Duty = map[string]*ValidatorRecord{}
	}
	if s.Epochs == nil {
		s.Epochs = map[string]*Epoch{}
	}
	if s.Escrows == nil {
		s.Escrows = map[string]*Escrow{}
	}
	if s.Models == nil {
		s.Models = map[string]Model{}
	}
	return &s, nil
}

func appHash(encoded []byte) []byte {
	h := sha256.Sum256(encoded)
	return h[:]
}

// sortedKeys returns m's keys in order: state is walked in key order, never
// in Go's randomised map order, so every node does the same.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func (s *State) account(addr string) *Account {
	a, ok := s.Accounts[addr]
	if !ok {
		a = &Account{}
		s.Accounts[addr] = a
	}
	return a
}

func (s *State) isValidator(addr string) bool {
	_, ok := slices.BinarySearch(s.Validators, addr)
	return ok
}

// duty returns addr's validator record, creating it.
func (s *State) duty(addr string) *ValidatorRecord {
	r, ok := s.Duty[addr]
	if !ok {
		r = &ValidatorRecord{}
		s.Duty[addr] = r
	}
	return r
}

// assignable returns the validators that may be assigned work, in
// canonical (sorted) order: all but the jailed.
func (s *State) assignable() []string {
	out := make([]string, 0, len(s.Validators))
	for _, v := range s.Validators {
		if r := s.Duty[v]; r == nil || !r.Jailed {
			out = append(out, v)
		}
	}
	return out
}

func epochKey(e uint64) string { return fmt.Sprintf("%020d", e) }

// Phase is where a height falls within its epoch.
type Phase string

// The epoch phases, in order.
const (
	PhaseSprint     Phase = "sprint"
	PhaseValidation Phase = "validation"
	PhaseInference  Phase = "inference"
)

// EpochAt returns the epoch, phase and offset (0-based) of height h ≥ 1.
func (p Params) EpochAt(h int64) (epoch uint64, phase Phase, offset int64) {
	if h < 1 {
		h = 1
	}
	epoch = uint64((h - 1) / p.EpochBlocks)
	offset = (h - 1) % p.EpochBlocks
	switch {
	case offset < p.SprintBlocks:
		phase = PhaseSprint
	case offset < p.SprintBlocks+p.ValidationBlocks:
		phase = PhaseValidation
	default:
		phase = PhaseInference
	}
	return epoch, phase, offset
}

// EpochStart returns the first height of epoch e.
func (p Params) EpochStart(e uint64) int64 { return int64(e)*p.EpochBlocks + 1 }

// Epoch returns the record of epoch e, or nil.
func (s *State) Epoch(e uint64) *Epoch { return s.Epochs[epochKey(e)] }

// ActiveHosts returns the hosts serving model with positive weight that are
// not excluded, sorted by address, with their weights.
func (s *State) ActiveHosts(model string) (addrs []string, weights []uint64) {
	for _, a := range sortedKeys(s.Hosts) {
		h := s.Hosts[a]
		if h.Excluded || h.Weight == 0 || !slices.Contains(h.Models, model) {
			continue
		}
		addrs = append(addrs, a)
		weights = append(weights, h.Weight)
	}
	return addrs, weights
}
