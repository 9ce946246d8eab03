package sim

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Result is the report of a run; its JSON form is `joule net sim --json`.
type Result struct {
	Config ConfigSummary `json:"config"`

	Cheaters    int `json:"cheaters"`
	Detected    int `json:"detected"`
	HonestHosts int `json:"honest_hosts"`
	// DetectionRate is Detected / Cheaters: cheating identities convicted
	// (lazy validators: jailed by the duty test, the ledger's response)
	// by the end of the run.
	DetectionRate float64 `json:"detection_rate"`
	// FalseConvictions counts honest identities convicted or jailed.
	FalseConvictions int `json:"false_convictions"`
	// MeanEpochsToDetection averages, over detected cheaters, the epoch of
	// conviction + 1 (everyone cheats from epoch 0).
	MeanEpochsToDetection float64 `json:"mean_epochs_to_detection"`

	Behaviours []BehaviourResult `json:"behaviours"`

	Joule    Payouts `json:"joule"`
	Baseline Payouts `json:"baseline"`

	Totals      TotalsJSON  `json:"totals"`
	Calibration Calibration `json:"calibration"`
}

// ConfigSummary echoes the parameters that shape the figures.
type ConfigSummary struct {
	Hosts      int    `json:"hosts"`
	Epochs     int    `json:"epochs"`
	Seed       uint64 `json:"seed"`
	CheaterPPM uint32 `json:"cheater_ppm"`
	Samples    int    `json:"samples_per_validator"`
	Validators int    `json:"validators_per_host"`
	NonceCap   uint64 `json:"nonce_cap"`
	Subtle     bool   `json:"subtle"`
}

func summary(c Config) ConfigSummary {
	return ConfigSummary{c.Hosts, c.Epochs, c.Seed, c.CheaterPPM, c.Samples, c.Validators, c.NonceCap, c.Subtle}
}

// BehaviourResult breaks the figures down by behaviour.
type BehaviourResult struct {
	Behaviour             string  `json:"behaviour"`
	Hosts                 int     `json:"hosts"`
	Convicted             int     `json:"convicted"`
	MeanEpochsToDetection float64 `json:"mean_epochs_to_detection"`
	// ComputeShare is the share of all nonces really computed in the run.
	ComputeShare float64 `json:"compute_share"`
	// RewardShare and BaselineShare are shares of all payouts to hosts
	// under Joule and under the stake-weighted baseline (whose owner cut is
	// not paid to any host).
	RewardShare   float64 `json:"reward_share"`
	BaselineShare float64 `json:"baseline_share"`
}

// Payouts summarises who was paid under one reward rule.
type Payouts struct {
	// RewardGini is the Gini coefficient of total payouts per operator
	// (Sybil identities merged; the baseline's owner counts as one more
	// recipient).
	RewardGini float64 `json:"reward_gini"`
	// ComputeGini is the Gini coefficient of real compute per operator, the
	// inequality rewards would have if they followed work exactly.
	ComputeGini float64 `json:"compute_gini"`
	// HonestComputeShare is the share of everything paid out that reached
	// honest hosts for their compute (the baseline's stake and owner
	// shares do not count: they pay for holding tokens, not for work).
	HonestComputeShare float64 `json:"honest_compute_share"`
	// ComputeShare is the share of everything paid out that went to compute
	// contributors at all (honest or not).
	ComputeShare float64 `json:"compute_share"`
}

// TotalsJSON are network-wide sums in the ledger's smallest unit.
type TotalsJSON struct {
	Minted            uint64 `json:"minted"`
	PaidToHosts       uint64 `json:"paid_to_hosts"`
	Burned            uint64 `json:"burned"`
	Pool              uint64 `json:"pool"`
	RefundedFees      uint64 `json:"refunded_fees"`
	Tokens            uint64 `json:"tokens_served"`
	ValidatedRequests uint64 `json:"validated_requests"`
	BaselinePot       uint64 `json:"baseline_pot"`
	FeesRequested     uint64 `json:"fees_requested"`
	SlashedToPool     uint64 `json:"slashed_to_pool"`
}

func (r *Result) fill(hs []*state, t totals, cfg Config) {
	type agg struct {
		n, conv, epochs      int
		compute, earned, bas uint64
	}
	var by [numBehaviours]agg
	var allCompute, allEarned, allBaseline uint64
	var honestEarned, honestBaselineMiner uint64
	opEarned := map[int]float64{}
	opBase := map[int]float64{}
	opCompute := map[int]float64{}
	for _, h := range hs {
		a := &by[h.behaviour]
		a.n++
		a.compute += h.compute
		a.earned += h.earned
		a.bas += h.baseline
		allCompute += h.compute
		allEarned += h.earned
		allBaseline += h.baseline
		opEarned[h.operator] += float64(h.earned)
		opBase[h.operator] += float64(h.baseline)
		opCompute[h.operator] += float64(h.compute)
		if h.behaviour == Honest {
			r.HonestHosts++
			honestEarned += h.earned
			if h.caught {
				r.FalseConvictions++
			}
		} else {
			r.Cheaters++
			if h.caught {
				r.Detected++
				a.conv++
				a.epochs += h.caughtEpoch + 1
			}
		}
	}
	honestBaselineMiner = t.baselineHonestMiner
	var detEpochs int
	for b := Behaviour(0); b < numBehaviours; b++ {
		a := by[b]
		if a.n == 0 {
			continue
		}
		br := BehaviourResult{Behaviour: b.String(), Hosts: a.n, Convicted: a.conv,
			ComputeShare:  ratio(a.compute, allCompute),
			RewardShare:   ratio(a.earned, allEarned),
			BaselineShare: ratio(a.bas, allBaseline),
		}
		if a.conv > 0 {
			br.MeanEpochsToDetection = float64(a.epochs) / float64(a.conv)
		}
		if b != Honest {
			detEpochs += a.epochs
		}
		r.Behaviours = append(r.Behaviours, br)
	}
	if r.Cheaters > 0 {
		r.DetectionRate = float64(r.Detected) / float64(r.Cheaters)
	}
	if r.Detected > 0 {
		r.MeanEpochsToDetection = float64(detEpochs) / float64(r.Detected)
	}
	ops := func(m map[int]float64, extra ...float64) []float64 {
		out := make([]float64, 0, len(m)+len(extra))
		for op := range len(hs) {
			if v, ok := m[op]; ok {
				out = append(out, v)
			}
		}
		return append(out, extra...)
	}
	r.Joule = Payouts{
		RewardGini:         gini(ops(opEarned)),
		ComputeGini:        gini(ops(opCompute)),
		HonestComputeShare: ratio(honestEarned, t.paid),
		ComputeShare:       1, // every Joule payout is for proof weight, serving or validating
	}
	r.Baseline = Payouts{
		RewardGini:         gini(ops(opBase, float64(t.baselineOwner))),
		ComputeGini:        r.Joule.ComputeGini,
		HonestComputeShare: float64(honestBaselineMiner) / float64(max(t.baselinePot, 1)),
		ComputeShare:       ratio(t.baselineMiner, t.baselinePot),
	}
	r.Totals = TotalsJSON{t.minted, t.paid, t.burned, t.pool, t.refunded, t.tokens, t.validated, t.baselinePot, t.feesRequested, t.slashedToPool}
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WriteText prints the report as aligned text.
func (r *Result) WriteText(w io.Writer) error {
	c := r.Config
	mode := ""
	if c.Subtle {
		mode = ", subtle cheaters"
	}
	fmt.Fprintf(w, "Joule network simulation: %d hosts, %d epochs, seed %d, %d samples × %d validators per host%s\n\n",
		c.Hosts, c.Epochs, c.Seed, c.Samples, c.Validators, mode)
	fmt.Fprintf(w, "detection rate      %.1f %% (%d of %d cheating identities convicted, mean %.1f epochs)\n",
		100*r.DetectionRate, r.Detected, r.Cheaters, r.MeanEpochsToDetection)
	fmt.Fprintf(w, "false convictions   %d of %d honest hosts\n\n", r.FalseConvictions, r.HonestHosts)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "behaviour\thosts\tconvicted\tepochs to catch\tcompute share\tjoule share\tbaseline share\t")
	for _, b := range r.Behaviours {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f %%\t%.1f %%\t%.1f %%\t\n", b.Behaviour, b.Hosts, b.Convicted,
			b.MeanEpochsToDetection, 100*b.ComputeShare, 100*b.RewardShare, 100*b.BaselineShare)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rewards\treward Gini\tcompute Gini\tto honest compute\tto compute at all\t")
	for _, p := range []struct {
		name string
		p    Payouts
	}{{"joule (verified work)", r.Joule}, {"stake-weighted 41/41/18", r.Baseline}} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.1f %%\t%.1f %%\t\n", p.name, p.p.RewardGini, p.p.ComputeGini, 100*p.p.HonestComputeShare, 100*p.p.ComputeShare)
	}
	tw.Flush()
	t := r.Totals
	fmt.Fprintf(w, "\nminted %d, paid to hosts %d, burned %d, pool %d, refunded fees %d; %d tokens served, %d requests validated\n",
		t.Minted, t.PaidToHosts, t.Burned, t.Pool, t.RefundedFees, t.Tokens, t.ValidatedRequests)
	cal := r.Calibration
	fmt.Fprintf(w, "re-execution calibration (%d requests each): honest pass %.0f %%, substitution caught %.0f %%, pre-fill caught %.0f %%\n",
		cal.Requests, 100*cal.HonestPassRate, 100*cal.SubstitutionCatch, 100*cal.PrefillCatch)
	return nil
}
