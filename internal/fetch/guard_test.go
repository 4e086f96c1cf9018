package fetch

import (
	"errors"
	"net/netip"
	"testing"
)

func TestBlockedAddr(t *testing.T) {
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"100.64.0.1", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"255.255.255.255", true},
		{"::", true},
		{"::1", true},
		{"::127.0.0.1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:10.0.0.1", true},
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::", true},      // 6to4 of 127.0.0.1
		{"2001:db8::1", true},
		{"::ffff:0:7f00:1", true}, // IPv4-translated 127.0.0.1
		{"2001:20::1", true},      // ORCHIDv2
		{"2001:2::1", true},       // benchmarking
		{"3fff::1", true},         // documentation
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"172.32.0.1", false},
		{"2606:4700:4700::1111", false},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::808:808", false},
		{"2002:808:808::", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := blockedAddr(netip.MustParseAddr(tt.addr)); got != tt.blocked {
				t.Errorf("blockedAddr(%s) = %v, want %v", tt.addr, got, tt.blocked)
			}
		})
	}
}

func TestGuardControl(t *testing.T) {
	tests := []struct {
		name    string
		g       guard
		address string
		blocked bool
	}{
		{"public v4", guard{}, "8.8.8.8:443", false},
		{"public v6", guard{}, "[2606:4700:4700::1111]:443", false},
		{"loopback", guard{}, "127.0.0.1:80", true},
		{"mapped loopback", guard{}, "[::ffff:127.0.0.1]:80", true},
		{"metadata", guard{}, "169.254.169.254:80", true},
		{"unparseable", guard{}, "example.org:80", true},
		{"allow private", guard{allowPrivate: true}, "127.0.0.1:80", false},
		{"exempt", guard{exempt: map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.1:8080"): true}}, "127.0.0.1:8080", false},
		{"exempt is per port", guard{exempt: map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.1:8080"): true}}, "127.0.0.1:8081", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.g.control("tcp", tt.address, nil)
			if got := errors.Is(err, ErrBlockedAddress); got != tt.blocked {
				t.Errorf("control(%s) = %v, want blocked=%v", tt.address, err, tt.blocked)
			}
		})
	}
}
