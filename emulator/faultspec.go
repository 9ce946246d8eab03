package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jouleworks/joule/emulator/physics"
)

// FaultSpec is a scheduled fault as written on the command line.
type FaultSpec struct {
	Miner  string // name ("m00012") or index ("11")
	Fault  physics.Fault
	LeadUp time.Duration
	FailIn time.Duration
}

// ParseFaultSpec reads one scheduled fault:
//
//	miner ":" kind ":" fail-in [ ":" lead-up [ ":" target ] ]
//
// miner is a name (m00012) or a 0-based index; kind a fault name
// (fan_wear, chip_drop, hw_errors, psu_failure, thermal_runaway,
// network_timeout); fail-in the simulated time from start to the failure
// and lead-up how long before it the signature starts (Go durations, e.g.
// 48h, 90m; lead-up defaults to the kind's); target the board or fan index
// (default 0), or for network_timeout "stall", "drop" or "cut" (the reply
// is cut off mid-write).
func ParseFaultSpec(s string) (FaultSpec, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 3 || len(parts) > 5 {
		return FaultSpec{}, fmt.Errorf("fault %q: want miner:kind:fail-in[:lead-up[:target]]", s)
	}
	var fs FaultSpec
	fs.Miner = parts[0]
	if fs.Miner == "" {
		return FaultSpec{}, fmt.Errorf("fault %q: empty miner", s)
	}
	kind, err := physics.ParseFaultKind(parts[1])
	if err != nil {
		return FaultSpec{}, fmt.Errorf("fault %q: %w", s, err)
	}
	fs.Fault.Kind = kind
	if fs.FailIn, err = time.ParseDuration(parts[2]); err != nil || fs.FailIn < 0 {
		return FaultSpec{}, fmt.Errorf("fault %q: fail-in %q is not a non-negative duration", s, parts[2])
	}
	fs.LeadUp = time.Duration(physics.LeadUp[kind] * float64(time.Second))
	if len(parts) > 3 && parts[3] != "" {
		if fs.LeadUp, err = time.ParseDuration(parts[3]); err != nil || fs.LeadUp < 0 {
			return FaultSpec{}, fmt.Errorf("fault %q: lead-up %q is not a non-negative duration", s, parts[3])
		}
	}
	if len(parts) > 4 {
		t := parts[4]
		switch {
		case kind == physics.NetworkTimeout && t == "stall":
			fs.Fault.Mode = physics.NetStall
		case kind == physics.NetworkTimeout && t == "drop":
			fs.Fault.Mode = physics.NetDrop
		case kind == physics.NetworkTimeout && t == "cut":
			fs.Fault.Mode = physics.NetCut
		default:
			v, err := strconv.Atoi(t)
			if err != nil || v < 0 || v >= physics.MaxBoards {
				return FaultSpec{}, fmt.Errorf("fault %q: target %q is not a board/fan index 0…%d", s, t, physics.MaxBoards-1)
			}
			fs.Fault.Target = v
		}
	}
	return fs, nil
}

// Schedule injects a parsed fault, timed from the fleet's current
// simulated time.
func (f *Fleet) Schedule(fs FaultSpec) error {
	i, ok := f.indexOf(fs.Miner)
	if !ok {
		return fmt.Errorf("fault for %q: no such miner (names m00001…m%05d, or indexes 0…%d)", fs.Miner, f.Len(), f.Len()-1)
	}
	flt := fs.Fault
	now := f.Elapsed()
	flt.FailAt = now + fs.FailIn.Seconds()
	flt.Start = flt.FailAt - fs.LeadUp.Seconds()
	return f.InjectFault(i, flt)
}

func (f *Fleet) indexOf(s string) (int, bool) {
	if i, err := strconv.Atoi(s); err == nil {
		return i, i >= 0 && i < f.Len()
	}
	for i, n := range f.nodes {
		if n.info.Name == s {
			return i, true
		}
	}
	return 0, false
}
