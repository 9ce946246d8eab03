package ledger

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/jouleworks/joule/network/proof"
	"github.com/jouleworks/joule/network/tx"
)

var alicePub = tx.PubKey(alice.Public().(ed25519.PublicKey))

// hostProof is alice's commitment in one epoch as the test sees it.
type hostProof struct {
	tree      *proof.Tree
	committed []proof.Digest // what entered the tree
	real      []proof.Digest // what the workload gives
	sample    []uint64       // the validator's sampled leaves
}

// register registers alice as a host (her nonce 1).
func register(t *testing.T, a *App) {
	t.Helper()
	reg := sign(t, alice, 1, func(t *tx.Tx) {
		t.RegisterHost = &tx.RegisterHost{Models: []string{"joule-ref-1"}, Endpoint: "http://127.0.0.1:9", Bond: 200}
	})
	if r := nextBlock(t, a, reg); r.TxResults[0].Code != 0 {
		t.Fatalf("register: %s", r.TxResults[0].Log)
	}
}

// commitEpoch has alice commit 8 leaves in epoch e (with her nonce),
// altering those fake reports, and returns after the reveal block.
func commitEpoch(t *testing.T, a *App, e, nonce uint64, fake func(uint64) bool) *hostProof {
	t.Helper()
	p := a.View().Params
	for a.View().Height < p.EpochStart(e) {
		nextBlock(t, a)
	}
	w, err := proof.NewWeights(tinyProof, [32]byte(a.View().Epoch(e).Seed))
	if err != nil {
		t.Fatal(err)
	}
	wk := w.Worker(alicePub)
	const count = 8
	hp := &hostProof{committed: make([]proof.Digest, count), real: make([]proof.Digest, count)}
	leaves := make([][32]byte, count)
	for i := range uint64(count) {
		hp.real[i] = wk.Compute(i)
		hp.committed[i] = hp.real[i]
		if fake != nil && fake(i) {
			hp.committed[i][0] ^= 1
		}
		leaves[i] = proof.Leaf(i, hp.committed[i])
	}
	hp.tree = proof.Build(leaves)
	root := hp.tree.Root()
	commit := sign(t, alice, nonce, func(t *tx.Tx) { t.CommitProof = &tx.CommitProof{Epoch: e, Root: root[:], Count: count} })
	if r := nextBlock(t, a, commit); r.TxResults[0].Code != 0 {
		t.Fatalf("commit: %s", r.TxResults[0].Log)
	}
	for a.View().Height < p.EpochStart(e)+p.SprintBlocks { // the reveal block
		nextBlock(t, a)
	}
	ep := a.View().Epoch(e)
	c := ep.Commitments[addr(alice)]
	if len(c.Validators) != 1 || c.Validators[0] != addr(val) {
		t.Fatalf("assigned %v, want the one validator", c.Validators)
	}
	hp.sample = proof.SampleLeaves([32]byte(ep.Reveal), alicePub, tx.PubKey(val.Public().(ed25519.PublicKey)), count, p.SamplesPerValidator)
	return hp
}

// openings returns the vote's openings of leaves with the validator's
// digests: recomputed (honest) or made up (lazy).
func (hp *hostProof) openings(leaves []uint64, lazy bool) []tx.Bytes {
	var out []tx.Bytes
	for _, i := range leaves {
		d := hp.real[i]
		if lazy {
			d = proof.Digest{}
		}
		b, _ := proof.Opening{Index: i, Digest: d, Path: hp.tree.Prove(i)}.MarshalBinary()
		out = append(out, b)
	}
	return out
}

// evidence is the host's blinded opening of leaf i.
func (hp *hostProof) evidence(i uint64) []byte {
	b, _ := proof.Opening{Index: i, Digest: hp.committed[i], Path: hp.tree.Prove(i)}.Blind().MarshalBinary()
	return b
}

func vote(t *testing.T, nonce, epoch uint64, openings []tx.Bytes, ev []byte) []byte {
	return sign(t, val, nonce, func(t *tx.Tx) {
		t.ProofVote = &tx.ProofVote{Epoch: epoch, Host: alicePub, Openings: openings, Evidence: ev}
	})
}

// tallied advances past epoch e's tally.
func tallied(t *testing.T, a *App, e uint64) *State {
	p := a.View().Params
	for a.View().Height < p.EpochStart(e)+p.SprintBlocks+p.ValidationBlocks {
		nextBlock(t, a)
	}
	return a.View()
}

// verifiedHost registers alice and gets her honest epoch-0 commitment
// verified by a full, correct vote.
func verifiedHost(t *testing.T, a *App) {
	t.Helper()
	register(t, a)
	hp := commitEpoch(t, a, 0, 2, nil)
	if r := nextBlock(t, a, vote(t, 1, 0, hp.openings(hp.sample, false), nil)); r.TxResults[0].Code != 0 {
		t.Fatalf("clean vote: %s", r.TxResults[0].Log)
	}
	if c := tallied(t, a, 0).Epoch(0).Commitments[addr(alice)]; c.Outcome != OutcomeVerified {
		t.Fatalf("outcome %q, want verified", c.Outcome)
	}
}

// TestProofEpoch: evidence naming an honest leaf is refused, a leaf
// outside the validator's sample is refused, and one re-verified wrong
// leaf convicts and slashes; the validator that proved it is paid.
func TestProofEpoch(t *testing.T) {
	a := initApp(t)
	register(t, a)
	hp := commitEpoch(t, a, 0, 2, func(i uint64) bool { return i%2 == 1 })
	var honest, fake []uint64
	for _, i := range hp.sample {
		if i%2 == 1 {
			fake = append(fake, i)
		} else {
			honest = append(honest, i)
		}
	}
	if len(honest) == 0 || len(fake) == 0 {
		t.Fatalf("sample %v has no honest or no fake leaf; pick another fake pattern", hp.sample)
	}
	unsampled := uint64(0)
	for unsampled < 8 && slicesContains(hp.sample, unsampled) {
		unsampled++
	}
	bad := []struct {
		name string
		raw  []byte
		want string
	}{
		{"honest leaf as evidence", vote(t, 1, 0, nil, hp.evidence(honest[0])), "no fraud"},
		{"unsampled leaf", vote(t, 1, 0, hp.openings([]uint64{unsampled}, false), nil), "not one of this validator's sampled leaves"},
		{"garbage opening", vote(t, 1, 0, []tx.Bytes{{1, 2, 3}}, nil), "openings[0]"},
	}
	raws := make([][]byte, len(bad))
	for i, c := range bad {
		raws[i] = c.raw
	}
	r := nextBlock(t, a, raws...) // the validation phase is 3 blocks: one for all
	for i, c := range bad {
		if res := r.TxResults[i]; tx.Code(res.Code) != tx.CodeInvalid || !strings.Contains(res.Log, c.want) {
			t.Fatalf("%s: code %d %q, want invalid mentioning %q", c.name, res.Code, res.Log, c.want)
		}
	}
	r = nextBlock(t, a, vote(t, 2, 0, hp.openings(honest, false), hp.evidence(fake[0])))
	if r.TxResults[0].Code != 0 {
		t.Fatalf("vote with real evidence: %s", r.TxResults[0].Log)
	}
	st := tallied(t, a, 0)
	h := st.Hosts[addr(alice)]
	if !h.Excluded || h.Slashed != 100 || h.Bond != 100 {
		t.Fatalf("host after tally: excluded %v slashed %d bond %d, want excluded, 100 slashed of 200", h.Excluded, h.Slashed, h.Bond)
	}
	// reward.Slash: 50 % of the bond taken, half of that burned, half pooled.
	if st.Burned != 50 || st.Pool != 50 {
		t.Fatalf("burned %d pool %d, want 50 and 50", st.Burned, st.Pool)
	}
	if r := st.Duty[addr(val)]; r.Votes != 1 || r.Earned != st.Params.Mint.Mint(0)*500/10_000 {
		t.Fatalf("validator %+v: want its fraud proof paid the whole validation pot", r)
	}
}

// TestLazyVote: a validator that votes "valid" without computing carries
// digests that do not hash into the root; the vote is recorded as bad,
// earns nothing, costs 10 % of its balance and fails its duty test — and
// does not verify the host.
func TestLazyVote(t *testing.T) {
	a := initApp(t)
	register(t, a)
	hp := commitEpoch(t, a, 0, 2, nil)
	bal := a.View().Accounts[addr(val)].Balance
	if r := nextBlock(t, a, vote(t, 1, 0, hp.openings(hp.sample, true), nil)); r.TxResults[0].Code != 0 {
		t.Fatalf("lazy vote refused (it must be recorded against the validator): %s", r.TxResults[0].Log)
	}
	st := tallied(t, a, 0)
	c := st.Epoch(0).Commitments[addr(alice)]
	if v := c.Votes[addr(val)]; !v.Bad || !strings.Contains(v.Reason, "does not hash into the committed root") {
		t.Fatalf("vote %+v, want bad", v)
	}
	r := st.Duty[addr(val)]
	if r.BadVotes != 1 || r.Earned != 0 || r.Slashed != bal/10 || r.Duty.Failures != 1 {
		t.Fatalf("validator record %+v, want 1 bad vote, nothing earned, %d slashed", r, bal/10)
	}
	if got := st.Accounts[addr(val)].Balance; got != bal-bal/10 {
		t.Fatalf("validator balance %d, want %d", got, bal-bal/10)
	}
	if c.Outcome != OutcomeUnverified || st.Hosts[addr(alice)].Withholding.Samples != 0 {
		t.Fatalf("outcome %q withholding %+v: want unverified and no withholding record (the validator, not the host, failed)", c.Outcome, st.Hosts[addr(alice)].Withholding)
	}
	if rep := st.Reports[len(st.Reports)-1]; rep.BadVotes != 1 || rep.ToValidators != 0 {
		t.Fatalf("report %+v, want 1 bad vote and nothing to validators", rep)
	}
}

// TestWithholdingEscalates: a host that commits but answers none of its
// validator's openings is unverified (no weight, no slash) the first time
// and convicted by the duty test on the fifth epoch in a row.
func TestWithholdingEscalates(t *testing.T) {
	a := initApp(t)
	register(t, a)
	for e := range uint64(5) {
		commitEpoch(t, a, e, 2+e, nil)
		if r := nextBlock(t, a, vote(t, 1+e, e, nil, nil)); r.TxResults[0].Code != 0 {
			t.Fatalf("epoch %d: empty vote: %s", e, r.TxResults[0].Log)
		}
		st := tallied(t, a, e)
		h := st.Hosts[addr(alice)]
		if h.Weight != 0 || h.Withholding.Failures != uint32(e+1) {
			t.Fatalf("epoch %d: weight %d withholding %+v, want 0 and %d failures", e, h.Weight, h.Withholding, e+1)
		}
		if got, want := h.Excluded, e == 4; got != want {
			t.Fatalf("epoch %d: excluded = %v, want %v (%s)", e, got, want, h.Reason)
		}
	}
	if h := a.View().Hosts[addr(alice)]; h.Slashed != 100 || !strings.Contains(h.Reason, "withheld") {
		t.Fatalf("host %+v, want 100 slashed for withholding", h)
	}
	// The validator did its job each time: valid votes, never jailed.
	if r := a.View().Duty[addr(val)]; r.Votes != 5 || r.Jailed {
		t.Fatalf("validator %+v, want 5 valid votes", r)
	}
}

// TestDispute: a host that signs a receipt for one transcript and settles
// another is slashed on the requester's dispute, and the fee refunded;
// disputes without that proof are refused.
func TestDispute(t *testing.T) {
	a := initApp(t)
	verifiedHost(t, a)
	bob0 := a.View().Accounts[addr(bob)].Balance
	open := sign(t, bob, 1, func(t *tx.Tx) {
		t.OpenEscrow = &tx.OpenEscrow{ID: "d1", Model: "joule-ref-1", Host: alicePub, MaxTokens: 100, RequestHash: make([]byte, 32)}
	})
	settled := make([]byte, 32)
	settle := sign(t, alice, 3, func(t *tx.Tx) {
		t.SettleInference = &tx.SettleInference{EscrowID: "d1", PromptTokens: 10, CompletionTokens: 10, TranscriptHash: settled}
	})
	for _, raw := range [][]byte{open, settle} {
		if r := nextBlock(t, a, raw); r.TxResults[0].Code != 0 {
			t.Fatalf("escrow: %s", r.TxResults[0].Log)
		}
	}
	served := make([]byte, 32)
	served[0] = 1
	receipt := func(h []byte) []byte { return ed25519.Sign(alice, tx.ReceiptBytes("d1", h)) }
	dispute := func(k ed25519.PrivateKey, nonce uint64, h, sig []byte) []byte {
		return sign(t, k, nonce, func(t *tx.Tx) { t.Dispute = &tx.DisputeInference{EscrowID: "d1", TranscriptHash: h, Receipt: sig} })
	}
	bad := []struct {
		name string
		raw  []byte
		code tx.Code
	}{
		{"receipt for the settled transcript", dispute(bob, 2, settled, receipt(settled)), tx.CodeInvalid},
		{"receipt signed by someone else", dispute(bob, 2, served, ed25519.Sign(bob, tx.ReceiptBytes("d1", served))), tx.CodeInvalid},
		{"not the requester", dispute(val, 2, served, receipt(served)), tx.CodeUnauthorized},
	}
	for _, c := range bad {
		r := nextBlock(t, a, c.raw)
		if tx.Code(r.TxResults[0].Code) != c.code {
			t.Fatalf("%s: code %d %q, want %s", c.name, r.TxResults[0].Code, r.TxResults[0].Log, c.code)
		}
	}
	if r := nextBlock(t, a, dispute(bob, 2, served, receipt(served))); r.TxResults[0].Code != 0 {
		t.Fatalf("proven dispute: %s", r.TxResults[0].Log)
	}
	st := a.View()
	if e := st.Escrows["d1"]; e.State != EscrowDisputed {
		t.Fatalf("escrow state %s, want disputed", e.State)
	}
	if got := st.Accounts[addr(bob)].Balance; got != bob0 {
		t.Fatalf("requester balance %d, want %d (fee refunded)", got, bob0)
	}
	if h := st.Hosts[addr(alice)]; !h.Excluded || h.Slashed != 100 {
		t.Fatalf("host %+v, want slashed and excluded", h)
	}
}

func slicesContains(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
