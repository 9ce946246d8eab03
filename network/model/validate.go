package model

import (
	"context"
	"fmt"
)

// Reasons a Verdict gives for failing a completion.
const (
	ReasonLogprobs = "logprobs"  // reported logprobs differ from the re-execution
	ReasonChoice   = "choice"    // a token is not the seeded choice
	ReasonFinish   = "finish"    // finish reason or length inconsistent with the request
	ReasonModel    = "model"     // completion claims another model than requested
	ReasonShape    = "malformed" // completion is internally inconsistent
	ReasonNone     = ""          // valid
)

// Tolerance bounds how far a validator's re-execution may differ from the
// executor's report and still pass.
type Tolerance struct {
	// Logprob is the largest allowed |Δ logprob| per candidate, in LP units.
	// 0 for the reference model (bit-exact); for float backends on different
	// GPUs a few hundredths of a nat (e.g. LPFromNats(0.05)).
	Logprob LP
}

// Exact is the tolerance for integer backends such as Reference.
var Exact = Tolerance{}

// Verdict is the outcome of Validate.
type Verdict struct {
	Valid  bool
	Reason string // one of the Reason constants; ReasonNone when Valid
	Step   int    // first failing step (-1 when Valid)
	Detail string // human-readable explanation
	// MaxDelta is the largest |Δ logprob| seen over compared candidates.
	MaxDelta LP
	// Steps is how many positions were re-executed.
	Steps int
}

func fail(reason string, step int, maxDelta LP, steps int, format string, a ...any) Verdict {
	return Verdict{Reason: reason, Step: step, Detail: fmt.Sprintf(format, a...), MaxDelta: maxDelta, Steps: steps}
}

// Validate re-executes req on b with the executor's tokens from c enforced
// (teacher forcing) and checks, at every step, that (1) the executor's
// recorded candidates agree with b's within tol and (2) the executor's token
// is the seeded choice Choose makes from b's candidates (within tol, scaled
// by the temperature, for float backends). A Completion that stopped must
// have chosen the end-of-sequence token at its last step. The error is for
// failures to validate at all (backend down, bad request); a cheating
// executor yields a Verdict with Valid false and a nil error.
func Validate(ctx context.Context, b Backend, req Request, c Completion, tol Tolerance) (Verdict, error) {
	if err := req.Check(); err != nil {
		return Verdict{}, err
	}
	if c.Model != req.Model {
		return fail(ReasonModel, 0, 0, 0, "completion says model %q, request asked %q", c.Model, req.Model), nil
	}
	n := len(c.Tokens)
	switch {
	case n > req.MaxTokens:
		return fail(ReasonFinish, req.MaxTokens, 0, 0, "%d tokens exceed max_tokens %d", n, req.MaxTokens), nil
	case c.FinishReason == FinishLength && n != req.MaxTokens:
		return fail(ReasonFinish, n, 0, 0, "finish %q after %d of %d tokens", c.FinishReason, n, req.MaxTokens), nil
	case c.FinishReason != FinishLength && c.FinishReason != FinishStop:
		return fail(ReasonFinish, n, 0, 0, "unknown finish reason %q", c.FinishReason), nil
	case c.CompletionTokens != n:
		return fail(ReasonShape, n, 0, 0, "usage says %d completion tokens, %d present", c.CompletionTokens, n), nil
	}
	steps := n
	if c.FinishReason == FinishStop {
		steps++ // the step that chose end-of-sequence
	}
	temp := req.TemperatureMilli()
	margin := int64(tol.Logprob)
	if temp > 0 {
		margin = margin * 1000 / temp
	}
	var maxDelta LP
	prefix := c.Texts()
	for i := range steps {
		st, err := b.Next(ctx, req.Model, req.Messages, prefix[:i], SampleK)
		if err != nil {
			return Verdict{}, fmt.Errorf("validate step %d: %w", i, err)
		}
		if len(st.Candidates) == 0 {
			return Verdict{}, fmt.Errorf("validate step %d: %w: no candidates", i, ErrBackend)
		}
		if i == 0 && st.PromptTokens != c.PromptTokens {
			return fail(ReasonShape, 0, 0, 1, "usage says %d prompt tokens, re-execution counts %d", c.PromptTokens, st.PromptTokens), nil
		}
		mine := st.Candidates
		var chosen Candidate
		if i < n {
			tok := c.Tokens[i]
			d, ok, why := compareTop(tok.Top, mine, tol.Logprob)
			maxDelta = max(maxDelta, d)
			if !ok {
				return fail(ReasonLogprobs, i, maxDelta, i+1, "step %d: %s", i, why), nil
			}
			chosen = Candidate{Text: tok.Text, Logprob: tok.Logprob}
		} else {
			chosen = Candidate{EOS: true}
		}
		// Find the chosen token among the validator's own candidates and
		// check it wins the seeded draw (up to margin).
		best := mine[Choose(req.Seed, i, temp, mine)]
		var got *Candidate
		for j := range mine {
			if mine[j].EOS == chosen.EOS && (chosen.EOS || mine[j].Text == chosen.Text) {
				got = &mine[j]
				break
			}
		}
		if got == nil {
			return fail(ReasonChoice, i, maxDelta, i+1, "step %d: token %q is not among the top %d", i, chosen.Text, len(mine)), nil
		}
		if i < n && absLP(c.Tokens[i].Logprob-got.Logprob) > tol.Logprob {
			return fail(ReasonLogprobs, i, maxDelta, i+1, "step %d: token %q logprob %d, re-execution %d", i, chosen.Text, c.Tokens[i].Logprob, got.Logprob), nil
		}
		if Score(req.Seed, i, temp, *got) < Score(req.Seed, i, temp, best)-margin {
			return fail(ReasonChoice, i, maxDelta, i+1, "step %d: executor chose %q, seeded choice is %q", i, label(*got), label(best)), nil
		}
	}
	return Verdict{Valid: true, Step: -1, MaxDelta: maxDelta, Steps: steps}, nil
}

func label(c Candidate) string {
	if c.EOS {
		return "<end of sequence>"
	}
	return c.Text
}

func absLP(v LP) LP {
	if v < 0 {
		return -v
	}
	return v
}

// compareTop checks the executor's recorded candidates against the
// validator's: every recorded token the validator also ranks must agree
// within tol, and one the validator does not rank must be no likelier than
// the validator's least likely candidate (+tol) — otherwise it should have
// been there. It also requires the executor to have recorded as many
// candidates as the validator found (up to SampleK).
func compareTop(theirs, mine []Candidate, tol LP) (maxDelta LP, ok bool, why string) {
	if len(theirs) < len(mine) {
		return 0, false, fmt.Sprintf("%d candidates recorded, re-execution has %d", len(theirs), len(mine))
	}
	index := make(map[string]LP, len(mine))
	for _, c := range mine {
		index[key(c)] = c.Logprob
	}
	floor := mine[len(mine)-1].Logprob
	for _, c := range theirs {
		v, found := index[key(c)]
		if !found {
			if c.Logprob > floor+tol {
				return maxDelta, false, fmt.Sprintf("candidate %q at %d is missing from re-execution (its floor %d)", label(c), c.Logprob, floor)
			}
			continue
		}
		d := absLP(c.Logprob - v)
		maxDelta = max(maxDelta, d)
		if d > tol {
			return maxDelta, false, fmt.Sprintf("candidate %q logprob %d, re-execution %d (|Δ| %d > %d)", label(c), c.Logprob, v, d, tol)
		}
	}
	return maxDelta, true, ""
}

func key(c Candidate) string {
	if c.EOS {
		return "\x00eos"
	}
	return "t" + c.Text
}
