// Package storyindex is the in-memory story-key index cluster decisions read (rules in
// store/cluster.go): which of the newest filings are filed under each of a new item's
// 33 story keys. Both stores keep one per process: the embedded store fills it from its
// storylog bucket and its own writes, the Redis store from the network's stream of
// filings, which every worker's writes append to. An Index is not safe for concurrent
// use: its owner locks it.
package storyindex

import (
	"encoding/binary"
	"runtime"
	"slices"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/store"
)

// Window is how many of the newest filings an Index holds in the stores (RecentStories
// in the embedded store): a network posts far fewer items than that within
// store.ClusterWindow.
const Window = 1 << 14

// Index is a ring of the newest filings (an item's story and its story keys)
// with, for each story key, a link to its newest filing, and for each filing and key
// a link to the next older filing under that key: a chain that lookups walk newest
// first. The ring is kept in flat arrays, and, made with New, holds the stories
// themselves (about 1 KB per filing in all), so a cluster decision reads no item from
// the file but the one it joins; made with NewIDs (the Redis store, which reads the
// stories of the candidates it ranks from Redis), only their IDs. The arrays without
// pointers live outside the Go heap (see arena).
type Index struct {
	window  uint32
	seq     uint32 // sequence number of the last filing (0: none); the first is 1
	mem     *arena
	heads   headTable
	latest  map[string]uint32    // item ID -> its newest filing
	ids     []string             // slot -> the filed item's ID
	stories []filed              // slot -> the filed item's story but its signature (nil: IDs only)
	sigs    []identity.Signature // slot -> the filed item's signature (nil: IDs only)
	nkeys   []uint8              // slot -> how many story keys
	keys    []uint64             // slot*maxKeys + j -> its j-th story key
	older   []uint32             // slot*maxKeys + j -> the previous filing under that key (olderValue)
	newer   []uint32             // slot -> the item's next filing, when it was filed again (Restory)

	// Rank's working space, one entry per slot: mark says whether count and linked
	// belong to the current ranking.
	mark    []uint32
	count   []uint16
	linked  []bool
	ranking uint32
	hits    []uint32
	out     []store.Story
	ptrs    []*store.Story // Candidates' pointers into out
}

// filed is a filed story's fields but its ID (in ids) and signature (in sigs).
type filed struct {
	member, language, link string
	time, firstSeen        int64
	marks                  uint64
}

// maxKeys is how many story keys a filing has at most: its link and its bands.
const maxKeys = 1 + identity.NumBands

// initialKeys is how many story keys a new index has room for; its table of keys
// grows by half as it fills (to 9.6 MB for the 540,672 distinct keys of a full window).
const initialKeys = 1 << 12

// link names a filing and the position of a key among its keys.
type link struct {
	seq uint32
	j   uint32
}

// Links are kept in 32 bits. Every link kept points to a filing in the window (a
// filing's key leaves the head table when the filing leaves the window, and a
// filing's link to the previous filing under a key is made while that one is the
// key's head), so a filing can be named by its sequence number modulo 2^seqBits
// (heads) or by how far back it is (older), with the key's position in the low jBits.
const (
	jBits     = 6 // maxKeys <= 1<<jBits
	seqBits   = 32 - jBits
	maxWindow = 1 << (seqBits - 1)
)

const _ = uint(1<<jBits - maxKeys) // a key's position fits in jBits

// headValue is l as the head table keeps it (never 0).
func headValue(l link) uint32 { return (l.seq%(1<<seqBits))<<jBits | l.j + 1 }

// head is the newest filing under key k (link{} when none).
func (b *Index) head(k uint64) link {
	v := b.heads.get(k)
	if v == 0 {
		return link{}
	}
	v--
	r := v >> jBits
	return link{b.seq - (b.seq-r)%(1<<seqBits), v & (1<<jBits - 1)}
}

// olderValue is the link from filing seq to to as older keeps it (0: none).
func (b *Index) olderValue(seq uint32, to link) uint32 {
	if !b.live(to.seq) {
		return 0
	}
	return (seq-to.seq)<<jBits | to.j + 1
}

// olderOf is the link kept for filing l.seq's key l.j (link{} when none).
func (b *Index) olderOf(l link) link {
	v := b.older[(l.seq%b.window)*maxKeys+l.j]
	if v == 0 {
		return link{}
	}
	v--
	return link{l.seq - v>>jBits, v & (1<<jBits - 1)}
}

// New makes an index of the newest window filings and their stories.
func New(window int) *Index {
	b := NewIDs(window)
	b.stories, b.sigs = make([]filed, window), array[identity.Signature](b.mem, window)
	return b
}

// NewIDs makes an index of the newest window filings that keeps only the filed
// stories' IDs: Rank returns stories with only the ID set.
func NewIDs(window int) *Index {
	if window <= 0 || window > maxWindow {
		panic("storyindex: window out of range")
	}
	a, w := newArena(), window
	b := &Index{window: uint32(w), mem: a, heads: newHeadTable(a, initialKeys), latest: map[string]uint32{},
		ids: make([]string, w), nkeys: array[uint8](a, w), keys: array[uint64](a, w*maxKeys), older: array[uint32](a, w*maxKeys),
		newer: array[uint32](a, w), mark: array[uint32](a, w), count: array[uint16](a, w), linked: array[bool](a, w)}
	runtime.AddCleanup(b, (*arena).free, a)
	return b
}

// setStory keeps st as the story filed in slot (when the index keeps stories).
func (b *Index) setStory(slot uint32, st *store.Story) {
	if b.stories != nil {
		b.stories[slot] = filed{st.Member, st.Language, st.Link, st.Time, st.FirstSeen, st.Marks}
		b.sigs[slot] = st.Sig
	}
}

func keyOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// live reports whether filing seq is still in the window.
func (b *Index) live(seq uint32) bool {
	return seq != 0 && seq <= b.seq && b.seq-seq < b.window
}

// File files st under keys (at most maxKeys), evicting the oldest filing when the
// window is full.
func (b *Index) File(st *store.Story, keys [][]byte) {
	defer runtime.KeepAlive(b) // its arrays are freed once it is unreachable
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
			if b.head(k).seq == old {
				b.heads.del(k)
			}
		}
		if id := b.ids[slot]; b.latest[id] == old {
			delete(b.latest, id)
		}
	}
	if prev, ok := b.latest[st.ID]; ok && b.live(prev) {
		b.newer[prev%b.window] = b.seq
	}
	b.ids[slot], b.nkeys[slot], b.newer[slot] = st.ID, uint8(len(keys)), 0
	b.setStory(slot, st)
	b.latest[st.ID] = b.seq
	for j, k := range keys {
		kk := keyOf(k)
		b.keys[base+uint32(j)] = kk
		b.older[base+uint32(j)] = b.olderValue(b.seq, b.head(kk))
		b.heads.set(kk, headValue(link{b.seq, uint32(j)}))
	}
}

// Restory replaces the story of an item filed in the window by st (its date, link or
// words changed), and files it again when its story keys changed: a decision then
// compares against the item as it is (Rank reads an item's newest filing), found
// under its keys as they are.
func (b *Index) Restory(st *store.Story) {
	defer runtime.KeepAlive(b)
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
		b.setStory(slot, st)
		return
	}
	b.File(st, keys)
}

// current returns the story of filing seq as the item is now: that of its newest filing.
func (b *Index) current(seq uint32) store.Story {
	for n := b.newer[seq%b.window]; n != 0 && b.live(n); n = b.newer[seq%b.window] {
		seq = n // filed again since
	}
	slot := seq % b.window
	if b.stories == nil {
		return store.Story{ID: b.ids[slot]}
	}
	f := &b.stories[slot]
	return store.Story{ID: b.ids[slot], Member: f.member, Language: f.language, Link: f.link,
		Time: f.time, FirstSeen: f.firstSeen, Marks: f.marks, Sig: b.sigs[slot]}
}

// chains reads the filings under each of keys, newest first, at most store.BandDepth
// each, into chain[i][:n[i]]. It steps all the keys' chains together, one link each
// per round: the links of one chain depend on each other, those of different chains
// do not, so the memory reads of one round overlap instead of waiting in turn.
func (b *Index) chains(keys [][]byte, chain *[maxKeys][store.BandDepth]uint32, n *[maxKeys]uint8) {
	var at [maxKeys]link
	for i, k := range keys {
		at[i] = b.head(keyOf(k))
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
			at[i] = b.olderOf(l)
			more = true
		}
		if !more {
			return
		}
	}
}

// Rank is store.RankCandidates over the filings under keys (keys[0] is the
// canonical-link key when hasLink): it returns the stories of the
// store.MaxCandidates most promising, without building a list of IDs per key. The
// slice returned is the index's own, good until the next rank.
func (b *Index) Rank(keys [][]byte, hasLink bool) []store.Story {
	defer runtime.KeepAlive(b)
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

// Candidates returns the cluster entries of the stories filed under keys that tell the
// same story as st, best first (Rank, then store.Confirm): good after the index changes.
func (b *Index) Candidates(st *store.Story, keys [][]byte) []store.ClusterEntry {
	ranked := b.Rank(keys, st.Link != "")
	ptrs := b.ptrs[:0]
	for i := range ranked {
		ptrs = append(ptrs, &ranked[i])
	}
	b.ptrs = ptrs
	return store.Confirm(st, ptrs)
}

// Seq is the sequence number of the newest filing (0: none yet); filings are numbered
// from 1 in the order they were filed.
func (b *Index) Seq() uint32 { return b.seq }

// Keys is how many story keys have a filing in the window.
func (b *Index) Keys() int { return b.heads.n }

// Latest returns the sequence number of the newest filing of the item with id, false
// when it has none in the window.
func (b *Index) Latest(id string) (uint32, bool) {
	seq, ok := b.latest[id]
	return seq, ok && b.live(seq)
}

// Lookup returns the IDs filed under story key k, newest first, at most
// store.BandDepth (through Between, a walk of its own: Rank's tests compare the two).
func (b *Index) Lookup(k []byte) []string {
	if lists := b.Between([][]byte{k}, 0, b.seq+1); lists != nil {
		return lists[0]
	}
	return nil
}

// Between returns, for each of keys, the IDs filed under it after filing since and
// before filing seq, newest first, at most store.BandDepth (nil for a key with none,
// and nil when no key has any). With since 0 that is what a lookup would have found
// just before seq was filed. It walks only those filings (and any after seq), so it is
// short when few came between. Filings that left the window are not found.
func (b *Index) Between(keys [][]byte, since, seq uint32) [][]string {
	defer runtime.KeepAlive(b)
	var lists [][]string
	for i, k := range keys {
		n := 0
		for l := b.head(keyOf(k)); b.live(l.seq) && l.seq > since && n < store.BandDepth; l = b.olderOf(l) {
			if l.seq < seq {
				if lists == nil {
					lists = make([][]string, len(keys))
				}
				lists[i] = append(lists[i], b.ids[l.seq%b.window])
				n++
			}
		}
	}
	return lists
}
