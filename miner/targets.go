package miner

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaxTargets caps one selection: a /16 is the largest site network worth
// sweeping in one go.
const MaxTargets = 1 << 16

// Selection is how an operator names miners: explicit IPs, CIDR blocks and
// first-last ranges, any mix, comma-separated within each.
type Selection struct {
	IPs    string // "10.0.0.5,10.0.0.9"
	CIDR   string // "10.0.1.0/24,10.0.2.0/25"
	Ranges string // "10.0.3.1-10.0.3.200"
}

// Addrs expands the selection into unique addresses in the order given.
// Network and broadcast addresses of CIDR blocks shorter than /31 are left
// out, because no miner answers there.
func (s Selection) Addrs() ([]netip.Addr, error) {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	add := func(a netip.Addr) error {
		if seen[a] {
			return nil
		}
		if len(out) >= MaxTargets {
			return fmt.Errorf("selection exceeds %d addresses", MaxTargets)
		}
		seen[a] = true
		out = append(out, a)
		return nil
	}
	for _, f := range fields(s.IPs) {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--ips %q: %w", f, err)
		}
		if err := add(a); err != nil {
			return nil, err
		}
	}
	for _, f := range fields(s.CIDR) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--cidr %q: %w", f, err)
		}
		p = p.Masked()
		if p.Addr().BitLen()-p.Bits() > 16 {
			return nil, fmt.Errorf("--cidr %q: larger than a /16 (%d addresses max)", f, MaxTargets)
		}
		skipEnds := p.Addr().Is4() && p.Bits() < 31
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			if skipEnds && (a == p.Addr() || !p.Contains(a.Next())) {
				continue
			}
			if err := add(a); err != nil {
				return nil, fmt.Errorf("--cidr %q: %w", f, err)
			}
		}
	}
	for _, f := range fields(s.Ranges) {
		lo, hi, ok := strings.Cut(f, "-")
		if !ok {
			return nil, fmt.Errorf("--range %q: want first-last, e.g. 10.0.0.1-10.0.0.200", f)
		}
		a, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("--range %q: first address: %w", f, err)
		}
		b, err := netip.ParseAddr(strings.TrimSpace(hi))
		if err != nil {
			return nil, fmt.Errorf("--range %q: last address: %w", f, err)
		}
		if a.BitLen() != b.BitLen() || b.Less(a) {
			return nil, fmt.Errorf("--range %q: last address is before the first", f)
		}
		for x := a; ; x = x.Next() {
			if err := add(x); err != nil {
				return nil, fmt.Errorf("--range %q: %w", f, err)
			}
			if x == b {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no miners selected: give --ips, --cidr or --range")
	}
	return out, nil
}

func fields(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
