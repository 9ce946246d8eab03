package dispatch

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// lp is a linear program in the standard form the interior-point solver
// takes: minimise c·x subject to A x = b and 0 ≤ x ≤ u, every u finite.
// Inequalities are written with explicit slack columns. Rows are added in
// time order so that A A' stays banded.
type lp struct {
	c, u    []float64
	colRows [][]int32
	colVals [][]float64
	b       []float64
}

func (p *lp) addCol(c, u float64) int {
	p.c = append(p.c, c)
	p.u = append(p.u, u)
	p.colRows = append(p.colRows, nil)
	p.colVals = append(p.colVals, nil)
	return len(p.c) - 1
}

func (p *lp) addRow(b float64) int {
	p.b = append(p.b, b)
	return len(p.b) - 1
}

func (p *lp) set(row, col int, v float64) {
	if v == 0 {
		return
	}
	p.colRows[col] = append(p.colRows[col], int32(row))
	p.colVals[col] = append(p.colVals[col], v)
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
	for j := range p.c {
		for k, r := range p.colRows[j] {
			rows[r] = append(rows[r], fmt.Sprintf(" %s x%d\n", term(p.colVals[j][k]), j))
		}
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
	for j := range p.c {
		for k, row := range p.colRows[j] {
			r[row] -= p.colVals[j][k] * x[j]
		}
		worst = math.Max(worst, math.Max(-x[j], x[j]-p.u[j]))
	}
	for _, v := range r {
		worst = math.Max(worst, math.Abs(v))
	}
	return worst
}
