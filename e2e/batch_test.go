package e2e

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jouleworks/joule/api"
	"github.com/jouleworks/joule/store"
)

// With 8 GPUs, a quarter serving inference, the demo site's weekly
// fine-tune (8 × 24 GPU-h at $1.60/GPU-h) pays at any price below
// $1.60 / 0.00063 MW ≈ $2,540/MWh: the decision claims the 6 GPUs
// inference leaves; at $3,000/MWh it releases them (the job is not yet due).
func TestBatchFollowsDecision(t *testing.T) {
	h := newHarness(t, opts{mix: "s21:luxos=2", gpus: 8, gpuDemand: 0.25})
	h.tick()
	st := h.gpus.State()
	if st.Inference != 2 || st.Claimed != 6 || st.Batch != 6 {
		t.Fatalf("after the first decision the pool has %d inference, %d claimed, %d batch; want 2, 6, 6", st.Inference, st.Claimed, st.Batch)
	}
	var snap api.Snapshot
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	if snap.GPUs.BatchTarget != 6 || len(snap.GPUs.Jobs) != 1 {
		t.Fatalf("snapshot GPUs %+v, want batch target 6 and one open job", snap.GPUs)
	}
	total := snap.GPUs.Jobs[0].GPUHours
	// An hour of simulated time at 6 batch GPUs does 6 GPU-h of the job.
	for range 12 {
		h.step(5 * time.Minute)
	}
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	if got, want := snap.GPUs.Jobs[0].RemainingGPU, total-6; math.Abs(got-want) > 0.15 {
		t.Errorf("after 1 h at 6 batch GPUs: %.2f GPU-h left, want %.2f", got, want)
	}
	h.setPrice(3000)
	h.tick()
	if st := h.gpus.State(); st.Claimed != 0 || st.Batch != 0 || st.Inference != 2 {
		t.Errorf("at $3,000/MWh the pool has %d claimed, %d batch, %d inference; want 0, 0, 2", st.Claimed, st.Batch, st.Inference)
	}
	h.step(time.Minute) // telemetry now shows no batch GPUs
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	left := snap.GPUs.Jobs[0].RemainingGPU
	for range 6 {
		h.step(5 * time.Minute)
	}
	h.do("GET", "/api/v1/status", viewerTok, "", &snap)
	if got := snap.GPUs.Jobs[0].RemainingGPU; got != left || snap.GPUs.Batch != 0 {
		t.Errorf("paused job: %.2f GPU-h left after 30 min, want %.2f unchanged (%d batch GPUs)", got, left, snap.GPUs.Batch)
	}
	var audit struct{ Audit []store.AuditEntry }
	h.do("GET", "/api/v1/audit?limit=1000", viewerTok, "", &audit)
	var moves []string
	for _, e := range audit.Audit {
		if e.Action == "gpu batch" {
			if e.DecisionID == 0 || e.Reason == "" || e.Target != "h100" {
				t.Errorf("audit entry %+v lacks decision, reason or pool", e)
			}
			moves = append(moves, e.Detail)
		}
	}
	if len(moves) != 2 || !strings.Contains(moves[0], "6 → 0") {
		t.Errorf("gpu batch audit entries (newest first) %q, want a claim of 6 then a release to 0", moves)
	}
}
