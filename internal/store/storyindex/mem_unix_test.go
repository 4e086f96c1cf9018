//go:build unix

package storyindex

import (
	"encoding/binary"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/store"
)

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A full index keeps its tables outside the heap, and gives them back once it is
// unreachable.
func TestArraysLiveOutsideTheHeap(t *testing.T) {
	heap0, mapped0 := heapInUse(), mapped.Load()
	b := New(Window)
	keys := make([][]byte, maxKeys)
	for i := range Window {
		for j := range keys {
			keys[j] = binary.BigEndian.AppendUint64(keys[j][:0], uint64(i*maxKeys+j+1))
		}
		b.File(&store.Story{ID: strconv.Itoa(i), Member: "m", Time: int64(i)}, keys)
	}
	if b.Keys() != Window*maxKeys {
		t.Fatalf("%d keys filed, want %d", b.Keys(), Window*maxKeys)
	}
	heap, out := heapInUse()-heap0, 0
	for _, m := range b.mem.maps {
		out += len(m)
	}
	t.Logf("heap +%d KB, mapped +%d KB", heap>>10, out>>10)
	if out < 20<<20 {
		t.Errorf("mapped outside the heap: %d MB, want the ~25 MB of tables", out>>20)
	}
	if heap > 4<<20 {
		t.Errorf("the heap grew by %d MB, want only the IDs and strings (< 4 MB)", heap>>20)
	}
	if got := b.Rank(keys, false); len(got) != 1 || got[0].ID != strconv.Itoa(Window-1) || got[0].Time != Window-1 {
		t.Errorf("Rank = %+v", got)
	}
	runtime.KeepAlive(b)
	b = nil
	for deadline := time.Now().Add(10 * time.Second); mapped.Load() > mapped0; {
		if time.Now().After(deadline) {
			t.Fatalf("still mapped after the index became unreachable: %d KB more than before", (mapped.Load()-mapped0)>>10)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
