package gpu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync"
	"time"
)

// Source is anything that reads a set of GPUs.
type Source interface {
	Name() string
	Read(ctx context.Context) ([]Sample, error)
}

// DCGM reads a dcgm-exporter endpoint, e.g. http://10.0.0.5:9400/metrics.
type DCGM struct {
	Label  string
	URL    string
	Client *http.Client // default: http.DefaultClient
}

// Name implements Source.
func (d DCGM) Name() string { return d.Label }

// maxBody bounds what a poll reads: a 256-GPU node's exporter page is ~1 MB.
const maxBody = 16 << 20

// Read implements Source.
func (d DCGM) Read(ctx context.Context) ([]Sample, error) {
	c := d.Client
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("gpu source %s: %w", d.Label, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gpu source %s: %w", d.Label, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gpu source %s: GET %s: %s", d.Label, d.URL, resp.Status)
	}
	return ParseDCGM(io.LimitReader(resp.Body, maxBody), d.Label)
}

// SMI runs nvidia-smi (or Command, e.g. ssh host nvidia-smi) with SMIArgs
// appended and parses its output.
type SMI struct {
	Label   string
	Command []string // default {"nvidia-smi"}
}

// Name implements Source.
func (s SMI) Name() string { return s.Label }

// Read implements Source.
func (s SMI) Read(ctx context.Context) ([]Sample, error) {
	argv := s.Command
	if len(argv) == 0 {
		argv = []string{"nvidia-smi"}
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:len(argv):len(argv)], SMIArgs...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gpu source %s: %s: %w: %s", s.Label, argv[0], err, bytes.TrimSpace(errb.Bytes()))
	}
	return ParseSMI(&out, s.Label)
}

// Name implements Source for an in-process emulator.
func (e *Emulator) Name() string { return "emulator/" + e.o.Host }

// Read implements Source.
func (e *Emulator) Read(context.Context) ([]Sample, error) { return e.Samples(), nil }

// Poller reads several sources at once.
type Poller struct {
	Sources     []Source
	Timeout     time.Duration // per source; default 5 s
	Concurrency int           // default 8
}

// Result is one poll: the samples that were read, and the error of each
// source that failed (keyed by source name). A failing source never hides
// the others' samples.
type Result struct {
	Samples []Sample
	Errors  map[string]error
}

// Poll reads every source.
func (p *Poller) Poll(ctx context.Context) Result {
	timeout, conc := p.Timeout, p.Concurrency
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if conc <= 0 {
		conc = 8
	}
	per := make([][]Sample, len(p.Sources))
	errs := make([]error, len(p.Sources))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, src := range p.Sources {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			per[i], errs[i] = src.Read(c)
			for j := range per[i] {
				per[i][j].Source = src.Name()
			}
		})
	}
	wg.Wait()
	var r Result
	for i, s := range per {
		r.Samples = append(r.Samples, s...)
		if errs[i] != nil {
			if r.Errors == nil {
				r.Errors = map[string]error{}
			}
			r.Errors[p.Sources[i].Name()] = errs[i]
		}
	}
	return r
}
