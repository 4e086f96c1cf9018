package storyindex

import "math/bits"

// headTable maps a story key to a non-zero value (Index.heads: its newest filing, as
// Index.headValue encodes it). It is an open-addressing table with linear probing
// over one flat array: a lookup of a key reads one cache line, where a Go map of half
// a million keys reads two or more, and every new item looks up and replaces 33 of
// them. Deletions shift the following entries back, so no tombstones lengthen the
// probes. A slot is empty when its value is 0.
type headTable struct {
	mem   *arena
	slots []headSlot
	n     int
}

// headSlot is 12 bytes: the key as two halves (a uint64 would align the slot to 16).
type headSlot struct {
	lo, hi uint32
	v      uint32
}

func (s *headSlot) key() uint64 { return uint64(s.hi)<<32 | uint64(s.lo) }

// newHeadTable makes a table with room for n keys at most two-thirds full; set
// makes it half as large again when it is three-quarters full, so it is never much
// larger than it needs (9.6 MB for a full window of distinct keys: 16,384 filings of
// 33; doubling would make it 12.6 MB).
func newHeadTable(a *arena, n int) headTable {
	return headTable{mem: a, slots: array[headSlot](a, max(16, n+n/2))}
}

// home is where key's probe starts: Fibonacci hashing (keys are hashes already, but
// tests use small numbers) mapped onto the table's size by multiplication.
func (t *headTable) home(key uint64) int {
	hi, _ := bits.Mul64(key*0x9E3779B97F4A7C15, uint64(len(t.slots)))
	return int(hi)
}

// next is the slot after i, wrapping around.
func (t *headTable) next(i int) int {
	if i++; i == len(t.slots) {
		return 0
	}
	return i
}

func (t *headTable) get(key uint64) uint32 {
	for i := t.home(key); ; i = t.next(i) {
		s := &t.slots[i]
		if s.v == 0 {
			return 0
		}
		if s.key() == key {
			return s.v
		}
	}
}

// set maps key to v, which must not be 0.
func (t *headTable) set(key uint64, v uint32) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow() // before it is full: a full table would probe forever
	}
	for i := t.home(key); ; i = t.next(i) {
		s := &t.slots[i]
		if s.v == 0 {
			*s = headSlot{uint32(key), uint32(key >> 32), v}
			t.n++
			return
		}
		if s.key() == key {
			s.v = v
			return
		}
	}
}

func (t *headTable) del(key uint64) {
	i := t.home(key)
	for ; ; i = t.next(i) {
		if t.slots[i].v == 0 {
			return
		}
		if t.slots[i].key() == key {
			break
		}
	}
	t.n--
	// Shift back every entry after the hole whose probe started at or before it.
	for j := t.next(i); t.slots[j].v != 0; j = t.next(j) {
		h := t.home(t.slots[j].key())
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = headSlot{}
}

// grow makes the table half as large again.
func (t *headTable) grow() {
	old := t.slots
	t.slots, t.n = array[headSlot](t.mem, len(old)+len(old)/2), 0
	for _, s := range old {
		if s.v != 0 {
			t.set(s.key(), s.v)
		}
	}
	drop(t.mem, old)
}
