package storyindex

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/store"
)

// key is story key n.
func key(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// fileAlternating files items id0..id<n-1> under key 1, and every other one (those
// with i%2 == odd) under key 2 too.
func fileAlternating(b *Index, n, odd int) {
	for i := range n {
		keys := [][]byte{key(1)}
		if i%2 == odd {
			keys = append(keys, key(2))
		}
		b.File(&store.Story{ID: fmt.Sprint("id", i)}, keys)
	}
}

func TestWindow(t *testing.T) {
	b := New(4)
	fileAlternating(b, 6, 0)
	// Filings 3-6 (id2..id5) are in the window.
	if got := b.Lookup(key(1)); !slices.Equal(got, []string{"id5", "id4", "id3", "id2"}) {
		t.Errorf("key 1: %v", got)
	}
	if got := b.Lookup(key(2)); !slices.Equal(got, []string{"id4", "id2"}) {
		t.Errorf("key 2: %v", got)
	}
	if got := b.Lookup(key(9)); got != nil {
		t.Errorf("unknown key: %v", got)
	}
	// Evicting a key's only filing forgets the key.
	b.File(&store.Story{ID: "x"}, [][]byte{key(3)})
	for range 4 {
		b.File(&store.Story{ID: "y"}, [][]byte{key(4)})
	}
	if b.heads.get(3) != 0 || b.Lookup(key(3)) != nil {
		t.Error("an evicted key is still indexed")
	}
	// Depth is bounded.
	d := New(64)
	for i := range 40 {
		d.File(&store.Story{ID: fmt.Sprint(i)}, [][]byte{key(1)})
	}
	if got := d.Lookup(key(1)); len(got) != store.BandDepth || got[0] != "39" {
		t.Errorf("deep key: %d ids, first %q", len(got), got[0])
	}
}

// Links are kept modulo 2^seqBits: lookups are the same on either side of it.
func TestSequenceNumbersPastTheLinksModulus(t *testing.T) {
	for _, start := range []uint32{1<<seqBits - 3, 3<<seqBits - 1} {
		b := New(4)
		b.seq = start // as if that many filings had come and gone
		fileAlternating(b, 6, 0)
		if got := b.Lookup(key(1)); !slices.Equal(got, []string{"id5", "id4", "id3", "id2"}) {
			t.Errorf("from %d, key 1: %v", start, got)
		}
		if got := b.Lookup(key(2)); !slices.Equal(got, []string{"id4", "id2"}) {
			t.Errorf("from %d, key 2: %v", start, got)
		}
		got := b.Rank([][]byte{key(2), key(1)}, false)
		if len(got) != 4 || got[0].ID != "id4" || got[1].ID != "id2" {
			t.Errorf("from %d, Rank = %v", start, got)
		}
	}
}

// The index's own ranking must order candidates exactly as store.RankCandidates does
// on the IDs filed under each key.
func TestRankMatchesRankCandidates(t *testing.T) {
	for name, mk := range map[string]func(int) *Index{"stories": New, "IDs": NewIDs} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			b := mk(64)
			for i := range 200 {
				var keys [][]byte
				for range 1 + rng.IntN(6) {
					keys = append(keys, key(uint64(rng.IntN(12))))
				}
				b.File(&store.Story{ID: fmt.Sprint("id", i), Member: "m"}, keys)
			}
			for trial := range 300 {
				var keys [][]byte
				for range 1 + rng.IntN(8) {
					keys = append(keys, key(uint64(rng.IntN(14))))
				}
				hasLink := trial%3 == 0
				perKey := make([][]string, len(keys))
				for i, k := range keys {
					perKey[i] = b.Lookup(k)
				}
				st := &store.Story{ID: "new"}
				if hasLink {
					st.Link = "https://example.org/x"
				}
				want := store.RankCandidates(st, perKey)
				var got []string
				for _, c := range b.Rank(keys, hasLink) {
					got = append(got, c.ID)
					if wantM := map[bool]string{true: "m", false: ""}[name == "stories"]; c.Member != wantM {
						t.Fatalf("trial %d: candidate %s has member %q, want %q", trial, c.ID, c.Member, wantM)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("trial %d: rank = %v, RankCandidates = %v", trial, got, want)
				}
			}
		})
	}
}

// An item whose story changed is found under its new keys, and under its old ones
// with its new story.
func TestRestory(t *testing.T) {
	b := New(8)
	none := identity.Sign("en", "", "") // no words: link keys only
	old := store.Story{ID: "a", Link: "https://example.org/old", Time: 1, Sig: none}
	b.File(&old, old.Keys())
	other := store.Story{ID: "b", Link: "https://example.org/b", Sig: none}
	b.File(&other, other.Keys())
	moved := old
	moved.Link, moved.Time = "https://example.org/new", 2
	b.Restory(&moved)
	if got := b.Lookup(moved.Keys()[0]); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("under the new link key: %v", got)
	}
	got := b.Rank(old.Keys(), true)
	if len(got) != 1 || got[0].Link != moved.Link || got[0].Time != 2 {
		t.Fatalf("under the old link key: %+v, want the item's new story", got)
	}
	// Same keys: the story is replaced in place, nothing is filed again.
	seq := b.seq
	redated := moved
	redated.Time = 3
	b.Restory(&redated)
	if b.seq != seq {
		t.Error("a redate with the same keys filed the item again")
	}
	if got := b.Rank(moved.Keys(), true); len(got) != 1 || got[0].Time != 3 {
		t.Fatalf("after a redate: %+v", got)
	}
}

// BenchmarkRankCrowded ranks the candidates of a new item in a full story-key index
// whose every key holds store.BandDepth filings or more (the fleet's shared vocabulary,
// the worst case): the index walk a cluster decision makes in the embedded store.
func BenchmarkRankCrowded(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	idx := New(Window)
	keysOf := func() [][]byte {
		keys := make([][]byte, maxKeys)
		for j := range keys {
			keys[j] = binary.BigEndian.AppendUint64(nil, uint64(j)<<32|uint64(rng.IntN(200)))
		}
		return keys
	}
	for i := range 2 * Window {
		idx.File(&store.Story{ID: fmt.Sprint("id", i)}, keysOf())
	}
	probes := make([][][]byte, 1024)
	for i := range probes {
		probes[i] = keysOf()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if len(idx.Rank(probes[i%len(probes)], true)) == 0 {
			b.Fatal("no candidates")
		}
	}
}

// Between finds a key's filings as a lookup made just before a given filing would
// have (since 0), and those filed after an earlier one.
func TestBetween(t *testing.T) {
	b := New(64)
	fileAlternating(b, 10, 1) // id i is filing i+1
	keys := [][]byte{key(1), key(2), key(3)}
	lists := b.Between(keys, 0, 8)
	if want := []string{"id6", "id5", "id4", "id3", "id2", "id1", "id0"}; !slices.Equal(lists[0], want) {
		t.Errorf("key 1 before filing 8: %v, want %v", lists[0], want)
	}
	if want := []string{"id5", "id3", "id1"}; !slices.Equal(lists[1], want) {
		t.Errorf("key 2 before filing 8: %v, want %v", lists[1], want)
	}
	if lists[2] != nil {
		t.Errorf("unknown key: %v", lists[2])
	}
	between := b.Between(keys, 4, 8) // filings 5, 6, 7: id4, id5, id6
	if want := [][]string{{"id6", "id5", "id4"}, {"id5"}, nil}; !slices.EqualFunc(between, want, slices.Equal) {
		t.Errorf("between filings 4 and 8: %v, want %v", between, want)
	}
	if got := b.Between(keys, 7, 8); got != nil {
		t.Errorf("between filings 7 and 8: %v, want none", got)
	}
	if seq, ok := b.Latest("id7"); !ok || seq != 8 {
		t.Errorf("Latest(id7) = %d, %v; want 8", seq, ok)
	}
	// The lists stop at store.BandDepth.
	for i := range 40 {
		b.File(&store.Story{ID: fmt.Sprint("x", i)}, [][]byte{key(1)})
	}
	if lists := b.Between([][]byte{key(1)}, 0, b.Seq()+1); len(lists[0]) != store.BandDepth || lists[0][0] != "x39" {
		t.Errorf("deep key: %v", lists[0])
	}
	if got := b.Between([][]byte{key(1)}, 0, b.Seq()+1); len(got[0]) != store.BandDepth {
		t.Errorf("deep key between: %v", got[0])
	}
}
