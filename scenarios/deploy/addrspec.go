package deploy

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseAddrSpec reads one source address item: a single IP, a range
// "a-b" (inclusive, same family, a ≤ b) or a CIDR prefix (without its
// network and broadcast addresses for IPv4 prefixes shorter than /31). It
// returns at most limit addresses.
func parseAddrSpec(s string, limit int) ([]netip.Addr, error) {
	s = strings.TrimSpace(s)
	tooMany := func() error {
		return fmt.Errorf("%q holds more than %d addresses: one simulated user per address, at most %d in all", clip(s), limit, MaxSourceIPs)
	}
	switch {
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 127.0.10.0/27", clip(s))
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("%q has host bits set: did you mean %s?", clip(s), p.Masked())
		}
		first, bits := p.Addr(), p.Addr().BitLen()-p.Bits()
		if bits > 20 {
			return nil, tooMany()
		}
		n := 1 << bits
		skipEnds := first.Is4() && bits >= 2
		var out []netip.Addr
		a := first
		for i := 0; i < n; i++ {
			if !(skipEnds && (i == 0 || i == n-1)) {
				if len(out) >= limit {
					return nil, tooMany()
				}
				out = append(out, a)
			}
			a = a.Next()
		}
		return out, nil
	case strings.Contains(s, "-"):
		lo, hi, _ := strings.Cut(s, "-")
		a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a range of two IP addresses such as 127.0.10.1-127.0.10.32", clip(s))
		}
		if a.Is4() != b.Is4() || a.Zone() != "" || b.Zone() != "" {
			return nil, fmt.Errorf("%q mixes address families", clip(s))
		}
		if b.Less(a) {
			return nil, fmt.Errorf("%q runs backwards: the first address must not be above the last", clip(s))
		}
		var out []netip.Addr
		for x := a; ; x = x.Next() {
			if len(out) >= limit {
				return nil, tooMany()
			}
			out = append(out, x)
			if x == b {
				return out, nil
			}
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return nil, fmt.Errorf("%q is not an IP address, a range a-b or a CIDR prefix", clip(s))
	}
	if limit < 1 {
		return nil, tooMany()
	}
	return []netip.Addr{a}, nil
}
