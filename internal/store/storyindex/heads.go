package storyindex

import "math/bits"

// headTable maps a story key to its newest filing (Index.heads). It is an
// open-addressing table with linear probing over one flat array: a lookup of a key
// reads one cache line, where a Go map of half a million keys reads two or more, and
// every new item looks up and replaces 33 of them. Deletions shift the following
// entries back, so no tombstones lengthen the probes. A slot is empty when its seq is 0
// (no filing has sequence number 0).
type headTable struct {
	mem   *arena
	slots []headSlot
	shift uint8 // 64 - log2(len(slots))
	n     int
}

type headSlot struct {
	key uint64
	l   link
}

// newHeadTable makes a table with room for n keys at most two-thirds full; set
// doubles it when it is three-quarters full (16 MB for a full window of distinct keys:
// 16,384 filings of 33).
func newHeadTable(a *arena, n int) headTable {
	b := max(4, bits.Len(uint(n+n/2)))
	return headTable{mem: a, slots: array[headSlot](a, 1<<b), shift: uint8(64 - b)}
}

// home is where key's probe starts (Fibonacci hashing: keys are hashes already, but
// tests use small numbers).
func (t *headTable) home(key uint64) int { return int((key * 0x9E3779B97F4A7C15) >> t.shift) }

func (t *headTable) get(key uint64) link {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.l.seq == 0 {
			return link{}
		}
		if s.key == key {
			return s.l
		}
	}
}

func (t *headTable) set(key uint64, l link) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow() // before it is full: a full table would probe forever
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.l.seq == 0 {
			*s = headSlot{key, l}
			t.n++
			return
		}
		if s.key == key {
			s.l = l
			return
		}
	}
}

func (t *headTable) del(key uint64) {
	mask := len(t.slots) - 1
	i := t.home(key)
	for ; ; i = (i + 1) & mask {
		if t.slots[i].l.seq == 0 {
			return
		}
		if t.slots[i].key == key {
			break
		}
	}
	t.n--
	// Shift back every entry after the hole whose probe started at or before it.
	for j := (i + 1) & mask; t.slots[j].l.seq != 0; j = (j + 1) & mask {
		h := t.home(t.slots[j].key)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = headSlot{}
}

// grow doubles the table.
func (t *headTable) grow() {
	old := t.slots
	t.slots, t.shift, t.n = array[headSlot](t.mem, 2*len(old)), t.shift-1, 0
	for _, s := range old {
		if s.l.seq != 0 {
			t.set(s.key, s.l)
		}
	}
	drop(t.mem, old)
}
