package fetch

import (
	"net/netip"
	"syscall"
)

// guard refuses connections to non-public addresses. It runs as net.Dialer.Control, after DNS
// resolution and just before connect, so it sees the real address of every connection:
// the first request, each redirect hop and a DNS answer that changed since the last lookup.
type guard struct {
	allowPrivate bool
	// exempt lists exact "ip:port" addresses let through anyway; tests use it to put a
	// loopback httptest server in front of a redirect to a blocked address.
	exempt map[netip.AddrPort]bool
}

func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{Addr: address} // not an IP:port: refuse rather than guess
	}
	if g.exempt[ap] {
		return nil
	}
	if blockedAddr(ap.Addr()) {
		return &blockedError{Addr: ap.Addr().Unmap().String()}
	}
	return nil
}

// blockedPrefixes are ranges that are not public unicast beyond what netip's predicates cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), :: and ::1 included
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds arbitrary IPv4
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID
	netip.MustParsePrefix("2001:20::/28"),    // ORCHIDv2
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT): embeds an IPv4 address
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata (also IsLinkLocalUnicast)
	netip.MustParsePrefix("fc00::/7"),        // unique local (also IsPrivate)
	netip.MustParsePrefix("fe80::/10"),       // link-local (also IsLinkLocalUnicast)
	netip.MustParsePrefix("ff00::/8"),        // multicast (also IsMulticast)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast (also IsMulticast)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback (also IsLoopback)
	netip.MustParsePrefix("10.0.0.0/8"),      // private (also IsPrivate)
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64: last 32 bits are IPv4
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4: bits 16..48 are IPv4
)

// blockedAddr reports whether a is anything but a public unicast address. IPv4-mapped IPv6
// (::ffff:a.b.c.d) and IPv4 embedded by NAT64 or 6to4 are judged by their IPv4 address.
func blockedAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return true
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return blockedAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return blockedAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
