package health

import (
	"fmt"
	"math"
)

// Thresholds: each is the feature value at which a kind's score is 0.5 (an
// alarm on its own), with the width over which the score rises. They were
// set by measuring healthy and faulty emulated miners (docs/health.md) and
// leave margin over the healthy fleet's worst case.
const (
	fanDeficit50 = 0.05  // a fan 5 % slower than its peers at the same command
	fanDeficitW  = 0.01  //
	fanJitter50  = 120.0 // tach jitter σ 120 RPM against the peers (healthy: tach noise, ≈ 40)
	fanJitterW   = 15.0  //
	fanFailDef   = 0.35  // deficit at which worn bearings seize (TTF target)
	minJitterN   = 20    // polls under load needed to judge jitter (the last hour, or more)

	chipDrop50   = 0.5   // chips gone from one board within the window
	chipDropW    = 0.5   //
	chipHash50   = 0.03  // board hashrate/ideal down 3 % against its baseline
	chipHashW    = 0.006 //
	chipFailFrac = 0.25  // share of a board's chips lost when the chain goes (TTF target)

	hwPeer50    = 0.7  // log10 of board HW fraction over its peers': 5×
	hwPeerW     = 0.12 //
	hwAbsFloor  = 1e-4 // and at least 0.01 % of nonces
	hwFailFrac  = 0.05 // HW fraction at which firmware disables a chain (TTF target)
	hwPeerFloor = 2e-6 // floor for the peers' fraction (a quiet board)

	thermEx50    = 0.03  // a board's chip−inlet rise 3 % above its peers', beyond baseline
	thermExW     = 0.005 //
	thermMinC    = 20.0  // rises below this (idle, ramp) say nothing about the heat path
	thermRecentH = 1.0 / 3
	thermFailEx  = 0.6 // excess at which the board overheats (TTF target)

	psuJTH50   = 0.018 // comparable J/TH up 1.8 % at the same profile
	psuJTHW    = 0.003 //
	psuSag50   = 0.10  // 12 V rail down 0.10 V
	psuSagW    = 0.02  //
	psuFailJTH = 0.045 // J/TH rise at which the PSU gives out (TTF target)
	psuFailSag = 0.5   // rail sag at which the PSU gives out (TTF target)

	netSurprise50 = 4.5   // −log10 of the chance of the last hour's timeouts at the earlier rate
	netSurpriseW  = 0.4   //
	netMinRate    = 0.005 // floor for the earlier timeout rate (a quiet history proves little)
	netFrac50     = 0.05  // and at least 5 % of that hour's polls
	netFracW      = 0.01  //
)

// fans compares each fan with the median of the others: every fan gets the
// same PWM command, so the peers' speed is the commanded speed the fan
// should reach. Worn bearings slow it and make its tach wobble.
func (w *win) fans() evidence {
	nf := 0
	for i := len(w.s) - 1; i >= 0; i-- {
		if !w.s[i].Timeout && len(w.s[i].FansRPM) > 0 {
			nf = len(w.s[i].FansRPM)
			break
		}
	}
	if nf < 2 {
		return evidence{}
	}
	def := make([]series, nf)
	res := make([]series, nf) // RPM off the peers' median
	for f := range def {
		def[f], res[f] = w.newSeries(), w.newSeries()
	}
	speed, chipC, kW := w.newSeries(), w.newSeries(), w.newSeries()
	others := make([]float64, 0, nf)
	for i := range w.s {
		s := &w.s[i]
		// Only under load: at idle the fans crawl and the tach quantum
		// dominates.
		if s.Timeout || s.State != StateHashing || len(s.FansRPM) != nf || !allPositive(s.FansRPM) {
			continue
		}
		sum := 0.0
		for f, r := range s.FansRPM {
			others = others[:0]
			for g, q := range s.FansRPM {
				if g != f {
					others = append(others, q)
				}
			}
			ref := median(others)
			def[f].add(w.t[i], 1-r/ref)
			res[f].add(w.t[i], r-ref)
			sum += r
		}
		speed.add(w.t[i], sum/float64(nf))
		if c := hottest(s); c > 0 && s.PowerW > 0 {
			chipC.add(w.t[i], c)
			kW.add(w.t[i], s.PowerW/1000)
		}
	}
	var best evidence
	for f := range def {
		d := &def[f]
		if len(d.v) < 3 {
			continue
		}
		now, base := w.recent(d), w.base(d)
		// Jitter in RPM over the last hour: bearing wobble and tach noise
		// are absolute, not proportional to speed.
		w.buf = w.buf[:0]
		rv := res[f].v
		for i, t := range res[f].t {
			if t >= -1 || i >= len(rv)-minJitterN {
				w.buf = append(w.buf, rv[i])
			}
		}
		jit := math.NaN()
		if len(w.buf) >= minJitterN {
			jit = robustSigma(w.buf)
		}
		score := math.Max(sig(now, fanDeficit50, fanDeficitW), sig(jit, fanJitter50, fanJitterW))
		if score < best.score || (best.reason != "" && score == best.score) {
			continue
		}
		r := fmt.Sprintf("fan %d runs %.1f %% below the other fans at the same command", f, 100*now)
		if !math.IsNaN(base) {
			r += fmt.Sprintf(" (%.1f %% %s ago)", 100*base, ago(-d.t[0]))
		}
		if !math.IsNaN(jit) {
			r += fmt.Sprintf("; its tach jitter σ is %.0f RPM", jit)
		}
		if sb := w.base(&speed); !math.IsNaN(sb) {
			r += fmt.Sprintf("; mean fan speed %.0f → %.0f RPM", sb, w.recent(&speed))
		}
		if cb := w.base(&chipC); !math.IsNaN(cb) {
			r += fmt.Sprintf("; hottest chip %.0f → %.0f °C at %.2f → %.2f kW", cb, w.recent(&chipC), w.base(&kW), w.recent(&kW))
		}
		best = evidence{score: score, reason: r, ttfH: powerLawTTF(d, d.t[0], 2, fanFailDef)}
		best.note = fmt.Sprintf("fans within %.1f %% of each other", 100*math.Abs(now))
	}
	return best
}

// hottest is the hottest live board's chip temperature, 0 when none.
func hottest(s *Sample) float64 {
	c := 0.0
	for _, b := range s.Boards {
		if !b.Lost && b.ChipC > c {
			c = b.ChipC
		}
	}
	return c
}

func allPositive(xs []float64) bool {
	for _, x := range xs {
		if !(x > 0) {
			return false
		}
	}
	return true
}

// boardSet is the number of boards in the newest sample that has any.
func (w *win) boardSet() int {
	for i := len(w.s) - 1; i >= 0; i-- {
		if !w.s[i].Timeout && len(w.s[i].Boards) > 0 {
			return len(w.s[i].Boards)
		}
	}
	return 0
}

// boards finds chips dropping out of a board (chain_acs 'x' count and the
// board's hashrate against ideal) and a board whose hardware-error fraction
// climbs above its peers'. Errors rising on a board that is also losing
// chips count as chip drop.
func (w *win) boards() (chip, hw evidence) {
	nb := w.boardSet()
	if nb == 0 {
		return
	}
	type hwAcc struct {
		recentHW, recentN, baseHW, baseN float64
		frac                             series // per-interval fraction, for the TTF
	}
	acc := make([]hwAcc, nb)
	for b := range acc {
		acc[b].frac = w.newSeries()
	}
	chipScore := make([]float64, nb)
	for b := 0; b < nb; b++ {
		lost, ratio := w.newSeries(), w.newSeries()
		okMax, okNow, chips := -1, -1, 0
		prev := -1
		for i := range w.s {
			s := &w.s[i]
			if s.Timeout || len(s.Boards) != nb || s.Boards[b].Lost {
				continue
			}
			bd := &s.Boards[b]
			if bd.Chips > 0 && bd.ChipsOK > 0 {
				chips = bd.Chips
				okMax, okNow = max(okMax, bd.ChipsOK), bd.ChipsOK
				lost.add(w.t[i], float64(bd.Chips-bd.ChipsOK)/float64(bd.Chips))
			}
			if s.State == StateHashing && bd.IdealTHs > 0 && bd.HashTHs > 0 {
				ratio.add(w.t[i], bd.HashTHs/bd.IdealTHs)
			}
			// Hardware errors per nonce over each interval between polls.
			if s.State == StateHashing && bd.HWErrors >= 0 && bd.HashTHs > 0 {
				if prev >= 0 {
					p := &w.s[prev].Boards[b]
					dhw := bd.HWErrors - p.HWErrors
					n := (bd.HashTHs + p.HashTHs) / 2 * noncesPerTHs * (w.t[i] - w.t[prev]) * 3600
					if dhw >= 0 && n > 0 {
						a := &acc[b]
						if w.t[i] >= -1 {
							a.recentHW += dhw
							a.recentN += n
						}
						if w.t[i] < w.baseEnd {
							a.baseHW += dhw
							a.baseN += n
						}
						a.frac.add(w.t[i], dhw/n)
					}
				}
				prev = i
			} else if s.State != StateHashing {
				prev = -1
			}
		}
		dropped := okMax - okNow
		// Errored nonces do not count as hashrate; a board with rising
		// errors is not losing chips for that.
		hwNow := 0.0
		if a := &acc[b]; a.recentN > 0 {
			hwNow = a.recentHW / a.recentN
		}
		decline := w.base(&ratio) - w.recent(&ratio) - hwNow
		score := math.Max(sig(float64(dropped), chipDrop50, chipDropW), sig(decline, chipHash50, chipHashW))
		if okMax < 0 || dropped <= 0 {
			score = sig(decline, chipHash50, chipHashW)
		}
		chipScore[b] = score
		if score > chip.score {
			r := fmt.Sprintf("board %d", b)
			if dropped > 0 {
				r += fmt.Sprintf(" lost %d of %d chips in the last %s (%d missing in all)", dropped, chips, ago(-lost.t[0]), chips-okNow)
			}
			if !math.IsNaN(decline) {
				r += fmt.Sprintf("; hashrate %.1f %% of ideal (%.1f %% at baseline)", 100*w.recent(&ratio), 100*w.base(&ratio))
			}
			chip = evidence{score: score, reason: r}
			// A trend needs at least three distinct losses to extrapolate.
			if distinctPositive(lost.v) >= 3 {
				chip.ttfH = powerLawTTF(&lost, lost.tOr(0), 3, chipFailFrac)
			}
		}
	}
	// Hardware errors: each board against the median of the others.
	fr := make([]float64, nb)
	for b := range acc {
		fr[b] = math.NaN()
		if acc[b].recentN > 0 {
			fr[b] = acc[b].recentHW / acc[b].recentN
		}
	}
	peers := make([]float64, 0, nb)
	for b := range acc {
		if math.IsNaN(fr[b]) {
			continue
		}
		peers = peers[:0]
		for c := range acc {
			if c != b && !math.IsNaN(fr[c]) {
				peers = append(peers, fr[c])
			}
		}
		peer := math.NaN()
		switch {
		case len(peers) > 0:
			peer = median(peers)
		case acc[b].baseN > 0:
			peer = acc[b].baseHW / acc[b].baseN
		}
		if math.IsNaN(peer) {
			continue
		}
		lr := math.Log10(fr[b] / math.Max(peer, hwPeerFloor))
		score := math.Min(sig(lr, hwPeer50, hwPeerW), sig(math.Log10(fr[b]/hwAbsFloor), 0, 0.1))
		if fr[b] <= 0 {
			score = 0
		}
		r := fmt.Sprintf("board %d hardware errors %.3f %% of nonces in the last hour, %.0f× its peers' %.4f %%", b, 100*fr[b], fr[b]/math.Max(peer, hwPeerFloor), 100*peer)
		if acc[b].baseN > 0 {
			r += fmt.Sprintf(" (%.4f %% at baseline)", 100*acc[b].baseHW/acc[b].baseN)
		}
		ttf := expTTF(&acc[b].frac, -3, hwFailFrac)
		if chipScore[b] > 0.1 && score > 0.1 {
			// Errors rising on a board that is shedding chips: chip drop.
			if s := math.Max(score, chipScore[b]); s >= chip.score {
				chip.score = s
				chip.reason += "; " + r
			}
			continue
		}
		if score > hw.score || hw.reason == "" {
			hw = evidence{score: score, reason: r, ttfH: ttf}
			hw.note = fmt.Sprintf("HW errors ≤ %.3f %%", 100*fr[b])
		}
	}
	return chip, hw
}

// distinctPositive counts the distinct values > 0 in xs.
func distinctPositive(xs []float64) int {
	n, last := 0, math.NaN()
	for _, x := range xs {
		if x > 0 && x != last {
			n++
			last = x
		}
	}
	return n
}

// tOr returns the first time in s, or def when s is empty.
func (s *series) tOr(def float64) float64 {
	if len(s.t) == 0 {
		return def
	}
	return s.t[0]
}

// expTTF extrapolates an exponentially growing rate (log-linear fit over the
// samples at t ≥ from) to xFail.
func expTTF(s *series, from, xFail float64) float64 {
	var f fit
	for i, t := range s.t {
		if t >= from && s.v[i] > 0 {
			f.add(t, math.Log(s.v[i]))
		}
	}
	a, b, ok := f.line()
	if !ok || b <= 0.05 { // slower than ×1.05 an hour is no trend
		return 0
	}
	return math.Max(0, math.Min((math.Log(xFail)-a)/b, maxTTFHours))
}

// thermal compares each board's chip−inlet rise with its peers': a board
// whose heat path degrades runs hotter than boards at the same power and
// airflow (or, under a PI fan loop holding the hottest board at target,
// the others run cooler). Ambient swings move every board alike.
func (w *win) thermal() evidence {
	nb := w.boardSet()
	if nb < 2 {
		return evidence{}
	}
	ex := make([]series, nb)
	degC := make([]series, nb)
	for b := range ex {
		ex[b], degC[b] = w.newSeries(), w.newSeries()
	}
	rises := make([]float64, nb)
	others := make([]float64, 0, nb)
	for i := range w.s {
		s := &w.s[i]
		if s.Timeout || s.State != StateHashing || len(s.Boards) != nb {
			continue
		}
		ok := true
		for b := range s.Boards {
			rises[b] = s.Boards[b].ChipC - s.InletC
			if s.Boards[b].Lost || s.Boards[b].ChipC <= 0 || rises[b] < thermMinC {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for b := range rises {
			others = others[:0]
			for c, r := range rises {
				if c != b {
					others = append(others, r)
				}
			}
			m := median(others)
			ex[b].add(w.t[i], rises[b]/m-1)
			degC[b].add(w.t[i], rises[b]-m)
		}
	}
	var best evidence
	for b := range ex {
		e := &ex[b]
		if len(e.v) < 3 {
			continue
		}
		// Runaway is fast: "now" is the median of the last 20 min, not
		// half an hour, trading a little noise for less lag.
		now, base := w.recentOver(e, thermRecentH), w.base(e)
		// A board that always ran hotter does not alarm; one that ran
		// cooler is compared with its peers, not with its own deficit
		// (whole-degree sensors make small offsets come and go).
		x := now
		if base > 0 {
			x = now - base
		}
		score := sig(x, thermEx50, thermExW)
		if score <= best.score && best.reason != "" {
			continue
		}
		r := fmt.Sprintf("board %d chips run %.1f °C (%.1f %%) above its peers' rise over inlet", b, w.recent(&degC[b]), 100*now)
		if !math.IsNaN(base) {
			r += fmt.Sprintf(", %.1f °C %s ago", w.base(&degC[b]), ago(-e.t[0]))
		}
		s1, ok1 := slopeBetween(e, -1, 0)
		s0, ok0 := slopeBetween(e, -2, -1)
		if ok1 && ok0 && s1 > s0 && s1 > 0.005 {
			r += fmt.Sprintf("; accelerating (%.1f → %.1f %%/h)", 100*s0, 100*s1)
		}
		// The TTF extrapolates the excess beyond baseline.
		grow := w.newSeries()
		b0 := base
		if math.IsNaN(b0) {
			b0 = 0
		}
		for i, t := range e.t {
			grow.add(t, e.v[i]-b0)
		}
		best = evidence{score: score, reason: r, ttfH: powerLawTTF(&grow, -1, 2, thermFailEx)}
		best.note = fmt.Sprintf("boards within %.1f °C of each other", math.Abs(w.recent(&degC[b])))
	}
	return best
}

// slopeBetween fits a line to s over [from, to) hours; slope per hour.
func slopeBetween(s *series, from, to float64) (float64, bool) {
	var f fit
	for i, t := range s.t {
		if t >= from && t < to {
			f.add(t, s.v[i])
		}
	}
	_, b, ok := f.line()
	return b, ok
}

// psu looks for a failing power supply: more wall power for the same
// hashrate at the same profile (efficiency loss) and, where reported, a
// sagging 12 V rail. Chip loss, board heating and hardware errors also
// worsen J/TH, so their score (other) discounts this one.
func (w *win) psu(other float64) evidence {
	idealNow := 0.0
	for i := len(w.s) - 1; i >= 0; i-- {
		if s := &w.s[i]; !s.Timeout && s.State == StateHashing && s.IdealTHs > 0 {
			idealNow = s.IdealTHs
			break
		}
	}
	jth, volt := w.newSeries(), w.newSeries()
	for i := range w.s {
		s := &w.s[i]
		if s.Timeout || s.State != StateHashing {
			continue
		}
		if s.PSUVoltsV > 0 {
			volt.add(w.t[i], s.PSUVoltsV)
		}
		// Same profile: ideal hashrate within 2 % of now's.
		if s.PowerEstimated || s.PowerW <= 0 || s.HashTHs <= 0 || idealNow <= 0 || math.Abs(s.IdealTHs/idealNow-1) > 0.02 {
			continue
		}
		jth.add(w.t[i], comparablePower(s)/s.HashTHs)
	}
	var ev evidence
	jNow, jBase := w.recent(&jth), w.base(&jth)
	rise := jNow/jBase - 1
	sag := w.base(&volt) - w.recent(&volt)
	sj, sv := sig(rise, psuJTH50, psuJTHW), sig(sag, psuSag50, psuSagW)
	ev.score = math.Max(sj, sv) * (1 - other)
	if !math.IsNaN(rise) {
		ev.reason = fmt.Sprintf("%.2f J/TH now vs %.2f J/TH %s ago at the same profile (%+.1f %%; fan power removed, leakage at %.0f °C)", jNow, jBase, ago(-jth.t[0]), 100*rise, leakRefC)
		g := w.newSeries()
		for i, t := range jth.t {
			g.add(t, jth.v[i]/jBase-1)
		}
		ev.ttfH = powerLawTTF(&g, -3, 1, psuFailJTH)
		ev.note = fmt.Sprintf("J/TH steady (%+.1f %%)", 100*rise)
	}
	if !math.IsNaN(sag) {
		if ev.reason != "" {
			ev.reason += "; "
		}
		ev.reason += fmt.Sprintf("12 V rail %.2f V, down %.2f V", w.recent(&volt), sag)
		if sv >= sj {
			vb := w.base(&volt)
			g := w.newSeries()
			for i, t := range volt.t {
				g.add(t, vb-volt.v[i])
			}
			ev.ttfH = powerLawTTF(&g, -3, 2, psuFailSag)
		}
	}
	if other > 0.3 {
		ev.reason += fmt.Sprintf(" (discounted: another fault explains J/TH, %.2f)", other)
	}
	return ev
}

// network counts polls that got no reply in the last hour.
func (w *win) network() evidence {
	var k, n, k0, n0 int
	for i := range w.s {
		if w.t[i] >= -1 {
			n++
			if w.s[i].Timeout {
				k++
			}
		} else {
			n0++
			if w.s[i].Timeout {
				k0++
			}
		}
	}
	if n == 0 {
		return evidence{}
	}
	frac := float64(k) / float64(n)
	// How surprising the last hour is at the rate this miner showed before
	// (Laplace-smoothed, floored): a miner on a flaky link does not alarm
	// for being flaky, one whose polls start failing does.
	p0 := math.Max((float64(k0)+1)/(float64(n0)+2), netMinRate)
	surprise := -math.Log10(binomTail(n, k, p0))
	ev := evidence{score: math.Min(sig(surprise, netSurprise50, netSurpriseW), sig(frac, netFrac50, netFracW))}
	if k == 0 {
		ev.score = 0
	}
	ev.reason = fmt.Sprintf("%d of %d polls timed out in the last hour (%d of %d before; chance at the earlier %.1f %% rate 10^-%.1f)", k, n, k0, n0, 100*p0, surprise)
	ev.note = fmt.Sprintf("%d of %d polls timed out", k+k0, n+n0)
	return ev
}

// Physical corrections that make wall power comparable across a day's
// ambient swing, so that only a change in the PSU's efficiency remains.
const (
	// leakShare is the share of ASIC power that is leakage at the fan
	// loop's target temperature; leakage doubles every leakDoubleC.
	leakShare   = 0.12
	leakDoubleC = 20.0
	leakRefC    = 70.0
	// fanMaxW is one fan's motor power at fanRefRPM (a 120 mm 12 V fan
	// drawing ≈ 2.3 A); fan power follows the affinity law, ∝ speed³.
	fanMaxW   = 28.0
	fanRefRPM = 6000.0
)

// comparablePower is the wall power with the fans' share removed and the
// chips' leakage brought to leakRefC: hotter inlet air means faster fans
// and leakier chips, neither of which is the PSU's doing.
func comparablePower(s *Sample) float64 {
	p := s.PowerW
	for _, r := range s.FansRPM {
		x := r / fanRefRPM
		p -= fanMaxW * x * x * x
	}
	sum, n := 0.0, 0
	for _, b := range s.Boards {
		if !b.Lost && b.ChipC > 0 {
			sum += b.ChipC
			n++
		}
	}
	if n > 0 {
		t := sum / float64(n)
		p /= 1 + leakShare*(math.Exp2((t-leakRefC)/leakDoubleC)-1)
	}
	return p
}

// binomTail is P(K ≥ k) for K ~ Binomial(n, p).
func binomTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	// Sum the terms from k up; each follows from the last.
	lt := lgammaInt(n+1) - lgammaInt(k+1) - lgammaInt(n-k+1) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
	term, sum := math.Exp(lt), 0.0
	for j := k; j <= n; j++ {
		sum += term
		term *= float64(n-j) / float64(j+1) * p / (1 - p)
	}
	return math.Max(sum, 1e-300)
}

func lgammaInt(n int) float64 {
	v, _ := math.Lgamma(float64(n))
	return v
}
