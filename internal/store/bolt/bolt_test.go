package bolt

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	// foldAt 1 and 2 fold the band log into the band index at (nearly) every Upsert,
	// so clusters are decided from the index, the log, and both.
	for _, foldAt := range []int{defaultFoldAt, 1, 2} {
		t.Run(fmt.Sprintf("fold-at-%d", foldAt), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
				if err != nil {
					t.Fatal(err)
				}
				s.foldAt = foldAt
				return s
			})
		})
	}
}

// TestBandLogSurvivesReopen checks that story keys filed in the band log, not yet
// folded, still find their items after the file is reopened, and after a fold.
func TestBandLogSurvivesReopen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		foldAt int
	}{
		{"unfolded", defaultFoldAt},
		{"folded", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nf.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			s.foldAt = tc.foldAt
			gs := storetest.Story("gs", 1, 7)
			if _, err := s.Upsert(t.Context(), []news.Item{gs, storetest.Story("gs", 2, 8)}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if s, err = Open(path); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, want := s.bands.items > 0, tc.foldAt > 2; got != want {
				t.Errorf("band log holds %d items after reopen, want some: %v", s.bands.items, want)
			}
			au := storetest.Story("au", 25, 7)
			au.Published = gs.Published.Add(time.Hour)
			if _, err := s.Upsert(t.Context(), []news.Item{au}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Item(t.Context(), au.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ClusterID != gs.ID {
				t.Errorf("copy's ClusterID = %q, want %q (the stored story)", got.ClusterID, gs.ID)
			}
		})
	}
}

// TestFailedUpsertForgetsFilings checks that a batch rolled back midway leaves no
// story keys behind: a later copy of its story must not cluster with it.
func TestFailedUpsertForgetsFilings(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := storetest.Story("gs", 2, 8)
	bad.ID = ""
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Story("gs", 1, 7), bad}); err == nil {
		t.Fatal("upsert of an item without id succeeded")
	}
	if s.bands.items != 0 || len(s.bands.ids) != 0 {
		t.Errorf("band log mirror holds %d items, %d keys after a rollback, want none", s.bands.items, len(s.bands.ids))
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
	s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	it := storetest.StoryItem(1)
	if _, err := s.Upsert(ctx, []news.Item{it}); err != nil {
		t.Fatal(err)
	}
	story := func() (store.Story, bool) {
		var st store.Story
		var found bool
		err := s.db.View(func(tx *bbolt.Tx) error {
			v := tx.Bucket(bStories).Get([]byte(it.ID))
			if v == nil {
				return nil
			}
			found = true
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

// An item prepared (its band index read) before the band log is folded must not trust
// that reading alone afterwards: the copy filed and folded meanwhile is only on disk
// (after one fold the buffer folded last makes up for it; after two the index is read
// again).
func TestPreparedBeforeFoldReadsTheIndexAgain(t *testing.T) {
	for _, folds := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("folds-%d", folds), func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.foldAt = 1
			a := storetest.StoryItem(7)
			b := copyOf(7, 1) // the same story by another member
			p, err := s.prepareNew([]news.Item{b})
			if err != nil || p[b.ID] == nil {
				t.Fatalf("prepare: %v, %v", p, err)
			}
			// a is filed, then folded; later unrelated items fold again.
			for i := range folds {
				it := a
				if i > 0 {
					it = storetest.StoryItem(100 + i)
				}
				if _, err := s.Upsert(t.Context(), []news.Item{it}); err != nil {
					t.Fatal(err)
				}
			}
			if len(s.bands.ids) != 0 {
				t.Fatal("the band log was not folded: the test proves nothing")
			}
			var d decision
			err = s.db.View(func(tx *bbolt.Tx) error {
				d, err = s.decideCluster(tx, p[b.ID])
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if d.with != a.ID {
				t.Fatalf("decided %+v: the copy did not find %s", d, a.ID)
			}
		})
	}
}
