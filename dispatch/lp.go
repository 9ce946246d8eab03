package dispatch

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
)

// lp is a linear program in the standard form the interior-point solver
// takes: minimise c·x subject to A x = b and 0 ≤ x ≤ u, every u finite.
// Inequalities are written with explicit slack columns. Rows are added in
// time order so that A A' stays banded.
type lp struct {
	c, u []float64
	b    []float64
	// Nonzeros of A as triplets, in the order set was called.
	ti, tj []int32
	tv     []float64
}

func (p *lp) addCol(c, u float64) int {
	p.c = append(p.c, c)
	p.u = append(p.u, u)
	return len(p.c) - 1
}

// csc returns A by columns: column j's rows are ri[ptr[j]:ptr[j+1]].
func (p *lp) csc() (ptr []int, ri []int32, av []float64) {
	n := len(p.c)
	ptr = make([]int, n+1)
	for _, j := range p.tj {
		ptr[j+1]++
	}
	for j := 0; j < n; j++ {
		ptr[j+1] += ptr[j]
	}
	next := slices.Clone(ptr[:n])
	ri = make([]int32, len(p.ti))
	av = make([]float64, len(p.ti))
	for k, j := range p.tj {
		q := next[j]
		next[j]++
		ri[q], av[q] = p.ti[k], p.tv[k]
	}
	return ptr, ri, av
}

func (p *lp) addRow(b float64) int {
	p.b = append(p.b, b)
	return len(p.b) - 1
}

func (p *lp) set(row, col int, v float64) {
	if v == 0 {
		return
	}
	p.ti = append(p.ti, int32(row))
	p.tj = append(p.tj, int32(col))
	p.tv = append(p.tv, v)
}

// objective returns c·x.
func (p *lp) objective(x []float64) float64 {
	s := 0.0
	for j, c := range p.c {
		s += c * x[j]
	}
	return s
}

// writeCPLEX writes the program in CPLEX LP format (read by glpsol --lp,
// CLP and most solvers), so tests can check the solver independently.
func (p *lp) writeCPLEX(w io.Writer) error {
	bw := bufio.NewWriter(w)
	num := func(v float64) string { return fmt.Sprintf("%.17g", v) }
	term := func(v float64) string {
		if v < 0 {
			return "- " + num(-v)
		}
		return "+ " + num(v)
	}
	fmt.Fprintln(bw, "\\ joule hindsight dispatch")
	fmt.Fprint(bw, "Minimize\n obj:")
	wrote := false
	for j, c := range p.c {
		if c != 0 {
			fmt.Fprintf(bw, " %s x%d\n", term(c), j)
			wrote = true
		}
	}
	if !wrote {
		fmt.Fprint(bw, " 0 x0\n")
	}
	fmt.Fprint(bw, "Subject To\n")
	rows := make([][]string, len(p.b))
	for k, r := range p.ti {
		rows[r] = append(rows[r], fmt.Sprintf(" %s x%d\n", term(p.tv[k]), p.tj[k]))
	}
	for r, terms := range rows {
		fmt.Fprintf(bw, " r%d:", r)
		if len(terms) == 0 {
			fmt.Fprint(bw, " 0 x0\n")
		}
		for _, t := range terms {
			fmt.Fprint(bw, t)
		}
		fmt.Fprintf(bw, " = %s\n", num(p.b[r]))
	}
	fmt.Fprintln(bw, "Bounds")
	for j, u := range p.u {
		fmt.Fprintf(bw, " 0 <= x%d <= %s\n", j, num(u))
	}
	fmt.Fprintln(bw, "End")
	return bw.Flush()
}

// feasibility returns the largest violation of A x = b and the bounds.
func (p *lp) feasibility(x []float64) float64 {
	r := make([]float64, len(p.b))
	copy(r, p.b)
	worst := 0.0
	for k, row := range p.ti {
		r[row] -= p.tv[k] * x[p.tj[k]]
	}
	for j := range p.c {
		worst = math.Max(worst, math.Max(-x[j], x[j]-p.u[j]))
	}
	for _, v := range r {
		worst = math.Max(worst, math.Abs(v))
	}
	return worst
}
