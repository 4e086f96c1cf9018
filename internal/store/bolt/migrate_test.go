package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// toOldLayout rewrites a file into the layout of the previous version: stories by ID in
// their own bucket, cluster IDs and hidden marks in buckets of their own, ClusterID and
// AlsoBy in the items' JSON.
func toOldLayout(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		stories, _ := tx.CreateBucket([]byte("stories"))
		incluster, _ := tx.CreateBucket([]byte("incluster"))
		hidden, _ := tx.CreateBucket([]byte("hidden"))
		if err := tx.Bucket(bStoryLog).ForEach(func(k, v []byte) error {
			return stories.Put(bytes.Clone(k[8:]), bytes.Clone(v))
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bStoryLog); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bStoryLog); err != nil {
			return err
		}
		items := tx.Bucket(bItems)
		// Clustered items carried their cluster and AlsoBy in their JSON.
		var clustered [][]byte
		if err := items.ForEach(func(k, v []byte) error {
			if bytes.HasSuffix(k, []byte{0, 'c'}) {
				clustered = append(clustered, bytes.Clone(k[:len(k)-2]))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, id := range clustered {
			it, found, err := getItem(tx, id)
			if err != nil || !found {
				return fmt.Errorf("clustered item %s: found %v, %v", id, found, err)
			}
			v, err := json.Marshal(&it)
			if err != nil {
				return err
			}
			if err := items.Put(id, v); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bMeta).Delete([]byte("layout")); err != nil {
			return err
		}
		if err := inlineBodies(tx); err != nil {
			return err
		}
		if err := addWholeTimeline(tx); err != nil {
			return err
		}
		var moved [][]byte
		if err := items.ForEach(func(k, v []byte) error {
			switch {
			case bytes.HasSuffix(k, []byte{0, 'c'}):
				moved = append(moved, bytes.Clone(k))
				return incluster.Put(bytes.Clone(k[:len(k)-2]), bytes.Clone(v))
			case bytes.HasSuffix(k, []byte{0, 'h'}):
				moved = append(moved, bytes.Clone(k))
				return hidden.Put(bytes.Clone(k[:len(k)-2]), nil)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range moved {
			if err := items.Delete(k); err != nil {
				return err
			}
		}
		if len(moved) == 0 {
			t.Error("no cluster records to move: the test stores no cluster")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clusterFixture opens a store at path holding gs's story, be's copy of it an hour
// later (hidden in clustered timelines) and another story of gs.
func clusterFixture(t *testing.T, path string) (s *Store, gs, be news.Item) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	gs, be = storyAndCopy()
	if _, err := s.Upsert(t.Context(), []news.Item{gs, be, storetest.Story("gs", 3, 8)}); err != nil {
		t.Fatal(err)
	}
	return s, gs, be
}

// A file written before items kept their records beside them opens with its clusters,
// hidden copies and stories as they were, and new copies still find the stored story.
func TestOpenMigratesOldLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, gs, be := clusterFixture(t, path)
	ctx := t.Context()
	var err error
	clustered := func(s *Store) []string {
		items, err := s.Items(ctx, news.Query{Clustered: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		slices.Sort(ids)
		return ids
	}
	before := clustered(s)
	if len(before) != 2 {
		t.Fatalf("clustered timeline holds %v, want 2 items (one copy hidden)", before)
	}
	s.Close()

	toOldLayout(t, path)
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = 2 // several transactions, one ending inside a bucket, one at its end
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := clustered(s); !slices.Equal(got, before) {
		t.Errorf("after migration the clustered timeline holds %v, want %v", got, before)
	}
	if shown, err := s.Item(ctx, gs.ID); err != nil || shown.ClusterID != gs.ID || !slices.Equal(shown.AlsoBy, []string{"be"}) {
		t.Errorf("after migration the shown item has cluster %q, AlsoBy %v (%v), want %q, [be]", shown.ClusterID, shown.AlsoBy, err, gs.ID)
	}
	if hidden, err := s.Item(ctx, be.ID); err != nil || hidden.ClusterID != gs.ID || hidden.AlsoBy != nil {
		t.Errorf("after migration the hidden copy has cluster %q, AlsoBy %v (%v), want %q, none", hidden.ClusterID, hidden.AlsoBy, err, gs.ID)
	}
	if n := s.bands.Load().Seq(); n != 3 {
		t.Errorf("story index holds %d filings after migration, want 3", n)
	}
	got, shown := storeCopy(t, s, gs, 2*time.Hour)
	if got.ClusterID != gs.ID {
		t.Errorf("new copy's ClusterID = %q, want %q", got.ClusterID, gs.ID)
	}
	if !slices.Equal(shown.AlsoBy, []string{"au", "be"}) && !slices.Equal(shown.AlsoBy, []string{"be", "au"}) {
		t.Errorf("shown item's AlsoBy = %v, want be and au", shown.AlsoBy)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, name := range []string{"stories", "incluster", "hidden"} {
			if tx.Bucket([]byte(name)) != nil {
				t.Errorf("bucket %s still there after migration", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Trimming the shown item moves its cluster's records along: nothing stays behind.
	if _, err := s.Trim(ctx, gs.Source, 0, time.Nanosecond, gs.Published.Add(time.Hour/2)); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, k := range [][]byte{clusterKey([]byte(gs.ID)), hiddenKey([]byte(gs.ID))} {
			if tx.Bucket(bItems).Get(k) != nil {
				t.Errorf("record %q of a trimmed item is still stored", k)
			}
		}
		if tx.Bucket(bStoryLog).Get(storyKey(gs.FirstSeen.UnixMilli(), gs.ID)) != nil {
			t.Error("trimmed item's story is still stored")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A migration cut off after its first transaction resumes when the file is opened
// again, and ends with the same clusters.
func TestInterruptedMigrationResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, gs, _ := clusterFixture(t, path)
	ctx := t.Context()
	s.Close()
	toOldLayout(t, path)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := moveRecords(tx, 2); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shown, err := s.Item(ctx, gs.ID)
	if err != nil || shown.ClusterID != gs.ID || !slices.Equal(shown.AlsoBy, []string{"be"}) {
		t.Errorf("shown item after a resumed migration: cluster %q, AlsoBy %v (%v)", shown.ClusterID, shown.AlsoBy, err)
	}
	items, err := s.Items(ctx, news.Query{Clustered: true, Limit: 10})
	if err != nil || len(items) != 2 {
		t.Errorf("clustered timeline after a resumed migration: %d items (%v), want 2", len(items), err)
	}
	if n := s.bands.Load().Seq(); n != 3 {
		t.Errorf("story index holds %d filings, want 3", n)
	}
}

// inlineBodies puts items' JSON back beside their IDs, as files before layout 4 kept
// it, and empties the bodies bucket.
func inlineBodies(tx *bbolt.Tx) error {
	items := tx.Bucket(bItems)
	var recs [][2][]byte
	if err := items.ForEach(func(k, v []byte) error {
		if !isRecordKey(k) && len(v) == bodyRefLen {
			recs = append(recs, [2][]byte{bytes.Clone(k), bytes.Clone(bodyOf(tx, v))})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, r := range recs {
		if err := items.Put(r[0], r[1]); err != nil {
			return err
		}
	}
	if err := tx.DeleteBucket(bBodies); err != nil {
		return err
	}
	_, err := tx.CreateBucket(bBodies)
	return err
}

// A file of layout 3, with items' JSON beside their IDs, opens with every item as it
// was and its JSON in the bodies bucket; items stored after that are numbered after
// the moved ones, and trimming deletes their bodies.
func TestOpenMovesBodies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, gs, be := clusterFixture(t, path)
	ctx := t.Context()
	all := func(s *Store) string {
		items, err := s.Items(ctx, news.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(items)
	}
	before := all(s)
	s.Close()

	s = rewriteAndOpen(t, path, 2, func(tx *bbolt.Tx) error { // several transactions
		if err := inlineBodies(tx); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put([]byte("layout"), binary.BigEndian.AppendUint64(nil, 3))
	})
	if got := all(s); got != before {
		t.Errorf("items after migration:\n%s\nwant\n%s", got, before)
	}
	if shown, err := s.Item(ctx, gs.ID); err != nil || shown.ClusterID != gs.ID || !slices.Equal(shown.AlsoBy, []string{"be"}) {
		t.Errorf("after migration the shown item has cluster %q, AlsoBy %v (%v), want %q, [be]", shown.ClusterID, shown.AlsoBy, err, gs.ID)
	}
	fresh := storetest.Item("fr", 1)
	if _, err := s.Upsert(ctx, []news.Item{fresh}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Trim(ctx, be.Source, 0, time.Nanosecond, be.Published.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bMeta).Get([]byte("layout")); binary.BigEndian.Uint64(v) != layout {
			t.Errorf("layout after migration = %x, want %d", v, layout)
		}
		refs := map[string]string{}
		tx.Bucket(bItems).ForEach(func(k, v []byte) error {
			if !isRecordKey(k) {
				refs[string(k)] = fmt.Sprintf("%x", v)
				if len(v) != bodyRefLen {
					t.Errorf("item %s still has %d bytes beside its ID", k, len(v))
				}
			}
			return nil
		})
		if len(refs) != 3 {
			t.Errorf("%d items after a new one and a trim, want 3: %v", len(refs), refs)
		}
		if want := fmt.Sprintf("%016x", 4); refs[fresh.ID] != want {
			t.Errorf("item stored after the migration has body %s, want %s (after the 3 moved)", refs[fresh.ID], want)
		}
		if n := tx.Bucket(bBodies).Stats().KeyN; n != 3 {
			t.Errorf("%d bodies for 3 items: the trimmed item's body stayed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rewriteAndOpen changes the closed file at path with change (into an earlier layout),
// then opens it, migrating chunk records per transaction; the store is closed when the
// test ends.
func rewriteAndOpen(t *testing.T, path string, chunk int, change func(tx *bbolt.Tx) error) *Store {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(change)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = chunk
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addWholeTimeline gives a file the "all" timeline of layouts before 3, where items of
// no known language were in no language's timeline.
func addWholeTimeline(tx *bbolt.Tx) error {
	items, idx := tx.Bucket(bItems), tx.Bucket(bIndex)
	var all []news.Item
	if err := items.ForEach(func(k, v []byte) error {
		if bytes.IndexByte(k, 0) >= 0 {
			return nil // an item's record, not an item
		}
		it, found, err := getItem(tx, bytes.Clone(k))
		if err != nil || !found {
			return fmt.Errorf("item %s: found %v, %v", k, found, err)
		}
		all = append(all, it)
		return nil
	}); err != nil {
		return err
	}
	for _, it := range all {
		if err := idx.Put(indexKey("all", it.SortTime(), it.ID), nil); err != nil {
			return err
		}
		if it.Language == "" {
			if err := idx.Delete(indexKey("l:", it.SortTime(), it.ID)); err != nil {
				return err
			}
		}
	}
	return tx.Bucket(bMeta).Put([]byte("layout"), binary.BigEndian.AppendUint64(nil, 2))
}

// A file of layout 2 loses its "all" timeline when opened, and lists the whole network
// as before, merged from the language timelines: items of no known language too, in
// order, page after page.
func TestOpenDropsWholeTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var batch []news.Item
	for n := range 12 {
		batch = append(batch, storetest.Item([]string{"gs", "fr", "be"}[n%3], n)) // en, fr, none
	}
	if _, err := s.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	ids := func(items []news.Item) (out []string) {
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	pages := func(s *Store) (out [][]string) {
		var before news.Cursor
		for {
			items, err := s.Items(ctx, news.Query{Limit: 5, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) == 0 {
				return out
			}
			out = append(out, ids(items))
			last := items[len(items)-1]
			before = news.Cursor{Time: last.SortTime(), ID: last.ID}
		}
	}
	want := pages(s)
	if len(want) != 3 || want[0][0] != "be-011" || want[2][1] != "gs-000" {
		t.Fatalf("whole timeline before = %v, want 12 items newest first", want)
	}
	s.Close()

	s = rewriteAndOpen(t, path, 5, addWholeTimeline) // several transactions
	if got := pages(s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("whole timeline after migration = %v, want %v", got, want)
	}
	if got, err := s.Items(ctx, news.Query{Language: "fr", Limit: 10}); err != nil || len(got) != 4 {
		t.Errorf("French timeline after migration: %v (%v), want 4 items", ids(got), err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bIndex).Cursor().Seek([]byte("all\x00")); bytes.HasPrefix(k, []byte("all\x00")) {
			t.Errorf("timeline entry %q left after migration", k)
		}
		if v := tx.Bucket(bMeta).Get([]byte("layout")); binary.BigEndian.Uint64(v) != layout {
			t.Errorf("layout after migration = %x, want %d", v, layout)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
