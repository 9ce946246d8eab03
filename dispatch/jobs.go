package dispatch

import (
	"fmt"
	"time"

	"github.com/jouleworks/joule/site"
)

// Jobs expands the site's batch work into the job instances whose windows
// overlap [from, to): one per period for recurring jobs (periods counted
// from from), one for a one-off job. Remaining starts at the job's full
// GPU-hours.
func Jobs(s *site.Site, from, to time.Time) []JobState {
	var out []JobState
	for p := range s.GPUPools {
		for j, b := range s.GPUPools[p].Batch {
			if b.GPUHours <= 0 {
				continue
			}
			if b.Every > 0 {
				for k, rel := 0, from; rel.Before(to); k, rel = k+1, rel.Add(b.Every) {
					out = append(out, JobState{Pool: p, Job: j, Name: fmt.Sprintf("%s#%d", b.Name, k+1),
						Release: rel, Deadline: rel.Add(b.Every), Remaining: b.GPUHours})
				}
				continue
			}
			if b.Release.Before(to) && b.Deadline.After(from) {
				out = append(out, JobState{Pool: p, Job: j, Name: b.Name,
					Release: b.Release, Deadline: b.Deadline, Remaining: b.GPUHours})
			}
		}
	}
	return out
}

// maxGPUs returns how many GPUs job j can use at once.
func maxGPUs(s *site.Site, j JobState) float64 {
	g := &s.GPUPools[j.Pool]
	free := float64(g.Count - g.Firm.GPUs)
	if m := g.Batch[j.Job].MaxGPUs; m > 0 && float64(m) < free {
		return float64(m)
	}
	return free
}
