package store

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
)

// Clusters across members. Every backend decides, in the same atomic step as it inserts
// a new item, whether the item tells a story already stored for another member:
//
//  1. Story.Keys gives the item's index keys: its canonical link (any language) and its
//     identity.NumBands MinHash band keys (language included). Each key holds the IDs of
//     the newest BandDepth items filed under it, so finding candidates costs at most
//     1+NumBands index reads and BandDepth item reads per key, whatever the store holds.
//  2. Confirm keeps the candidates of other members, published within ClusterWindow of
//     the item, that identity.SameStory accepts, best first.
//  3. The item joins the cluster of the first candidate whose cluster has no item of the
//     item's member yet. A cluster is named by the ID of its first stored item.
//
// Within a cluster, Shown picks the item clustered timelines show (the earliest
// publisher); it carries ClusterID and AlsoBy (the other members). The others carry
// ClusterID only and are hidden from news.Query.Clustered reads; members' own timelines
// still show them. Inserting an earlier copy, changing an item's date or trimming the
// shown item moves "shown" to whichever item is then earliest.

// ClusterWindow is how far apart two items' SortTimes may be for them to be one story.
const ClusterWindow = 30 * 24 * time.Hour

// BandDepth is how many item IDs, newest first, one story index key keeps.
const BandDepth = 16

// Signature is the MinHash signature the store files an item under: its language,
// title and plain-text summary.
func Signature(it *news.Item) identity.Signature {
	return identity.Sign(it.Language, it.Title, it.Summary)
}

func canonicalLink(it *news.Item) string {
	if it.Canonical != "" {
		return it.Canonical
	}
	return identity.Canonical(it.Link)
}

// Confirm returns the cluster entries of the stored stories that tell the same story
// as it, best first: stories of other members, within ClusterWindow, with the same
// canonical link or at least identity.Threshold similar in the same language
// (identity.SameStory); those with the same canonical link before the others, then by
// similarity, then the earliest. It keeps no pointer to stored.
func Confirm(it *Story, stored []*Story) []ClusterEntry {
	ok := confirm(it, stored)
	out := make([]ClusterEntry, len(ok))
	for i, s := range ok {
		out[i] = s.Entry()
	}
	return out
}

func confirm(it *Story, stored []*Story) []*Story {
	type scored struct {
		st   *Story
		link bool
		sim  float64
	}
	ok := make([]scored, 0, len(stored))
	for _, s := range stored {
		if s.Member == it.Member || s.ID == it.ID {
			continue
		}
		if d := it.Time - s.Time; d > ClusterWindow.Milliseconds() || d < -ClusterWindow.Milliseconds() {
			continue
		}
		if !sameStory(it, s) {
			continue
		}
		ok = append(ok, scored{s, it.Link != "" && s.Link == it.Link, it.Sig.Similarity(s.Sig)})
	}
	slices.SortStableFunc(ok, func(a, b scored) int {
		if a.link != b.link {
			if a.link {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.sim, a.sim); c != 0 {
			return c
		}
		return Earlier(a.st.Entry(), b.st.Entry())
	})
	out := make([]*Story, len(ok))
	for i, s := range ok {
		out[i] = s.st
	}
	return out
}

// ClusterEntry is one item of a cluster as the store records it: what choosing the
// shown item and AlsoBy needs. Times are Unix milliseconds, the precision every
// backend orders by.
type ClusterEntry struct {
	ID        string `json:"id"`
	Member    string `json:"m"`
	Time      int64  `json:"t"` // SortTime
	FirstSeen int64  `json:"f"`
}

// EntryOf is it's cluster entry.
func EntryOf(it *news.Item) ClusterEntry { return entryOf(it) }

func entryOf(it *news.Item) ClusterEntry {
	return ClusterEntry{ID: it.ID, Member: it.Member, Time: it.SortTime().UnixMilli(), FirstSeen: it.FirstSeen.UnixMilli()}
}

// Earlier orders entries by publication: earliest SortTime, then earliest FirstSeen,
// then smallest ID.
func Earlier(a, b ClusterEntry) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.FirstSeen, b.FirstSeen); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Shown returns the index of the entry clustered timelines show: the earliest
// publisher (see Earlier). es must not be empty.
func Shown(es []ClusterEntry) int {
	best := 0
	for i := range es {
		if Earlier(es[i], es[best]) < 0 {
			best = i
		}
	}
	return best
}

// AlsoBy lists the members of the entries other than the one at shown, sorted, without
// repeats and without the shown entry's member; nil when there are none.
func AlsoBy(es []ClusterEntry, shown int) []string {
	var out []string
	for i, e := range es {
		if i != shown && e.Member != es[shown].Member && !slices.Contains(out, e.Member) {
			out = append(out, e.Member)
		}
	}
	slices.Sort(out)
	return out
}

// HasMember reports whether an entry of es belongs to member.
func HasMember(es []ClusterEntry, member string) bool {
	return slices.ContainsFunc(es, func(e ClusterEntry) bool { return e.Member == member })
}

// PushID returns the packed ID list (IDs joined by "\n", newest first) with id put in
// front and at most BandDepth IDs kept.
func PushID(packed []byte, id string) []byte {
	out := make([]byte, 0, len(id)+1+len(packed))
	out = append(out, id...)
	n := 1
	for rest := packed; len(rest) > 0 && n < BandDepth; n++ {
		x, tail, _ := bytes.Cut(rest, []byte{'\n'})
		out = append(out, '\n')
		out = append(out, x...)
		rest = tail
	}
	return out
}

// UnpackIDs splits a packed ID list.
func UnpackIDs(packed []byte) []string {
	if len(packed) == 0 {
		return nil
	}
	return strings.Split(string(packed), "\n")
}

// MaxClusterSize is how many items (one per member) a cluster holds at most: a new copy
// of a story already in a full cluster stands alone. It bounds what one cluster decision
// reads and writes; a network's story is rarely re-posted by more members than this.
const MaxClusterSize = 32

// MaxCandidates is how many stored items one cluster decision reads and compares at most.
const MaxCandidates = 8

// RankCandidates orders the IDs found under a story's keys (perKey[i] holds the IDs
// under it.Keys()[i]) and keeps the MaxCandidates most promising: IDs under the
// canonical-link key first, then those sharing the most MinHash bands with the item (a
// copy of the same story shares many bands; texts that merely share vocabulary, one or
// two), ties in the order found (newest first). This bounds the item reads and
// comparisons of a decision, however crowded the bands are.
func RankCandidates(it *Story, perKey [][]string) []string {
	type hit struct {
		id    string
		link  bool
		bands int32
	}
	hasLink := it.Link != ""
	n := 0
	for _, ids := range perKey {
		n += len(ids)
	}
	// The IDs seen, in an open-addressing table of positions in hits (plus one; 0 is
	// empty) at most two-thirds full: one hash of each ID and, mostly, one probe, where
	// a map of strings cost twice as much and allocated its buckets. 33 full keys fit
	// the table on the stack.
	var small [1024]int32
	table := small[:]
	if n+n/2 > len(table) {
		table = make([]int32, 1<<bits.Len(uint(n+n/2)))
	}
	mask := uint64(len(table) - 1)
	hits := make([]hit, 0, n)
	for k, ids := range perKey {
		for _, id := range ids {
			if id == it.ID {
				continue
			}
			i := maphash.String(rankSeed, id) & mask
			for table[i] != 0 && hits[table[i]-1].id != id {
				i = (i + 1) & mask
			}
			if table[i] == 0 {
				hits = append(hits, hit{id: id})
				table[i] = int32(len(hits))
			}
			h := &hits[table[i]-1]
			if k == 0 && hasLink {
				h.link = true
			} else {
				h.bands++
			}
		}
	}
	var top [MaxCandidates]hit
	best := Best(top[:0], hits, func(a, b *hit) bool {
		if a.link != b.link {
			return a.link
		}
		return a.bands > b.bands
	})
	out := make([]string, 0, len(best))
	for _, h := range best {
		out = append(out, h.id)
	}
	return out
}

// rankSeed seeds RankCandidates' hashes.
var rankSeed = maphash.MakeSeed()

// Best keeps in top (its length set to 0, its capacity the number kept) the best of
// xs by better, ties in the order of xs, and returns it: a selection of the few best,
// where sorting every x would cost more (crowded story keys give hundreds of
// candidates). Ranking candidates uses it in every backend.
func Best[T any](top, xs []T, better func(a, b *T) bool) []T {
	top, n := top[:0], cap(top)
	for i := range xs {
		x := &xs[i]
		if len(top) == n && (n == 0 || !better(x, &top[n-1])) {
			continue
		}
		if len(top) < n {
			top = append(top, *x)
		}
		j := len(top) - 1
		for ; j > 0 && better(x, &top[j-1]); j-- {
			top[j] = top[j-1]
		}
		top[j] = *x
	}
	return top
}
