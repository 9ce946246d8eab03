package gpu

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// H100 figures for the emulator: NVIDIA H100 SXM5 80GB, 700 W board power
// limit; ~70 W idle as measured with nvidia-smi on idle HGX nodes.
const (
	H100Name     = "NVIDIA H100 80GB HBM3"
	H100IdleW    = 70.0
	H100MaxW     = 700.0
	H100MemMiB   = 81559.0
	batchUtilPct = 97.0
)

// DemandProfile gives the fraction (0..1) of the pool that inference needs
// at t.
type DemandProfile func(t time.Time) float64

// central is ERCOT's clock without DST: demand shape follows local business
// hours, and a fixed offset keeps the profile identical every day of a test.
var central = time.FixedZone("CST", -6*3600)

// DiurnalDemand is the default inference profile: 15 % of the pool at 02:00
// Central, 85 % at 14:00, sinusoidal between.
func DiurnalDemand(t time.Time) float64 {
	lt := t.In(central)
	h := float64(lt.Hour()) + float64(lt.Minute())/60
	return 0.5 + 0.35*math.Sin(2*math.Pi*(h-8)/24)
}

// EmulatorOptions configures NewEmulator.
type EmulatorOptions struct {
	Host   string           // Hostname label (default "emu")
	Seed   uint64           // jitter seed
	Now    func() time.Time // clock (default time.Now); pass a replay clock for the demo
	Demand DemandProfile    // default DiurnalDemand
}

// Emulator is a pool of emulated H100s. Inference takes the GPUs its demand
// profile needs first (firm work is never preempted); GPUs claimed for batch
// work run flat out on what is left; the rest idle. It serves DCGM metrics
// over HTTP and is safe for concurrent use.
type Emulator struct {
	mu    sync.Mutex
	n     int
	batch int // GPUs claimed for batch work
	o     EmulatorOptions
}

// NewEmulator returns a pool of n GPUs.
func NewEmulator(n int, o EmulatorOptions) *Emulator {
	if o.Host == "" {
		o.Host = "emu"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Demand == nil {
		o.Demand = DiurnalDemand
	}
	return &Emulator{n: max(n, 0), o: o}
}

// PoolState is the allocation at one instant.
type PoolState struct {
	Time      time.Time `json:"time"`
	GPUs      int       `json:"gpus"`
	Inference int       `json:"inference"` // serving inference demand
	Batch     int       `json:"batch"`     // running batch work
	Claimed   int       `json:"claimed"`   // claimed for batch (≥ Batch when inference preempts)
	Idle      int       `json:"idle"`
	PowerW    float64   `json:"power_w"`
}

// ClaimBatch claims up to n more GPUs for batch work and returns how many
// are now claimed. Claims beyond the pool are capped.
func (e *Emulator) ClaimBatch(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batch = min(e.n, e.batch+max(n, 0))
	return e.batch
}

// ReleaseBatch releases up to n GPUs from batch work (they idle or return to
// inference) and returns how many remain claimed.
func (e *Emulator) ReleaseBatch(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batch = max(0, e.batch-max(n, 0))
	return e.batch
}

// jitter is a deterministic value in [-1, 1) for GPU i at minute m.
func (e *Emulator) jitter(i int, m int64, salt string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%d/%s", e.o.Seed, i, m, salt)
	return float64(h.Sum64()>>11)/float64(1<<53)*2 - 1
}

// State returns the pool allocation now.
func (e *Emulator) State() PoolState {
	st, _ := e.read()
	return st
}

// Samples returns every GPU's reading now, as dcgm-exporter would show it.
func (e *Emulator) Samples() []Sample {
	_, s := e.read()
	return s
}

func (e *Emulator) read() (PoolState, []Sample) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	d := math.Min(1, math.Max(0, e.o.Demand(now)))
	inf := int(math.Round(d * float64(e.n)))
	batch := min(e.batch, e.n-inf)
	st := PoolState{Time: now, GPUs: e.n, Inference: inf, Batch: batch, Claimed: e.batch, Idle: e.n - inf - batch}
	minute := now.Unix() / 60
	out := make([]Sample, e.n)
	for i := range out {
		var util, mem float64
		switch {
		case i < inf:
			// Inference load is bursty: 70–95 % busy.
			util, mem = 82.5+12.5*e.jitter(i, minute, "u"), 0.72*H100MemMiB
		case i < inf+batch:
			util, mem = batchUtilPct, 0.93*H100MemMiB
		default:
			util, mem = 0, 512
		}
		util = math.Round(util)
		p := H100IdleW + (H100MaxW-H100IdleW)*util/100 + 5*e.jitter(i, minute, "p")
		p = math.Round(p*100) / 100
		out[i] = Sample{Source: "emulator", Index: i, UUID: fmt.Sprintf("GPU-%08x-0000-4000-8000-%012d", e.o.Seed&0xffffffff, i),
			Name: H100Name, Host: e.o.Host, UtilPct: util, PowerW: p, PowerLimitW: H100MaxW,
			TempC: math.Round(28 + 0.055*p + 2*e.jitter(i, minute, "t")), MemUsedMiB: math.Round(mem), MemTotalMiB: H100MemMiB}
		st.PowerW += p
	}
	return st, out
}

// ServeHTTP serves:
//
//	GET  /metrics              DCGM exporter text format
//	GET  /state                PoolState as JSON
//	POST /batch/claim?n=N      claim N more GPUs for batch work
//	POST /batch/release?n=N    release N GPUs from batch work
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		WriteDCGM(w, e.Samples())
	case r.Method == http.MethodGet && r.URL.Path == "/state":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e.State())
	case r.Method == http.MethodPost && (r.URL.Path == "/batch/claim" || r.URL.Path == "/batch/release"):
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			http.Error(w, "query parameter n: want a whole number ≥ 0", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/batch/claim" {
			e.ClaimBatch(n)
		} else {
			e.ReleaseBatch(n)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e.State())
	default:
		http.NotFound(w, r)
	}
}

// WriteDCGM writes samples in dcgm-exporter's text format.
func WriteDCGM(w interface{ Write([]byte) (int, error) }, s []Sample) {
	fams := []struct {
		name, help string
		get        func(Sample) float64
	}{
		{DCGMUtil, "GPU utilization (in %).", func(s Sample) float64 { return s.UtilPct }},
		{DCGMPower, "Power draw (in W).", func(s Sample) float64 { return s.PowerW }},
		{DCGMPowerLimit, "Current power limit (in W).", func(s Sample) float64 { return s.PowerLimitW }},
		{DCGMTemp, "GPU temperature (in C).", func(s Sample) float64 { return s.TempC }},
		{DCGMFBUsed, "Framebuffer memory used (in MiB).", func(s Sample) float64 { return s.MemUsedMiB }},
		{DCGMFBFree, "Framebuffer memory free (in MiB).", func(s Sample) float64 { return s.MemTotalMiB - s.MemUsedMiB }},
	}
	for _, f := range fams {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
		for _, x := range s {
			v := f.get(x)
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(w, "%s{gpu=\"%d\",UUID=%q,device=\"nvidia%d\",modelName=%q,Hostname=%q} %s\n",
				f.name, x.Index, x.UUID, x.Index, x.Name, x.Host, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
}
