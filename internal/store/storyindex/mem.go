package storyindex

import (
	"sync/atomic"
	"unsafe"
)

// mapped is how many bytes every arena holds mapped (for tests).
var mapped atomic.Int64

// arena holds an index's big pointer-free arrays (its table of keys, links, counters
// and signatures: about 16 MB for a full window of IDs only, 22 MB with the stories) in
// memory mapped outside the Go heap.
// The collector neither scans them nor counts them in the heap it lets grow before
// collecting again (twice the live heap by default), so a process holding an index
// peaks that much lower. Where memory cannot be mapped, the arrays are made on the heap.
// An index gives its arena back when the collector finds the index unreachable
// (runtime.AddCleanup); its methods that read the arrays keep it reachable until they
// return.
type arena struct {
	maps map[unsafe.Pointer][]byte // an array's first byte -> its mapping
}

func newArena() *arena { return &arena{maps: map[unsafe.Pointer][]byte{}} }

// array returns a zeroed array of n Ts. T must hold no pointers.
func array[T any](a *arena, n int) []T {
	size := n * int(unsafe.Sizeof(*new(T)))
	if size == 0 {
		return make([]T, n)
	}
	mem, err := mapMemory(size)
	if err != nil {
		return make([]T, n)
	}
	p := unsafe.Pointer(unsafe.SliceData(mem))
	a.maps[p] = mem
	mapped.Add(int64(len(mem)))
	return unsafe.Slice((*T)(p), n)
}

// drop gives back s, made by array; s must not be used after.
func drop[T any](a *arena, s []T) {
	a.unmap(unsafe.Pointer(unsafe.SliceData(s)))
}

// free gives back every array.
func (a *arena) free() {
	for p := range a.maps {
		a.unmap(p)
	}
}

// unmap gives back the mapping that starts at p, if the arena made one there.
func (a *arena) unmap(p unsafe.Pointer) {
	if mem, ok := a.maps[p]; ok {
		delete(a.maps, p)
		unmapMemory(mem)
		mapped.Add(-int64(len(mem)))
	}
}
