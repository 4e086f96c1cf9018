package storyindex

import (
	"math/rand/v2"
	"testing"
)

// The head table must behave as a map under any mix of sets, replacements and
// deletions, including keys whose probes wrap around the end of the array.
func TestHeadTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, size := range []int{1, 5, 64} {
		tab, want := newHeadTable(newArena(), size), map[uint64]uint32{}
		for step := range 20000 {
			k := uint64(rng.IntN(3 * size))
			if rng.IntN(4) == 0 {
				k *= 0x9E3779B97F4A7C15 // spread keys too, not only small ones
			}
			switch {
			case rng.IntN(3) == 0:
				tab.del(k)
				delete(want, k)
			case len(want) < size:
				l := uint32(step+1)<<6 | uint32(rng.IntN(33))
				tab.set(k, l)
				want[k] = l
			}
			if tab.n != len(want) {
				t.Fatalf("size %d, step %d: %d keys, want %d", size, step, tab.n, len(want))
			}
			for wk, wl := range want {
				if got := tab.get(wk); got != wl {
					t.Fatalf("size %d, step %d: key %d = %v, want %v", size, step, wk, got, wl)
				}
			}
			if _, ok := want[k]; !ok && tab.get(k) != 0 {
				t.Fatalf("size %d, step %d: deleted key %d still found", size, step, k)
			}
		}
	}
}

// A table given more keys than it was made for grows instead of filling up.
func TestHeadTableGrows(t *testing.T) {
	tab := newHeadTable(newArena(), 4)
	for k := range uint64(1000) {
		tab.set(k, uint32(k+1))
	}
	if tab.n != 1000 {
		t.Fatalf("%d keys, want 1000", tab.n)
	}
	for k := range uint64(1000) {
		if got := tab.get(k); got != uint32(k+1) {
			t.Fatalf("key %d = %v after growing", k, got)
		}
	}
}
