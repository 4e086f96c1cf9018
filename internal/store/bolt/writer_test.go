package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// TestGroupCommitIsolatesAFailedWrite queues writes behind a blocked one so that the
// writer runs them as one group; one of them fails. The others must land, the failed
// one must leave nothing behind (not even in the story-key index), and each caller must
// get its own result (the failed one's its own error, not a store write failure).
func TestGroupCommitIsolatesAFailedWrite(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()

	release := make(chan struct{})
	started := make(chan struct{})
	blockDone := make(chan error, 1)
	go func() {
		blockDone <- s.update(ctx, func(tx *bbolt.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started

	boom := errors.New("boom")
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i == 3 {
				errs[i] = s.update(ctx, func(tx *bbolt.Tx) error {
					// File a story key and write a source, then fail: both must vanish.
					s.fileBands(&store.Story{ID: "bad"}, [][]byte{[]byte("badkey01")})
					if err := tx.Bucket(bSources).Put([]byte("bad"), []byte("{}")); err != nil {
						return err
					}
					return boom
				})
				return
			}
			_, errs[i] = s.Upsert(ctx, []news.Item{storetest.StoryItem(i)})
		})
	}
	// Let the writes queue behind the blocked one (the writer takes them all as one
	// group once it is free), then release it.
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	if err := <-blockDone; err != nil {
		t.Fatalf("blocked write: %v", err)
	}

	if g := s.largestGroup.Load(); g < 2 {
		t.Fatalf("the writes never ran as a group (largest group %d): the test proves nothing", g)
	}
	for i, err := range errs {
		switch {
		case i == 3 && !errors.Is(err, boom):
			t.Errorf("failing write returned %v, want boom", err)
		case i == 3 && errors.Is(err, store.ErrWrite):
			// The write's own error, not the commit's: the poll would take it for the store's.
			t.Errorf("failing write returned %v: a store write failure, though the commit never ran", err)
		case i != 3 && err != nil:
			t.Errorf("write %d failed with the failing one: %v", i, err)
		}
	}
	for i := range n {
		if i == 3 {
			continue
		}
		it := storetest.StoryItem(i)
		if _, err := s.Item(ctx, it.ID); err != nil {
			t.Errorf("item of write %d lost: %v", i, err)
		}
	}
	if _, err := s.Source(ctx, "bad"); err == nil {
		t.Error("the failed write's source was stored")
	}
	if ids := s.bands.Load().Lookup([]byte("badkey01")); len(ids) != 0 {
		t.Errorf("story-key index keeps the failed write's filing: %v", ids)
	}
}

// TestConcurrentWritesAllLand runs many small writes at once (as pollers do) and checks
// that every one landed.
func TestConcurrentWritesAllLand(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			st := news.SourceState{URL: fmt.Sprintf("http://example.test/%d", i), Polls: i}
			if err := s.PutSource(ctx, st); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 64 {
		t.Fatalf("%d sources stored, want 64", len(got))
	}
}

// TestCloseFinishesQueuedWrites closes the store while writes are queued: each caller
// gets an answer (none hangs), and a write reported done is on disk.
func TestCloseFinishesQueuedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	ok := make([]bool, 32)
	for i := range ok {
		wg.Go(func() {
			ok[i] = s.PutSource(ctx, news.SourceState{URL: fmt.Sprint(i)}) == nil
		})
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, done := range ok {
		if _, err := s.Source(ctx, fmt.Sprint(i)); done != (err == nil) {
			t.Errorf("source %d: write reported %v, stored: %v", i, done, err == nil)
		}
	}
}

// A failed write's cluster changes must not outlive it in the writer's cluster cache:
// the next copy joins the cluster as it is in the file.
func TestFailedWriteForgetsCachedClusters(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	gs, be := storyAndCopy()
	if _, err := s.Upsert(ctx, []news.Item{gs, be}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := s.cluster(tx, gs.ID)
		if err != nil || len(old) != 2 {
			t.Fatalf("cluster of %s: %v, %v", gs.ID, old, err)
		}
		ghost := append(slices.Clone(old), store.ClusterEntry{ID: "ghost", Member: "zz", Time: old[0].Time})
		if err := s.saveCluster(tx, gs.ID, old, ghost, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing write returned %v", err)
	}
	_, shown := storeCopy(t, s, gs, 2*time.Hour)
	if got := fmt.Sprint(shown.AlsoBy); got != "[au be]" && got != "[be au]" {
		t.Errorf("shown item's AlsoBy = %v, want be and au (no ghost of the failed write)", shown.AlsoBy)
	}
}

// A busy writer (writes waiting behind the one it took) waits for more before it
// commits, so later writes share the transaction; a lone write is committed at once.
func TestBusyWriterLingers(t *testing.T) {
	s := openTemp(t)
	s.linger = time.Hour // the wait ends when the store closes
	ctx := t.Context()
	// A lone write does not wait for others.
	done := make(chan error, 1)
	go func() {
		_, err := s.Upsert(ctx, []news.Item{storetest.StoryItem(1)})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lone write waited for others")
	}

	txOf := make([]int, 3)
	queue := func(i int) *write {
		w, err := s.queue(ctx, nil, func(tx *bbolt.Tx) error {
			txOf[i] = tx.ID()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	release := blockWriter(t, s)
	ws := []*write{queue(0), queue(1)}
	release()
	for len(s.writes) > 0 { // the writer takes both, and waits for more
		runtime.Gosched()
	}
	ws = append(ws, queue(2))
	s.Close()
	for i, w := range ws {
		if err := s.wait(w); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if txOf[2] != txOf[0] || txOf[1] != txOf[0] {
		t.Errorf("writes ran in transactions %v: the third, queued while the writer waited, was not taken with the others", txOf)
	}
}

// blockWriter holds the writer in a write until the returned release is called, so
// that the writes sent meanwhile queue behind it.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, hold, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.update(context.Background(), func(*bbolt.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(hold)
			if err := <-done; err != nil {
				t.Errorf("blocking write: %v", err)
			}
		})
	}
	t.Cleanup(release) // before the store closes, should the test stop early
	return release
}

// filings is how many stories the story-key index has filed.
func filings(s *Store) uint32 {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	return s.bands.Load().Seq()
}

// waitFilings waits until the story-key index has filed n stories.
func waitFilings(t *testing.T, s *Store, n uint32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); filings(s) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("story-key index holds %d filings, want %d: the writes were not planned before they ran", filings(s), n)
		}
	}
}

// New items are planned in their caller's goroutine while the writer is busy: their
// stories are filed before the writer runs them, a copy planned after its original
// (not written yet) joins its cluster, and the writer files neither again.
func TestWritesArePlannedWhileTheWriterIsBusy(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	gs, be := storyAndCopy()
	release := blockWriter(t, s)
	var wg sync.WaitGroup
	for i, it := range []news.Item{gs, be} {
		wg.Go(func() {
			if _, err := s.Upsert(ctx, []news.Item{it}); err != nil {
				t.Error(err)
			}
		})
		waitFilings(t, s, uint32(i+1)) // planned, in this order, with the writer still held
	}
	release()
	wg.Wait()
	if got, err := s.Item(ctx, be.ID); err != nil || got.ClusterID != gs.ID {
		t.Errorf("copy planned behind its original: cluster %q (%v), want %q", got.ClusterID, err, gs.ID)
	}
	if n := filings(s); n != 2 {
		t.Errorf("story-key index holds %d filings, want 2 (one per item)", n)
	}
}

// A plan made before a failed transaction rebuilt the story-key index is not used: the
// item is decided and filed again when its write runs, so later copies still find it.
func TestPlansBeforeARebuildAreNotUsed(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	gs, be := storyAndCopy()
	release := blockWriter(t, s)
	var wg sync.WaitGroup
	// Queued first, the failing write is run last when the group is run again write by
	// write, so the last rebuild of the index is from a file without the item.
	boom := errors.New("boom")
	wg.Go(func() {
		if err := s.update(ctx, func(*bbolt.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("failing write returned %v", err)
		}
	})
	for deadline := time.Now().Add(5 * time.Second); len(s.writes) < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failing write was never queued")
		}
	}
	wg.Go(func() {
		if _, err := s.Upsert(ctx, []news.Item{gs}); err != nil {
			t.Error(err)
		}
	})
	waitFilings(t, s, 1) // planned while the writer is held
	release()
	wg.Wait()
	if g := s.largestGroup.Load(); g < 2 {
		t.Fatalf("the writes never ran as a group (largest group %d): the test proves nothing", g)
	}
	if _, err := s.Item(ctx, gs.ID); err != nil {
		t.Fatalf("item of the group's other write: %v", err)
	}
	if _, err := s.Upsert(ctx, []news.Item{be}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Item(ctx, be.ID); err != nil || got.ClusterID != gs.ID {
		t.Errorf("copy stored after the rebuild: cluster %q (%v), want %q", got.ClusterID, err, gs.ID)
	}
}

// storyAndCopy is a story of gs and be's copy of it, published an hour later.
func storyAndCopy() (gs, be news.Item) {
	gs, be = storetest.Story("gs", 1, 7), storetest.Story("be", 2, 7)
	be.Published = gs.Published.Add(time.Hour)
	return gs, be
}
