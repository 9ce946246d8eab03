package health

import (
	"math"
	"slices"
)

// sig is the logistic score of x: 0.5 at x50, rising over a width w. Every
// rule maps its feature through it, so each threshold is one number.
func sig(x, x50, w float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return 1 / (1 + math.Exp(-(x-x50)/w))
}

// median returns the median of xs, reordering them; NaN for none.
func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// robustSigma is 1.4826·MAD: the standard deviation of the bulk of xs,
// unmoved by a few outliers. It reorders xs.
func robustSigma(xs []float64) float64 {
	if len(xs) < 3 {
		return math.NaN()
	}
	m := median(xs)
	for i := range xs {
		xs[i] = math.Abs(xs[i] - m)
	}
	return 1.4826 * median(xs)
}

// fit is an ordinary least-squares line y = a + b·t (t in hours).
type fit struct {
	n                int
	st, sy, stt, sty float64
}

func (f *fit) add(t, y float64) {
	f.n++
	f.st += t
	f.sy += y
	f.stt += t * t
	f.sty += t * y
}

// line returns intercept and slope; ok is false with fewer than 3 points or
// no spread in t.
func (f *fit) line() (a, b float64, ok bool) {
	if f.n < 3 {
		return 0, 0, false
	}
	n := float64(f.n)
	d := n*f.stt - f.st*f.st
	if d <= 1e-12 {
		return 0, 0, false
	}
	b = (n*f.sty - f.st*f.sy) / d
	a = (f.sy - b*f.st) / n
	return a, b, true
}

// series is a feature's values at times in hours before the newest sample
// (negative).
type series struct {
	t, v []float64
}

func (s *series) add(t, v float64) {
	s.t = append(s.t, t)
	s.v = append(s.v, v)
}

// medianSince is the median of the values at t ≥ from, using buf as scratch.
func (s *series) medianSince(from float64, buf []float64) (float64, int) {
	buf = buf[:0]
	for i, t := range s.t {
		if t >= from {
			buf = append(buf, s.v[i])
		}
	}
	return median(buf), len(buf)
}

// medianBefore is the median of the values at t < to.
func (s *series) medianBefore(to float64, buf []float64) (float64, int) {
	buf = buf[:0]
	for i, t := range s.t {
		if t < to {
			buf = append(buf, s.v[i])
		}
	}
	return median(buf), len(buf)
}

// powerLawTTF extrapolates a degradation indicator that grows as
// x = c·(t − t₀)^k to the level xFail, from the samples at t ≥ from: x^(1/k)
// is then linear in t. It returns hours to failure, or 0 when the evidence
// does not support an estimate (too few points, no growth).
func powerLawTTF(s *series, from, k, xFail float64) float64 {
	var f fit
	for i, t := range s.t {
		if t >= from {
			f.add(t, math.Pow(math.Max(s.v[i], 0), 1/k))
		}
	}
	a, b, ok := f.line()
	if !ok || b <= 0 {
		return 0
	}
	// Extrapolate from the fitted value now (t = 0).
	h := (math.Pow(xFail, 1/k) - a) / b
	if h < 0 {
		h = 0
	}
	return math.Min(h, maxTTFHours)
}

// maxTTFHours caps extrapolations: beyond a week the trend says little.
const maxTTFHours = 7 * 24
