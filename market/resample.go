package market

import (
	"fmt"
	"time"
)

// Resample returns s on a new step. Upsampling (step divides s.Step) repeats
// each value, so a $/MWh price holds for every 15 minutes of its hour.
// Downsampling (s.Step divides step) takes the time-weighted mean of the
// intervals inside each new interval; new intervals are aligned to whole
// multiples of step since the Unix epoch (UTC), and one only partly covered
// at either end of s is the mean of the part covered (noted in Notes).
// Filled is scaled to the new step, rounded up. Other steps are an error.
func Resample(s Series, step time.Duration) (Series, error) {
	if step <= 0 || s.Step <= 0 {
		return Series{}, fmt.Errorf("resample %s: steps must be positive (from %s to %s)", s.Name, s.Step, step)
	}
	out := s
	out.Step = step
	out.Notes = append([]string(nil), s.Notes...)
	switch {
	case step == s.Step:
		out.Values = append([]float64(nil), s.Values...)
		return out, nil
	case s.Step%step == 0:
		k := int(s.Step / step)
		if len(s.Values)*k > maxIntervals {
			return Series{}, fmt.Errorf("resample %s to %s: %d intervals is too many", s.Name, step, len(s.Values)*k)
		}
		out.Values = make([]float64, 0, len(s.Values)*k)
		for _, v := range s.Values {
			for range k {
				out.Values = append(out.Values, v)
			}
		}
		out.Filled = s.Filled * k
		return out, nil
	case step%s.Step == 0:
		k := int(step / s.Step)
		out.Start = time.Unix(0, 0).UTC().Add(s.Start.Sub(time.Unix(0, 0)) / step * step)
		if out.Start.After(s.Start) { // before the epoch, division truncated up
			out.Start = out.Start.Add(-step)
		}
		out.Values = nil
		if len(s.Values) == 0 {
			out.Filled = 0
			return out, nil
		}
		n := int(s.End().Sub(out.Start)+step-1) / int(step)
		out.Values = make([]float64, n)
		counts := make([]int, n)
		for i, v := range s.Values {
			j := int(s.At(i).Sub(out.Start) / step)
			out.Values[j] += v
			counts[j]++
		}
		partial := 0
		for j := range out.Values {
			out.Values[j] /= float64(counts[j])
			if counts[j] != k {
				partial++
			}
		}
		out.Filled = (s.Filled + k - 1) / k
		if partial > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf(
				"%d of %d %s intervals are only partly covered by the %s data and hold the mean of the part covered",
				partial, n, step, s.Step))
		}
		return out, nil
	}
	return Series{}, fmt.Errorf("resample %s: cannot convert a %s step to %s; one must be a whole multiple of the other", s.Name, s.Step, step)
}
