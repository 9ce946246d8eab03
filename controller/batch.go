package controller

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/store"
)

// BatchPool is what the controller needs of a GPU pool to run batch work:
// set how many GPUs are claimed for it. gpu.Emulator and gpu.BatchClient
// satisfy it. Inference stays firm: the pool serves it first.
type BatchPool interface {
	SetBatch(ctx context.Context, n int) (claimed int, err error)
}

// jobBook tracks the batch jobs of the site's first GPU pool: which are
// open, and how many GPU-hours each still needs, counted down from the
// batch GPUs telemetry shows working.
type jobBook struct {
	epoch  time.Time
	at     time.Time // last progress
	jobs   []dispatch.JobState
	alloc  map[string]float64 // GPUs per job in the last decision
	target int                // GPUs claimed for batch by the last decision; -1 never set
}

// refresh adds the job instances released by horizon and drops those past
// their deadline, keeping the progress of the others.
func (b *jobBook) refresh(c *Controller, now, horizon time.Time) {
	if b.epoch.IsZero() {
		b.epoch = now
		b.at = now
	}
	have := map[string]dispatch.JobState{}
	for _, j := range b.jobs {
		have[j.Name] = j
	}
	var out []dispatch.JobState
	for _, j := range dispatch.Jobs(c.cfg.Site, b.epoch, horizon) {
		if j.Pool != 0 || !now.Before(j.Deadline) {
			continue
		}
		if old, ok := have[j.Name]; ok {
			j.Remaining = old.Remaining
		}
		out = append(out, j)
	}
	b.jobs = out
}

// progress counts batchGPUs working since the last call against the open
// jobs, earliest deadline first (a gap over 10 minutes counts as 10, as in
// the money account).
func (b *jobBook) progress(now time.Time, batchGPUs int) {
	dt := min(now.Sub(b.at), 10*time.Minute)
	b.at = now
	work := float64(batchGPUs) * math.Max(0, dt.Hours())
	idx := b.open(now)
	sort.SliceStable(idx, func(x, y int) bool { return b.jobs[idx[x]].Deadline.Before(b.jobs[idx[y]].Deadline) })
	for _, i := range idx {
		if work <= 0 {
			break
		}
		d := math.Min(work, b.jobs[i].Remaining)
		b.jobs[i].Remaining -= d
		work -= d
	}
}

// open returns the indexes of jobs released, not due and with work left.
func (b *jobBook) open(now time.Time) []int {
	var idx []int
	for i, j := range b.jobs {
		if !now.Before(j.Release) && now.Before(j.Deadline) && j.Remaining > 1e-9 {
			idx = append(idx, i)
		}
	}
	return idx
}

// openJobs is the policy's view: the open jobs.
func (b *jobBook) openJobs(now time.Time) []dispatch.JobState {
	var out []dispatch.JobState
	for _, i := range b.open(now) {
		out = append(out, b.jobs[i])
	}
	return out
}

// apiJobs is the snapshot's view.
func (b *jobBook) apiJobs(c *Controller, now time.Time) []api.Job {
	var out []api.Job
	for _, i := range b.open(now) {
		j := b.jobs[i]
		out = append(out, api.Job{Name: j.Name, GPUHours: c.cfg.Site.GPUPools[j.Pool].Batch[j.Job].GPUHours,
			RemainingGPU: math.Round(j.Remaining*10) / 10, Deadline: j.Deadline, GPUs: b.alloc[j.Name]})
	}
	return out
}

// applyBatch sets the pool's batch claim to what the decision allocated
// and audits the change. The claim is set absolutely, so a repeat (after a
// restart, or a failed call) changes nothing. Telemetry confirms it: the
// GPUs classified as batch follow within a poll.
func (c *Controller) applyBatch(ctx context.Context, now time.Time, target int, why string, price float64, decision int64) error {
	if c.cfg.Batch == nil {
		return nil
	}
	c.mu.Lock()
	prev := c.jobs.target
	c.mu.Unlock()
	claimed, err := c.cfg.Batch.SetBatch(ctx, target)
	if err != nil {
		c.mu.Lock()
		c.raise("gpu-batch", "warning", "batch claim failed: "+err.Error())
		c.mu.Unlock()
		return fmt.Errorf("gpu batch claim %d: %w", target, err)
	}
	c.mu.Lock()
	c.jobs.target = target
	c.clear("gpu-batch")
	c.mu.Unlock()
	if prev == target {
		return nil
	}
	pool := c.cfg.Site.GPUPools[0].Name
	detail := fmt.Sprintf("batch GPUs %d → %d (pool reports %d claimed)", max(prev, 0), target, claimed)
	if prev < 0 {
		detail = fmt.Sprintf("batch GPUs set to %d (pool reports %d claimed)", target, claimed)
	}
	if _, err := c.cfg.Store.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: "controller", Action: "gpu batch",
		Target: pool, Reason: why, PriceUSDMWh: price, DecisionID: decision, Detail: detail}); err != nil {
		return fmt.Errorf("gpu batch: audit: %w", err)
	}
	return nil
}
