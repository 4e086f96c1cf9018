package bolt

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestStoryIndexSurvivesReopen checks that the in-memory story-key index is rebuilt
// when the file is reopened: a copy posted afterwards still finds the stored story.
func TestStoryIndexSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	gs := storetest.Story("gs", 1, 7)
	if _, err := s.Upsert(t.Context(), []news.Item{gs, storetest.Story("gs", 2, 8)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.bands.Load().seq != 2 {
		t.Errorf("index holds %d filings after reopen, want 2", s.bands.Load().seq)
	}
	if got, _ := storeCopy(t, s, gs, time.Hour); got.ClusterID != gs.ID {
		t.Errorf("copy's ClusterID = %q, want %q (the stored story)", got.ClusterID, gs.ID)
	}
}

// storeCopy stores member au's copy of stored story gs (storetest.Story(…, 7)),
// published later, and returns the copy and gs as the store then reads them.
func storeCopy(t *testing.T, s *Store, gs news.Item, later time.Duration) (cp, orig news.Item) {
	t.Helper()
	au := storetest.Story("au", 25, 7)
	au.Published = gs.Published.Add(later)
	if _, err := s.Upsert(t.Context(), []news.Item{au}); err != nil {
		t.Fatal(err)
	}
	var err error
	if cp, err = s.Item(t.Context(), au.ID); err != nil {
		t.Fatal(err)
	}
	if orig, err = s.Item(t.Context(), gs.ID); err != nil {
		t.Fatal(err)
	}
	return cp, orig
}

// TestReopenKeepsNewestInWindow reopens a file holding more stories than the index
// window: the newest are indexed, the oldest are not.
func TestReopenKeepsNewestInWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []news.Item
	for i := range 6 {
		it := storetest.StoryItem(i)
		it.FirstSeen = time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)
		items = append(items, it)
	}
	if _, err := s.Upsert(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.window = 3
	if err := s.loadBands(); err != nil {
		t.Fatal(err)
	}
	indexed := map[string]bool{}
	for _, it := range items {
		st := store.StoryOf(&it)
		for _, k := range st.Keys() {
			for _, id := range s.bands.Load().lookup(k) {
				indexed[id] = true
			}
		}
	}
	for i, it := range items {
		if want := i >= 3; indexed[it.ID] != want {
			t.Errorf("item %d (first seen %s) indexed: %v, want %v", i, it.FirstSeen.Format(time.DateOnly), indexed[it.ID], want)
		}
	}
}

func TestBandIndexWindow(t *testing.T) {
	b := newBandIndex(4)
	key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	for i := range 6 {
		keys := [][]byte{key(1)}
		if i%2 == 0 {
			keys = append(keys, key(2))
		}
		b.file(&store.Story{ID: fmt.Sprint("id", i)}, keys)
	}
	// Filings 3-6 (id2..id5) are in the window.
	if got := b.lookup(key(1)); !slices.Equal(got, []string{"id5", "id4", "id3", "id2"}) {
		t.Errorf("key 1: %v", got)
	}
	if got := b.lookup(key(2)); !slices.Equal(got, []string{"id4", "id2"}) {
		t.Errorf("key 2: %v", got)
	}
	if got := b.lookup(key(9)); got != nil {
		t.Errorf("unknown key: %v", got)
	}
	// Evicting a key's only filing forgets the key.
	b.file(&store.Story{ID: "x"}, [][]byte{key(3)})
	for range 4 {
		b.file(&store.Story{ID: "y"}, [][]byte{key(4)})
	}
	if b.heads.get(3).seq != 0 || b.lookup(key(3)) != nil {
		t.Error("an evicted key is still indexed")
	}
	// Depth is bounded.
	d := newBandIndex(64)
	for i := range 40 {
		d.file(&store.Story{ID: fmt.Sprint(i)}, [][]byte{key(1)})
	}
	if got := d.lookup(key(1)); len(got) != store.BandDepth || got[0] != "39" {
		t.Errorf("deep key: %d ids, first %q", len(got), got[0])
	}
}

// TestFailedUpsertForgetsFilings checks that a batch rolled back midway leaves no
// story keys behind: a later copy of its story must not cluster with it.
func TestFailedUpsertForgetsFilings(t *testing.T) {
	s := openTemp(t)
	bad := storetest.Story("gs", 2, 8)
	bad.ID = ""
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Story("gs", 1, 7), bad}); err == nil {
		t.Fatal("upsert of an item without id succeeded")
	}
	if s.bands.Load().seq != 0 || s.bands.Load().heads.n != 0 {
		t.Errorf("story-key index holds %d filings, %d keys after a rollback, want none", s.bands.Load().seq, s.bands.Load().heads.n)
	}
	au := storetest.Story("au", 25, 7)
	if _, err := s.Upsert(t.Context(), []news.Item{au}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Item(t.Context(), au.ID); err != nil || got.ClusterID != "" {
		t.Errorf("copy = %+v, %v; want it unclustered (its story was rolled back)", got.ClusterID, err)
	}
}

func TestReopenKeepsItems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Item("gs", 1), storetest.Item("gs", 2)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Upsert(t.Context(), []news.Item{storetest.Item("gs", 1), storetest.Item("gs", 2), storetest.Item("gs", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if r.New != 1 || r.Unchanged != 2 {
		t.Errorf("after reopen: %+v, want 1 new 2 unchanged", r)
	}
}

// Every stored item has its story recorded (what cluster decisions read instead of the
// item), and trimming an item removes its story.
func TestStoriesFollowItems(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	it := storetest.StoryItem(1)
	if _, err := s.Upsert(ctx, []news.Item{it}); err != nil {
		t.Fatal(err)
	}
	story := func() (store.Story, bool) {
		var st store.Story
		var found bool
		err := s.db.View(func(tx *bbolt.Tx) error {
			v := tx.Bucket(bStoryLog).Get(storyKey(it.FirstSeen.UnixMilli(), it.ID))
			if v == nil {
				return nil
			}
			found = true
			var err error
			st, err = store.ParseStory(v)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return st, found
	}
	if st, ok := story(); !ok || st.ID != it.ID || st.Sig != store.Signature(&it) {
		t.Fatalf("story = %+v (found %v)", st, ok)
	}
	if n, err := s.Trim(ctx, it.Source, 0, time.Nanosecond, it.Published.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("trim = %d, %v", n, err)
	}
	if _, ok := story(); ok {
		t.Error("a trimmed item's story is still stored")
	}
}

// The index's own ranking must order candidates exactly as store.RankCandidates does
// on the IDs filed under each key.
func TestBandIndexRankMatchesRankCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	b := newBandIndex(64)
	for i := range 200 {
		var keys [][]byte
		for range 1 + rng.IntN(6) {
			keys = append(keys, key(uint64(rng.IntN(12))))
		}
		b.file(&store.Story{ID: fmt.Sprint("id", i)}, keys)
	}
	for trial := range 300 {
		var keys [][]byte
		for range 1 + rng.IntN(8) {
			keys = append(keys, key(uint64(rng.IntN(14))))
		}
		hasLink := trial%3 == 0
		perKey := make([][]string, len(keys))
		for i, k := range keys {
			perKey[i] = b.lookup(k)
		}
		st := &store.Story{ID: "new"}
		if hasLink {
			st.Link = "https://example.org/x"
		}
		want := store.RankCandidates(st, perKey)
		var got []string
		for _, c := range b.rank(keys, hasLink) {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: rank = %v, RankCandidates = %v", trial, got, want)
		}
	}
}

// A candidate filed in the story-key index but trimmed before a copy of its story
// arrives must not be joined.
func TestTrimmedCandidateIsNotJoined(t *testing.T) {
	s := openTemp(t)
	a := storetest.StoryItem(7)
	if _, err := s.Upsert(t.Context(), []news.Item{a}); err != nil {
		t.Fatal(err)
	}
	decide := func(it news.Item) decision {
		t.Helper()
		var d decision
		err := s.db.View(func(tx *bbolt.Tx) error {
			var err error
			d, err = s.decideCluster(tx, &newItem{story: store.StoryOf(&it)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide(copyOf(7, 1)); d.with != a.ID {
		t.Fatalf("a copy decided %+v, want to join %s", d, a.ID)
	}
	if n, err := s.Trim(t.Context(), a.Source, 0, time.Nanosecond, a.Published.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("trim = %d, %v", n, err)
	}
	if d := decide(copyOf(7, 2)); d.cid != "" {
		t.Fatalf("joined %+v through a trimmed candidate", d)
	}
}

// openTemp opens a store in a temporary directory, closed when the test ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// An item whose story changed is found under its new keys, and under its old ones
// with its new story.
func TestBandIndexRestory(t *testing.T) {
	b := newBandIndex(8)
	none := identity.Sign("en", "", "") // no words: link keys only
	old := store.Story{ID: "a", Link: "https://example.org/old", Time: 1, Sig: none}
	b.file(&old, old.Keys())
	other := store.Story{ID: "b", Link: "https://example.org/b", Sig: none}
	b.file(&other, other.Keys())
	moved := old
	moved.Link, moved.Time = "https://example.org/new", 2
	b.restory(&moved)
	if got := b.lookup(moved.Keys()[0]); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("under the new link key: %v", got)
	}
	got := b.rank(old.Keys(), true)
	if len(got) != 1 || got[0].Link != moved.Link || got[0].Time != 2 {
		t.Fatalf("under the old link key: %+v, want the item's new story", got)
	}
	// Same keys: the story is replaced in place, nothing is filed again.
	seq := b.seq
	redated := moved
	redated.Time = 3
	b.restory(&redated)
	if b.seq != seq {
		t.Error("a redate with the same keys filed the item again")
	}
	if got := b.rank(moved.Keys(), true); len(got) != 1 || got[0].Time != 3 {
		t.Fatalf("after a redate: %+v", got)
	}
}

// lookup returns the IDs filed under story key k, newest first, at most store.BandDepth.
func (b *bandIndex) lookup(k []byte) []string {
	var chain [maxKeys][store.BandDepth]uint32
	var n [maxKeys]uint8
	b.chains([][]byte{k}, &chain, &n)
	var out []string
	for _, seq := range chain[0][:n[0]] {
		out = append(out, b.stories[seq%b.window].ID)
	}
	return out
}
