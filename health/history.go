package health

import (
	"sort"
	"time"
)

// History keeps one miner's recent samples for Assess: the controller adds
// each poll's Sample and assesses when it likes. It holds Window of history
// before the newest sample. It is not safe for concurrent use.
type History struct {
	Window time.Duration // 0: DefaultWindow
	s      []Sample
}

// Add records a sample. Samples may arrive out of order; those older than
// the window are dropped.
func (h *History) Add(s Sample) {
	if s.At.IsZero() {
		return
	}
	n := len(h.s)
	if n == 0 || !s.At.Before(h.s[n-1].At) {
		h.s = append(h.s, s)
	} else {
		i := sort.Search(n, func(i int) bool { return s.At.Before(h.s[i].At) })
		h.s = append(h.s, Sample{})
		copy(h.s[i+1:], h.s[i:])
		h.s[i] = s
	}
	win := h.Window
	if win <= 0 {
		win = DefaultWindow
	}
	cut := h.s[len(h.s)-1].At.Add(-win)
	k := sort.Search(len(h.s), func(i int) bool { return !h.s[i].At.Before(cut) })
	if k > 0 {
		// Shift down rather than reslice so the backing array is reused.
		h.s = append(h.s[:0], h.s[k:]...)
	}
}

// Samples returns the kept samples, oldest first. The slice is the
// History's own: read it before the next Add.
func (h *History) Samples() []Sample { return h.s }

// Len returns the number of samples kept.
func (h *History) Len() int { return len(h.s) }

// Assess assesses the kept samples with o (o.Window defaults to the
// History's).
func (h *History) Assess(o Options) (Assessment, error) {
	if o.Window <= 0 {
		o.Window = h.Window
	}
	return o.Assess(h.s)
}
