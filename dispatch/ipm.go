package dispatch

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNotConverged is returned when the interior-point method stops before
// reaching the requested accuracy.
var ErrNotConverged = errors.New("dispatch: LP solver did not converge")

// ipmResult is an optimal primal-dual pair.
type ipmResult struct {
	x          []float64
	obj        float64 // c·x
	dual       float64 // b·y − u·s
	iterations int
}

// solveIPM solves p with Mehrotra's predictor-corrector primal-dual
// interior-point method. Each iteration solves the normal equations
// (A Θ A') dy = r by an envelope (profile) Cholesky factorisation: rows are
// added in time order and every column touches rows of at most two adjacent
// intervals, so the envelope is a band of a few intervals' rows and one
// iteration costs time linear in the number of intervals.
//
// Stopping: relative primal and dual residuals below 1e-8 and relative
// duality gap below 1e-7 (or the best point with residuals below 1e-7 and
// gap below 1e-6 if rounding error stalls progress), which bounds the objective's error far inside the
// 1e-6 tests check against GLPK.
func solveIPM(p *lp) (*ipmResult, error) {
	n, m := len(p.c), len(p.b)
	if n == 0 {
		return &ipmResult{}, nil
	}
	// Scale the objective to unit size; the caller's problem is unchanged.
	// The scale is the mean magnitude, not the largest: a few 4CP intervals
	// carry costs a thousand times the rest and would otherwise make every
	// other cost look like noise to the stopping test.
	cs, nz := 0.0, 0
	for _, c := range p.c {
		if c != 0 {
			cs += math.Abs(c)
			nz++
		}
	}
	if nz == 0 {
		cs = 1
	} else {
		cs /= float64(nz)
	}
	c := make([]float64, n)
	for j := range c {
		c[j] = p.c[j] / cs
	}
	nb, nc := 0.0, 0.0
	for _, v := range p.b {
		nb = math.Max(nb, math.Abs(v))
	}
	for _, v := range c {
		nc = math.Max(nc, math.Abs(v))
	}

	x, w := make([]float64, n), make([]float64, n)
	z, s := make([]float64, n), make([]float64, n)
	y := make([]float64, m)
	for j := range x {
		x[j], w[j] = p.u[j]/2, p.u[j]/2
		z[j], s[j] = 1+math.Max(c[j], 0), 1+math.Max(-c[j], 0)
	}
	// A flat copy of the columns: the hot loops below walk it a few times
	// per iteration.
	ptr, ri, av := p.csc()
	u := p.u
	chol := newEnvelope(ptr, ri, m)
	theta := make([]float64, n)
	rb, rc, ru := make([]float64, m), make([]float64, n), make([]float64, n)
	rhat, rhs := make([]float64, n), make([]float64, m)
	dx, dw, dz, ds, dy := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, m)
	ax, az, ad, as := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	rxz, rws := make([]float64, n), make([]float64, n)

	// direction solves the Newton system for the complementarity targets
	// in rxz and rws, leaving the step in dx, dw, dz, ds, dy.
	direction := func() {
		copy(rhs, rb)
		for j := 0; j < n; j++ {
			rh := rc[j] - rxz[j]/x[j] + (rws[j]-s[j]*ru[j])/w[j]
			rhat[j] = rh
			t := theta[j] * rh
			for k := ptr[j]; k < ptr[j+1]; k++ {
				rhs[ri[k]] += av[k] * t
			}
		}
		chol.solve(rhs, dy)
		for j := 0; j < n; j++ {
			aty := 0.0
			for k := ptr[j]; k < ptr[j+1]; k++ {
				aty += av[k] * dy[ri[k]]
			}
			dxj := theta[j] * (aty - rhat[j])
			dwj := ru[j] - dxj
			dx[j], dw[j] = dxj, dwj
			dz[j] = (rxz[j] - z[j]*dxj) / x[j]
			ds[j] = (rws[j] - s[j]*dwj) / w[j]
		}
	}

	var best *ipmResult
	bestMerit, progressMerit, progressIt := math.Inf(1), math.Inf(1), 0
	for it := 0; it < 200; it++ {
		// Residuals.
		copy(rb, p.b)
		var pobj, dobj, mu, rcMax, ruMax float64
		for j := 0; j < n; j++ {
			aty, xj := 0.0, x[j]
			for k := ptr[j]; k < ptr[j+1]; k++ {
				r := ri[k]
				rb[r] -= av[k] * xj
				aty += av[k] * y[r]
			}
			rcj := c[j] - aty - z[j] + s[j]
			ruj := u[j] - xj - w[j]
			rc[j], ru[j] = rcj, ruj
			if rcj < 0 {
				rcj = -rcj
			}
			if ruj < 0 {
				ruj = -ruj
			}
			if rcj > rcMax {
				rcMax = rcj
			}
			if ruj > ruMax {
				ruMax = ruj
			}
			pobj += c[j] * xj
			dobj -= u[j] * s[j]
			mu += xj*z[j] + w[j]*s[j]
			theta[j] = 1 / (z[j]/xj + s[j]/w[j])
		}
		for r := 0; r < m; r++ {
			dobj += p.b[r] * y[r]
		}
		mu /= float64(2 * n)
		pinf, dinf := infNorm(rb)/(1+nb), math.Max(rcMax, ruMax)/(1+nc)
		gap := math.Abs(pobj-dobj) / (1 + math.Abs(pobj))
		if pinf < 1e-8 && dinf < 1e-8 && gap < 1e-7 {
			return &ipmResult{x: x, obj: pobj * cs, dual: dobj * cs, iterations: it}, nil
		}
		// Near the optimum rounding error can slow or stall the iteration:
		// keep the best point that meets a looser test and stop once the
		// residuals have not halved for eight iterations.
		merit := math.Max(math.Max(pinf, dinf), gap)
		if merit < bestMerit && pinf < 1e-7 && dinf < 1e-7 && gap < 1e-6 {
			best = &ipmResult{x: slices.Clone(x), obj: pobj * cs, dual: dobj * cs, iterations: it}
		}
		if merit < bestMerit {
			bestMerit = merit
		}
		if merit < progressMerit/2 {
			progressMerit, progressIt = merit, it
		}
		if it-progressIt >= 8 {
			if best != nil {
				return best, nil
			}
			return nil, fmt.Errorf("%w: stalled at primal %.1e, dual %.1e, gap %.1e", ErrNotConverged, pinf, dinf, gap)
		}
		if err := chol.factor(ptr, ri, av, theta); err != nil {
			return nil, err
		}
		// Predictor (affine scaling).
		for j := 0; j < n; j++ {
			rxz[j], rws[j] = -x[j]*z[j], -w[j]*s[j]
		}
		direction()
		ap, adu := stepLength(x, dx, w, dw), stepLength(z, dz, s, ds)
		muAff := 0.0
		for j := 0; j < n; j++ {
			muAff += (x[j]+ap*dx[j])*(z[j]+adu*dz[j]) + (w[j]+ap*dw[j])*(s[j]+adu*ds[j])
		}
		muAff /= float64(2 * n)
		sigma := math.Pow(muAff/mu, 3)
		dx, ax = ax, dx
		dz, az = az, dz
		dw, ad = ad, dw
		ds, as = as, ds
		// Corrector.
		sm := sigma * mu
		for j := 0; j < n; j++ {
			rxz[j] = sm - x[j]*z[j] - ax[j]*az[j]
			rws[j] = sm - w[j]*s[j] - ad[j]*as[j]
		}
		direction()
		ap, adu = 0.9995*stepLength(x, dx, w, dw), 0.9995*stepLength(z, dz, s, ds)
		for j := 0; j < n; j++ {
			x[j] += ap * dx[j]
			w[j] += ap * dw[j]
			z[j] += adu * dz[j]
			s[j] += adu * ds[j]
		}
		for r := 0; r < m; r++ {
			y[r] += adu * dy[r]
		}
	}
	if best != nil {
		return best, nil
	}
	return nil, ErrNotConverged
}

func infNorm(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if x < 0 {
			x = -x
		}
		if x > m {
			m = x
		}
	}
	return m
}

// stepLength returns the largest α ≤ 1 keeping a+α·da and b+α·db ≥ 0.
func stepLength(a, da, b, db []float64) float64 {
	alpha := 1.0
	for j := range a {
		if da[j] < 0 && a[j] < -alpha*da[j] {
			alpha = -a[j] / da[j]
		}
		if db[j] < 0 && b[j] < -alpha*db[j] {
			alpha = -b[j] / db[j]
		}
	}
	return alpha
}

// envelope is a Cholesky factor L of A Θ A' stored by rows, row i holding
// columns first[i]..i.
type envelope struct {
	first []int
	off   []int // row i starts at val[off[i]]
	val   []float64
}

func newEnvelope(ptr []int, ri []int32, m int) *envelope {
	e := &envelope{first: make([]int, m), off: make([]int, m+1)}
	for i := range e.first {
		e.first[i] = i
	}
	for j := 0; j+1 < len(ptr); j++ {
		rows := ri[ptr[j]:ptr[j+1]]
		lo := math.MaxInt
		for _, r := range rows {
			lo = min(lo, int(r))
		}
		for _, r := range rows {
			e.first[r] = min(e.first[r], lo)
		}
	}
	for i := 0; i < m; i++ {
		e.off[i+1] = e.off[i] + i - e.first[i] + 1
	}
	e.val = make([]float64, e.off[m])
	return e
}

// factor forms A Θ A' in the envelope and factors it in place.
func (e *envelope) factor(ptr []int, ri []int32, av, theta []float64) error {
	clear(e.val)
	for j := 0; j+1 < len(ptr); j++ {
		rows, vals := ri[ptr[j]:ptr[j+1]], av[ptr[j]:ptr[j+1]]
		for a := range rows {
			ra := int(rows[a])
			base := e.off[ra] - e.first[ra]
			va := vals[a] * theta[j]
			for b := range rows {
				if rb := int(rows[b]); rb <= ra {
					e.val[base+rb] += va * vals[b]
				}
			}
		}
	}
	m := len(e.first)
	maxDiag := 0.0
	for i := 0; i < m; i++ {
		maxDiag = math.Max(maxDiag, e.val[e.off[i+1]-1])
	}
	for i := 0; i < m; i++ {
		fi, row := e.first[i], e.val[e.off[i]:e.off[i+1]]
		for jj := fi; jj < i; jj++ {
			fj := e.first[jj]
			rj := e.val[e.off[jj]:e.off[jj+1]]
			lo := max(fi, fj)
			sum := row[jj-fi]
			a, b := row[lo-fi:jj-fi], rj[lo-fj:jj-fj]
			for k := range a {
				sum -= a[k] * b[k]
			}
			row[jj-fi] = sum / rj[jj-fj]
		}
		d := row[i-fi]
		for _, v := range row[:i-fi] {
			d -= v * v
		}
		if !(d > 1e-30*maxDiag) {
			// A (numerically) dependent row: pivot it out, as in most
			// IPM codes, which leaves its dual direction at zero.
			if math.IsNaN(d) {
				return fmt.Errorf("%w: NaN in normal equations", ErrNotConverged)
			}
			d = 1e128
		}
		row[i-fi] = math.Sqrt(d)
	}
	return nil
}

// solve solves L L' x = b.
func (e *envelope) solve(b, x []float64) {
	m := len(e.first)
	copy(x, b)
	for i := 0; i < m; i++ {
		fi, row := e.first[i], e.val[e.off[i]:e.off[i+1]]
		sum := x[i]
		for k, v := range row[:i-fi] {
			sum -= v * x[fi+k]
		}
		x[i] = sum / row[i-fi]
	}
	for i := m - 1; i >= 0; i-- {
		fi, row := e.first[i], e.val[e.off[i]:e.off[i+1]]
		x[i] /= row[i-fi]
		xi := x[i]
		for k, v := range row[:i-fi] {
			x[fi+k] -= v * xi
		}
	}
}
