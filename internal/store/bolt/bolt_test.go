package bolt

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

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
	if s.bands.Load().Seq() != 2 {
		t.Errorf("index holds %d filings after reopen, want 2", s.bands.Load().Seq())
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
			for _, id := range s.bands.Load().Lookup(k) {
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

// TestFailedUpsertForgetsFilings checks that a batch rolled back midway leaves no
// story keys behind: a later copy of its story must not cluster with it.
func TestFailedUpsertForgetsFilings(t *testing.T) {
	s := openTemp(t)
	bad := storetest.Story("gs", 2, 8)
	bad.ID = ""
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Story("gs", 1, 7), bad}); err == nil {
		t.Fatal("upsert of an item without id succeeded")
	}
	if s.bands.Load().Seq() != 0 || s.bands.Load().Keys() != 0 {
		t.Errorf("story-key index holds %d filings, %d keys after a rollback, want none", s.bands.Load().Seq(), s.bands.Load().Keys())
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

// A source state written before histories were kept apart reads as it did; written
// again, its history moves to the history bucket.
func TestSourceWithInlineHistory(t *testing.T) {
	s := openTemp(t)
	url := storetest.InlineHistory(t, s, func(url string, v []byte) error {
		return s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bSources).Put([]byte(url), v) })
	})
	err := s.db.View(func(tx *bbolt.Tx) error {
		var inline news.SourceState
		if err := json.Unmarshal(tx.Bucket(bSources).Get([]byte(url)), &inline); err != nil {
			return err
		}
		if len(inline.History) != 1 || tx.Bucket(bHistory).Get([]byte(url)) == nil {
			t.Errorf("written again: %d polls inline, history apart: %v", len(inline.History), tx.Bucket(bHistory).Get([]byte(url)) != nil)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The file keeps its list of free pages: opening a file without one walks every page to
// rebuild it, which maps the whole file into the process. Read from the meta page of the
// newest transaction (bbolt's layout: a 16-byte page header, then the meta, whose
// free-list page number is at byte 32 of it and transaction ID at byte 48).
func TestFileKeepsItsFreelist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Story("gs", 1, 7), storetest.Story("be", 2, 8)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize, header = 4096, 16
	if len(b) < 2*pageSize {
		t.Fatalf("file of %d bytes", len(b))
	}
	var freelist, txid uint64
	for p := range 2 { // the two meta pages; the one of the newer transaction counts
		m := b[p*pageSize+header:]
		if id := binary.LittleEndian.Uint64(m[48:]); p == 0 || id > txid {
			freelist, txid = binary.LittleEndian.Uint64(m[32:]), id
		}
	}
	if freelist == math.MaxUint64 {
		t.Errorf("the file's newest meta page (transaction %d) records no free-page list", txid)
	}
}

// TestOpenInUseSaysSo: a file another process (here another Store) holds is an error
// saying so after the lock's timeout; it said only "timeout", and `poll` beside a running
// `serve` left the operator guessing.
func TestOpenInUseSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s2, err := Open(path)
	if err == nil {
		s2.Close()
		t.Fatal("opened a file in use")
	}
	if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("error %q does not say the file is in use", err)
	}
}
