package bolt

import (
	"container/heap"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/store"
)

// The story-key index (store/cluster.go: which items are filed under each of a new
// item's 33 story keys) lives in memory, over the newest RecentStories items filed,
// and is rebuilt from the stories bucket when the file is opened (and after a write
// fails, since the rolled-back filings must go). On disk it would be a B+tree of
// millions of random 8-byte keys where each new item dirties a page per key: every
// commit would rewrite most of the tree, and polling cost would grow with the square
// of the items stored.
//
// The window bounds what a cluster decision can find to the newest RecentStories
// items, as store.BandDepth already bounds each key to its newest 16: a network posts
// far fewer items than that within store.ClusterWindow.

// RecentStories is how many of the newest items the story-key index holds.
const RecentStories = 1 << 14

// bandIndex is a ring of the newest filings (an item ID and its story keys) with, for
// each story key, the sequence number of its newest filing, and for each filing and
// key the next older filing under that key: a chain that lookups walk newest first.
// About 400 bytes per filing. Only writes (run one at a time by the writer goroutine)
// touch it.
type bandIndex struct {
	window uint32
	seq    uint32 // sequence number of the last filing (0: none); the first is 1
	heads  map[uint64]link
	ring   []filing
}

type filing struct {
	id    string
	keys  []uint64
	older []link // older[j]: the previous filing under keys[j]
}

// link names a filing and the position of a key among its keys.
type link struct {
	seq uint32
	j   uint32
}

func newBandIndex(window int) *bandIndex {
	return &bandIndex{window: uint32(window), heads: map[uint64]link{}, ring: make([]filing, window)}
}

func keyOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// live reports whether filing seq is still in the window.
func (b *bandIndex) live(seq uint32) bool {
	return seq != 0 && seq <= b.seq && b.seq-seq < b.window
}

// file files id under keys, evicting the oldest filing when the window is full.
func (b *bandIndex) file(id string, keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	b.seq++
	f := &b.ring[b.seq%b.window]
	if b.seq > b.window { // the slot holds filing seq-window: evict it
		old := b.seq - b.window
		for _, k := range f.keys {
			if b.heads[k].seq == old {
				delete(b.heads, k)
			}
		}
	}
	f.id = id
	f.keys = f.keys[:0]
	f.older = f.older[:0]
	for j, k := range keys {
		kk := keyOf(k)
		f.keys = append(f.keys, kk)
		f.older = append(f.older, b.heads[kk])
		b.heads[kk] = link{b.seq, uint32(j)}
	}
}

// ids returns the IDs filed under story key k, newest first, at most store.BandDepth.
func (b *bandIndex) ids(k []byte) []string {
	kk := keyOf(k)
	var out []string
	for l := b.heads[kk]; b.live(l.seq) && len(out) < store.BandDepth; {
		f := &b.ring[l.seq%b.window]
		out = append(out, f.id)
		l = f.older[l.j]
	}
	return out
}

// fileBands files id under its story keys.
func (s *Store) fileBands(id string, keys [][]byte) { s.bands.file(id, keys) }

// loadBands rebuilds the story-key index from the stories of the newest RecentStories
// items (by first-seen time), filed oldest first.
func (s *Store) loadBands() error {
	idx := newBandIndex(s.window)
	err := s.db.View(func(tx *bbolt.Tx) error {
		sb := tx.Bucket(bStories)
		newest := &byFirstSeen{}
		err := sb.ForEach(func(id, v []byte) error {
			st, err := store.ParseStory(v)
			if err != nil {
				return fmt.Errorf("item %s: %w", id, err)
			}
			heap.Push(newest, recent{st.FirstSeen, st.ID})
			if newest.Len() > s.window {
				heap.Pop(newest) // the oldest
			}
			return nil
		})
		if err != nil {
			return err
		}
		order := make([]recent, newest.Len())
		for i := len(order) - 1; i >= 0; i-- {
			order[len(order)-1-i] = heap.Pop(newest).(recent)
		}
		for _, r := range order { // oldest first
			st, err := store.ParseStory(sb.Get([]byte(r.id)))
			if err != nil {
				return fmt.Errorf("item %s: %w", r.id, err)
			}
			idx.file(st.ID, st.Keys())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load story index: %w", err)
	}
	s.bands = idx
	return nil
}

type recent struct {
	firstSeen int64
	id        string
}

// byFirstSeen is a min-heap of recent items: the oldest on top.
type byFirstSeen []recent

func (h byFirstSeen) Len() int { return len(h) }
func (h byFirstSeen) Less(i, j int) bool {
	if h[i].firstSeen != h[j].firstSeen {
		return h[i].firstSeen < h[j].firstSeen
	}
	return h[i].id < h[j].id
}
func (h byFirstSeen) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byFirstSeen) Push(x any)   { *h = append(*h, x.(recent)) }
func (h *byFirstSeen) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
