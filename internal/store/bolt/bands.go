package bolt

import (
	"encoding/binary"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// The story-key index (store/cluster.go: which items are filed under each of a new
// item's 33 story keys) lives in memory, over the newest RecentStories items filed,
// and is rebuilt from the end of the storylog bucket when the file is opened (and
// after a write fails, since the rolled-back filings must go). On disk it would be a B+tree of
// millions of random 8-byte keys where each new item dirties a page per key: every
// commit would rewrite most of the tree, and polling cost would grow with the square
// of the items stored.
//
// The window bounds what a cluster decision can find to the newest RecentStories
// items, as store.BandDepth already bounds each key to its newest 16: a network posts
// far fewer items than that within store.ClusterWindow.

// RecentStories is how many of the newest items the story-key index holds.
const RecentStories = 1 << 14

// bandIndex is a ring of the newest filings (an item's story and its story keys)
// with, for each story key, a link to its newest filing, and for each filing and key
// a link to the next older filing under that key: a chain that lookups walk newest
// first. The ring is kept in flat arrays, and holds the stories themselves (about 1
// KB per filing in all), so a cluster decision reads no item from the file but the
// one it joins. Only writes touch it, under Store.bandMu: their plans and the writer.
type bandIndex struct {
	window  uint32
	seq     uint32 // sequence number of the last filing (0: none); the first is 1
	heads   headTable
	latest  map[string]uint32 // item ID -> its newest filing
	stories []store.Story     // slot -> the filed item's story
	nkeys   []uint8           // slot -> how many story keys
	keys    []uint64          // slot*maxKeys + j -> its j-th story key
	older   []link            // slot*maxKeys + j -> the previous filing under that key
	newer   []uint32          // slot -> the item's next filing, when it was filed again (restory)

	// rank's working space, one entry per slot: mark says whether count and linked
	// belong to the current ranking.
	mark    []uint32
	count   []uint16
	linked  []bool
	ranking uint32
	hits    []uint32
	out     []store.Story
}

// maxKeys is how many story keys a filing has at most: its link and its bands.
const maxKeys = 1 + identity.NumBands

// link names a filing and the position of a key among its keys.
type link struct {
	seq uint32
	j   uint32
}

func newBandIndex(window int) *bandIndex {
	w := uint32(window)
	return &bandIndex{window: w, heads: newHeadTable(window * maxKeys), latest: map[string]uint32{},
		stories: make([]store.Story, w), nkeys: make([]uint8, w), keys: make([]uint64, w*maxKeys), older: make([]link, w*maxKeys),
		newer: make([]uint32, w), mark: make([]uint32, w), count: make([]uint16, w), linked: make([]bool, w)}
}

func keyOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// live reports whether filing seq is still in the window.
func (b *bandIndex) live(seq uint32) bool {
	return seq != 0 && seq <= b.seq && b.seq-seq < b.window
}

// file files st under keys (at most maxKeys), evicting the oldest filing when the
// window is full.
func (b *bandIndex) file(st *store.Story, keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	keys = keys[:min(len(keys), maxKeys)]
	b.seq++
	slot := b.seq % b.window
	base := slot * maxKeys
	if b.seq > b.window { // the slot holds filing seq-window: evict it
		old := b.seq - b.window
		for _, k := range b.keys[base : base+uint32(b.nkeys[slot])] {
			if b.heads.get(k).seq == old {
				b.heads.del(k)
			}
		}
		if id := b.stories[slot].ID; b.latest[id] == old {
			delete(b.latest, id)
		}
	}
	if prev, ok := b.latest[st.ID]; ok && b.live(prev) {
		b.newer[prev%b.window] = b.seq
	}
	b.stories[slot], b.nkeys[slot], b.newer[slot] = *st, uint8(len(keys)), 0
	b.latest[st.ID] = b.seq
	for j, k := range keys {
		kk := keyOf(k)
		b.keys[base+uint32(j)] = kk
		b.older[base+uint32(j)] = b.heads.get(kk)
		b.heads.set(kk, link{b.seq, uint32(j)})
	}
}

// restory replaces the story of an item filed in the window by st (its date, link or
// words changed), and files it again when its story keys changed: a decision then
// compares against the item as it is (rank reads an item's newest filing), found
// under its keys as they are.
func (b *bandIndex) restory(st *store.Story) {
	seq, ok := b.latest[st.ID]
	if !ok || !b.live(seq) {
		return
	}
	keys := st.Keys()
	slot := seq % b.window
	same := len(keys) == int(b.nkeys[slot])
	for j := 0; same && j < len(keys); j++ {
		same = keyOf(keys[j]) == b.keys[slot*maxKeys+uint32(j)]
	}
	if same {
		b.stories[slot] = *st
		return
	}
	b.file(st, keys)
}

// current returns the story of filing seq as the item is now: that of its newest filing.
func (b *bandIndex) current(seq uint32) store.Story {
	for n := b.newer[seq%b.window]; n != 0 && b.live(n); n = b.newer[seq%b.window] {
		seq = n // filed again since
	}
	return b.stories[seq%b.window]
}

// chains reads the filings under each of keys, newest first, at most store.BandDepth
// each, into chain[i][:n[i]]. It steps all the keys' chains together, one link each
// per round: the links of one chain depend on each other, those of different chains
// do not, so the memory reads of one round overlap instead of waiting in turn.
func (b *bandIndex) chains(keys [][]byte, chain *[maxKeys][store.BandDepth]uint32, n *[maxKeys]uint8) {
	var at [maxKeys]link
	for i, k := range keys {
		at[i] = b.heads.get(keyOf(k))
	}
	for depth := range store.BandDepth {
		more := false
		for i := range keys {
			l := at[i]
			if int(n[i]) != depth || !b.live(l.seq) {
				continue
			}
			chain[i][depth] = l.seq
			n[i]++
			at[i] = b.older[(l.seq%b.window)*maxKeys+l.j]
			more = true
		}
		if !more {
			return
		}
	}
}

// rank is store.RankCandidates over the filings under keys (keys[0] is the
// canonical-link key when hasLink): it returns the stories of the
// store.MaxCandidates most promising, without building a list of IDs per key. The
// slice returned is the index's own, good until the next rank.
func (b *bandIndex) rank(keys [][]byte, hasLink bool) []store.Story {
	keys = keys[:min(len(keys), maxKeys)]
	b.ranking++
	if b.ranking == 0 { // wrapped: clear the marks of long ago
		clear(b.mark)
		b.ranking = 1
	}
	var chain [maxKeys][store.BandDepth]uint32
	var n [maxKeys]uint8
	b.chains(keys, &chain, &n)
	hits := b.hits[:0] // sequence numbers, in the order first found
	for i := range keys {
		isLink := i == 0 && hasLink
		for _, seq := range chain[i][:n[i]] {
			slot := seq % b.window
			if b.mark[slot] != b.ranking {
				b.mark[slot], b.count[slot], b.linked[slot] = b.ranking, 0, false
				hits = append(hits, seq)
			}
			if isLink {
				b.linked[slot] = true
			} else {
				b.count[slot]++
			}
		}
	}
	b.hits = hits
	var top [store.MaxCandidates]uint32
	best := store.Best(top[:0], hits, func(x, y *uint32) bool {
		sx, sy := *x%b.window, *y%b.window
		if b.linked[sx] != b.linked[sy] {
			return b.linked[sx]
		}
		return b.count[sx] > b.count[sy]
	})
	out := b.out[:0]
	for _, h := range best {
		c := b.current(h)
		if !slices.ContainsFunc(out, func(o store.Story) bool { return o.ID == c.ID }) {
			out = append(out, c) // an item filed again is one candidate
		}
	}
	b.out = out
	return out
}

// fileBands files st under its story keys.
func (s *Store) fileBands(st *store.Story, keys [][]byte) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.bands.Load().file(st, keys)
}

// candidates returns the stories filed under keys that tell the same story as st,
// best first (rank, then store.Confirm): a copy, good after the index changes.
func (b *bandIndex) candidates(st *store.Story, keys [][]byte) []store.Story {
	return store.Confirm(st, b.rank(keys, st.Link != ""))
}

// candidates is bandIndex.candidates under the index's lock.
func (s *Store) candidates(st *store.Story, keys [][]byte) []store.Story {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	return s.bands.Load().candidates(st, keys)
}

// plan works out, in the caller's goroutine, the cluster candidates of the items of a
// write not stored yet (fresh, by prepareNew) and files their stories in the story-key
// index, so that the writer, while it commits the writes before, is spared the
// index's work: ranking, confirming and filing are most of a cluster decision. The
// caller holds planMu until the write is queued, so writes are planned in the order
// the writer runs them, and an item's plan has seen every item written before it.
// The writer checks each candidate as it runs the write (decideCluster); a plan made
// before a failed transaction rebuilt the index is not used (its epoch is past).
func (s *Store) plan(items []news.Item, fresh map[string]*newItem) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	idx, epoch := s.bands.Load(), s.epoch.Load()
	for i := range items {
		p := fresh[items[i].ID]
		if p == nil || p.epoch != 0 {
			continue // stored already, or a later copy in the batch
		}
		p.cands = idx.candidates(&p.story, p.keys)
		idx.file(&p.story, p.keys)
		p.epoch = epoch
	}
}

// restoryBands is bandIndex.restory under the index's lock.
func (s *Store) restoryBands(st *store.Story) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.bands.Load().restory(st)
}

// loadBands rebuilds the story-key index from the stories of the newest RecentStories
// items (by first-seen time): the last of the storylog, filed oldest first. The plans
// made on the index it replaces are no longer used.
func (s *Store) loadBands() error {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.epoch.Add(1)
	idx := newBandIndex(s.window)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bStoryLog).Cursor()
		var newest [][]byte // values, newest first
		for k, v := c.Last(); k != nil && len(newest) < s.window; k, v = c.Prev() {
			newest = append(newest, v)
		}
		for i := len(newest) - 1; i >= 0; i-- {
			st, err := store.ParseStory(newest[i])
			if err != nil {
				return fmt.Errorf("story %d from the newest: %w", i, err)
			}
			idx.file(&st, st.Keys())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load story index: %w", err)
	}
	s.bands.Store(idx)
	return nil
}
