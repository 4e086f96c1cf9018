package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
	"github.com/iss-network/networkfeed/internal/store/storyindex"
)

// freshNetwork returns a network name no other test uses, so that stores opened on one
// server (or cluster) start empty.
func freshNetwork() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// withNetwork adds a fresh network option to dsn.
func withNetwork(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "network=" + freshNetwork()
}

func openT(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformanceSentinel runs the suite through a Redis Sentinel
// (redis+sentinel://host:port/master): the form a Sentinel deployment uses.
func TestConformanceSentinel(t *testing.T) {
	dsn := redistest.Sentinel(t)
	// The DSN really goes through the Sentinel: an unknown master name cannot be opened.
	bad := strings.TrimSuffix(dsn, redistest.SentinelMaster) + "nosuchmaster?max_retries=-1"
	if s, err := Open(context.Background(), bad); err == nil {
		s.Close()
		t.Fatalf("opened %s: the Sentinel was not asked", bad)
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openT(t, withNetwork(dsn)) })
}

func TestConformanceStandalone(t *testing.T) {
	url := redistest.Server(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), withNetwork(url))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster start-up skipped in -short mode")
	}
	dsn := "redis+cluster://" + strings.Join(redistest.Cluster(t), ",")
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), withNetwork(dsn))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two processes (two stores with their own connections) upsert the same new items at
// once: each item must be stored once and reported new once.
func TestConcurrentWritersStoreOnce(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	a, b := openT(t, dsn), openT(t, dsn)
	const n = 1000
	var items []news.Item
	for i := range n {
		items = append(items, storetest.Item([]string{"gs", "au", "fr"}[i%3], i))
	}
	var wg sync.WaitGroup
	results := make([]news.UpsertResult, 4)
	errs := make([]error, 4)
	for w := range 4 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Writers use different batch sizes; odd ones walk the items backwards.
			batch := 50 + 37*w
			for i := 0; i < n; i += batch {
				lo, hi := i, min(i+batch, n)
				if w%2 == 1 {
					lo, hi = n-hi, n-lo
				}
				r, err := s.Upsert(context.Background(), items[lo:hi])
				if err != nil {
					errs[w] = err
					return
				}
				results[w].New += r.New
				results[w].Unchanged += r.Unchanged
				results[w].NewIDs = append(results[w].NewIDs, r.NewIDs...)
			}
		}()
	}
	wg.Wait()
	newIDs := map[string]int{}
	total := 0
	for w := range results {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		total += results[w].New
		for _, id := range results[w].NewIDs {
			newIDs[id]++
		}
		if results[w].New+results[w].Unchanged != n {
			t.Errorf("writer %d: new %d + unchanged %d != %d", w, results[w].New, results[w].Unchanged, n)
		}
	}
	if total != n || len(newIDs) != n {
		t.Errorf("reported new %d times for %d distinct IDs, want %d each", total, len(newIDs), n)
	}
	for id, c := range newIDs {
		if c != 1 {
			t.Errorf("%s reported new %d times", id, c)
		}
	}
	all, err := a.Items(context.Background(), news.Query{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Errorf("stored %d items, want %d", len(all), n)
	}
	for _, k := range []string{a.allKey(), a.memberKey("gs"), a.sourceKey(items[0].Source)} {
		c, _ := a.c.ZCard(context.Background(), k).Result()
		want := int64(n)
		if k != a.allKey() {
			want = (n + 2) / 3
		}
		if c != want {
			t.Errorf("%s has %d entries, want %d", k, c, want)
		}
	}
}

// Redis going away mid-poll: writes fail with store.ErrUnavailable, then work again
// once it is back (scripts are reloaded on the new server).
func TestRestart(t *testing.T) {
	p := redistest.Restartable(t)
	s := openT(t, withNetwork(p.URL()+"?max_retries=-1&dial_timeout=1s"))
	ctx := context.Background()
	if _, err := s.Upsert(ctx, []news.Item{storetest.Item("gs", 1)}); err != nil {
		t.Fatalf("upsert before stop: %v", err)
	}
	p.Stop()
	checks := map[string]func() error{
		"upsert": func() error { _, err := s.Upsert(ctx, []news.Item{storetest.Item("gs", 2)}); return err },
		"items":  func() error { _, err := s.Items(ctx, news.Query{Limit: 5}); return err },
		"ping":   func() error { return s.Ping(ctx) },
		"claim":  func() error { _, err := s.Claim(ctx, "x", "w", 1e9); return err },
	}
	for name, fn := range checks {
		t.Run("down/"+name, func(t *testing.T) {
			if err := fn(); !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s while down: err = %v, want ErrUnavailable", name, err)
			}
		})
	}
	p.Start()
	// Callers pause and retry on ErrUnavailable; do the same, a bounded number of times.
	for i := 0; s.Ping(ctx) != nil; i++ {
		if i == 100 {
			t.Fatalf("no answer after restart: %v", s.Ping(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r, err := s.Upsert(ctx, []news.Item{storetest.Item("gs", 2)})
	if err != nil {
		t.Fatalf("upsert after restart: %v", err)
	}
	if r.New != 1 {
		t.Errorf("upsert after restart = %+v, want 1 new", r)
	}
	if _, err := s.Item(ctx, "gs-002"); err != nil {
		t.Errorf("item after restart: %v", err)
	}
	if n, err := s.Trim(ctx, storetest.Item("gs", 2).Source, 0, 1, storetest.Item("gs", 9).Published); err != nil || n != 1 {
		t.Errorf("trim after restart = %d, %v; want 1", n, err)
	}
}

// The same ID several times in one batch is merged in order, like separate upserts.
func TestUpsertRepeatedIDInBatch(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	var batch []news.Item
	for i := range 80 { // more copies than the contention limit allows rounds
		it := storetest.Item("gs", 1)
		if i%2 == 1 {
			it.Title = fmt.Sprintf("Edit %d", i)
		}
		batch = append(batch, it)
	}
	r, err := s.Upsert(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if r.New != 1 || r.Updated != 79 {
		t.Errorf("result = %+v, want 1 new and 79 updated", r)
	}
	got, err := s.Item(context.Background(), "gs-001")
	if err != nil || got.Title != "Edit 79" {
		t.Errorf("stored title %q (%v), want the last copy's", got.Title, err)
	}
}

// Every stored item has its story recorded (what cluster decisions read instead of the
// item) until it is dated two cluster windows back (see unfile.go), and trimming an item
// removes its story.
func TestStoriesFollowItems(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	ctx := context.Background()
	var batch []news.Item
	for i := range 5 {
		batch = append(batch, storetest.StoryItem(i))
	}
	if _, err := s.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, it := range batch {
		v, err := s.c.HGet(ctx, s.storiesKey(), it.ID).Result()
		if err != nil {
			t.Fatalf("story of %s: %v", it.ID, err)
		}
		st, err := store.ParseStory([]byte(v))
		if err != nil || st.ID != it.ID || st.Sig != store.Signature(&it) {
			t.Fatalf("story of %s = %+v, %v", it.ID, st, err)
		}
	}
	src := batch[0].Source
	if _, err := s.Trim(ctx, src, 0, time.Nanosecond, batch[0].Published.Add(time.Hour*24*365)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.c.HExists(ctx, s.storiesKey(), batch[0].ID).Result(); ok {
		t.Error("a trimmed item's story is still stored")
	}
}

// A trimmed item is no cluster candidate any more, though its filing stays in the
// stream: its story went with it. A copy of its story stored afterwards stands alone,
// while a copy of a story still stored joins it.
func TestTrimmedItemIsNoCandidate(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	ctx := context.Background()
	gone, kept := storetest.Story("gs", 1, 7), storetest.Story("gs", 2, 8)
	gone.Source = "https://gone.example.org/feed"
	if _, err := s.Upsert(ctx, []news.Item{gone, kept}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Trim(ctx, gone.Source, 0, time.Nanosecond, gone.Published.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("trim: %d, %v; want 1 removed", n, err)
	}
	copyGone, copyKept := storetest.Story("au", 1, 7), storetest.Story("au", 2, 8)
	if _, err := s.Upsert(ctx, []news.Item{copyGone, copyKept}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Item(ctx, copyGone.ID); err != nil || got.ClusterID != "" {
		t.Errorf("copy of a trimmed story: cluster %q (%v), want none", got.ClusterID, err)
	}
	if got, err := s.Item(ctx, copyKept.ID); err != nil || got.ClusterID == "" {
		t.Errorf("copy of a stored story: cluster %q (%v), want the story's", got.ClusterID, err)
	}
}

// The stream of filings stays near its cap however many items are written.
func TestFilingsStreamIsCapped(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	s.filingsCap = 50
	ctx := context.Background()
	var batch []news.Item
	for i := range 400 {
		batch = append(batch, storetest.StoryItem(i))
	}
	if _, err := s.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Redis trims whole nodes of entries (stream-node-max-entries, 100 by default).
	if n, err := s.c.XLen(ctx, s.filingsKey()).Result(); err != nil || n < 50 || n > 250 {
		t.Errorf("stream holds %d filings (%v) after 400 items with a cap of 50", n, err)
	}
}

// A process that opens the store loads the newest filings into its index when it
// first writes (not before: a process that only serves never needs it), and a copy it
// writes joins a story another process wrote; the story-key hash of earlier versions
// is deleted when the store opens.
func TestOpenLoadsFilings(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	ctx := context.Background()
	first := openT(t, dsn)
	gs := storetest.Story("gs", 1, 7)
	if _, err := first.Upsert(ctx, []news.Item{gs, storetest.Story("gs", 2, 8)}); err != nil {
		t.Fatal(err)
	}
	if err := first.c.HSet(ctx, first.legacyBandsKey(), "k", "gs-1").Err(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dsn)
	if s.fl.idx != nil {
		t.Error("index loaded when the store opened, before any write")
	}
	if _, err := s.Items(ctx, news.Query{Limit: 10}); err != nil || s.fl.idx != nil {
		t.Errorf("a read (%v) loaded the index", err)
	}
	if n := index(t, s).Seq(); n != 2 {
		t.Errorf("index holds %d filings when loaded, want 2", n)
	}
	if n, err := s.c.Exists(ctx, s.legacyBandsKey()).Result(); err != nil || n != 0 {
		t.Errorf("story-key hash of earlier versions still there after open (%d, %v)", n, err)
	}
	au := storetest.Story("au", 1, 7)
	if _, err := s.Upsert(ctx, []news.Item{au}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Item(ctx, au.ID)
	if err != nil || got.ClusterID != gs.ID {
		t.Errorf("copy written by the second process: cluster %q (%v), want %s", got.ClusterID, err, gs.ID)
	}
	if n := s.united.Load(); n != 0 {
		t.Errorf("united = %d: the copy was found after its write, want it planned", n)
	}
}

// A process loads the newest window of filings a page at a time, and applies them
// oldest first.
func TestLoadFilingsReadsPages(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	ctx := context.Background()
	w := openT(t, dsn)
	total := storyindex.Window + 1500
	pipe := w.c.Pipeline()
	for i := range total {
		keys := [][]byte{binary.BigEndian.AppendUint64(nil, uint64(i+1)), binary.BigEndian.AppendUint64(nil, 1<<40)}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: w.filingsKey(), Values: []any{"i", fmt.Sprint("id", i), "k", packKeys(keys)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	idx := index(t, openT(t, dsn))
	if idx.Seq() != storyindex.Window {
		t.Fatalf("%d filings loaded, want the newest %d", idx.Seq(), storyindex.Window)
	}
	oldest := total - storyindex.Window
	if _, ok := idx.Latest(fmt.Sprint("id", oldest-1)); ok {
		t.Errorf("id%d, older than the window, was loaded", oldest-1)
	}
	for _, i := range []int{oldest, oldest + filingsPage, total - 1} {
		seq, ok := idx.Latest(fmt.Sprint("id", i))
		if want := uint32(i - oldest + 1); !ok || seq != want {
			t.Errorf("id%d filed as %d (%v), want %d: applied oldest first", i, seq, ok, want)
		}
	}
	if got := idx.Lookup(binary.BigEndian.AppendUint64(nil, 1<<40)); len(got) == 0 || got[0] != fmt.Sprint("id", total-1) {
		t.Errorf("shared key: %v, want id%d first", got, total-1)
	}
}

// A store written by an earlier version (the story-key hash, no stream of filings) gets
// its newest stories filed when it is opened: a copy of one of them joins it.
func TestOpenFilesStoriesOfEarlierVersions(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	ctx := context.Background()
	old := openT(t, dsn)
	gs := storetest.Story("gs", 1, 7)
	if _, err := old.Upsert(ctx, []news.Item{gs, storetest.Story("gs", 2, 8), storetest.Story("gs", 3, 9)}); err != nil {
		t.Fatal(err)
	}
	// What an earlier version leaves: the hash, and no stream.
	if err := old.c.Del(ctx, old.filingsKey()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := old.c.HSet(ctx, old.legacyBandsKey(), "k", gs.ID).Err(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dsn)
	if n := index(t, s).Seq(); n != 3 {
		t.Errorf("index holds %d filings after opening an earlier version's store, want 3", n)
	}
	au := storetest.Story("au", 1, 7)
	if _, err := s.Upsert(ctx, []news.Item{au}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Item(ctx, au.ID); err != nil || got.ClusterID != gs.ID {
		t.Errorf("copy of a story stored by an earlier version: cluster %q (%v), want %s", got.ClusterID, err, gs.ID)
	}
	// Opened again, with the stream there, nothing is filed twice.
	again := openT(t, dsn)
	if n := index(t, again).Seq(); n != 4 {
		t.Errorf("index holds %d filings when opened again, want 4", n)
	}
}

// Items dated more than two cluster windows ago lose their stories when retention
// runs (no new item can take them as candidates), oldest first and once; newer items
// keep theirs. A batch of the sweep that ends inside a run of equal dates takes the
// whole run.
func TestOldStoriesAreDropped(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	item := func(n int, age time.Duration) news.Item {
		it := storetest.StoryItem(n)
		it.Published, it.Updated, it.FirstSeen = now.Add(-age), now.Add(-age), now.Add(-age)
		return it
	}
	var old, recent []news.Item
	for i := range 5 {
		old = append(old, item(i, 100*24*time.Hour)) // one date for all five
	}
	for i := 5; i < 7; i++ {
		recent = append(recent, item(i, 24*time.Hour))
	}
	if _, err := s.Upsert(ctx, append(slices.Clone(old), recent...)); err != nil {
		t.Fatal(err)
	}
	defer func(b int64) { unfileBatch = b }(unfileBatch)
	unfileBatch = 2
	if _, err := s.Trim(ctx, recent[0].Source, 500, 0, now); err != nil {
		t.Fatal(err)
	}
	for _, it := range old {
		if ok, _ := s.c.HExists(ctx, s.storiesKey(), it.ID).Result(); ok {
			t.Errorf("%s, dated 100 days before, still has its story recorded", it.ID)
		}
		if _, err := s.Item(ctx, it.ID); err != nil {
			t.Errorf("%s: %v; only its story should go, not the item", it.ID, err)
		}
	}
	for _, it := range recent {
		if ok, _ := s.c.HExists(ctx, s.storiesKey(), it.ID).Result(); !ok {
			t.Errorf("%s, dated the day before, lost its story", it.ID)
		}
	}
	if n, err := s.unfileOld(ctx, now.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("a second sweep took %d items (%v), want none", n, err)
	}
}

// Tombstones written by earlier versions (a set without times) are moved into the timed
// sorted set when a store is opened, and still keep their items out.
func TestLegacyTombstonesMoved(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	ctx := context.Background()
	old := openT(t, dsn)
	legacy := make([]any, 0, tombMoveBatch+5)
	for i := range tombMoveBatch + 5 { // more than one move's batch
		legacy = append(legacy, fmt.Sprintf("gone-%d", i))
	}
	legacy = append(legacy, "gs-001")
	if err := old.c.SAdd(ctx, old.legacyTombKey(), legacy...).Err(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dsn)
	if n, err := s.c.Exists(ctx, s.legacyTombKey()).Result(); err != nil || n != 0 {
		t.Errorf("legacy tombstone set still there after open (%d, %v)", n, err)
	}
	if n, err := s.c.ZCard(ctx, s.tombKey()).Result(); err != nil || n != int64(len(legacy)) {
		t.Errorf("timed tombstones: %d (%v), want %d", n, err, len(legacy))
	}
	r, err := s.Upsert(ctx, []news.Item{storetest.Item("gs", 1)})
	if err != nil || r.New != 0 {
		t.Errorf("upsert of an item tombstoned by an earlier version = %+v, %v; want it kept out", r, err)
	}
}

// A malformed entry in the stream of filings is passed over: writes go on, and the
// copies of a story written after it are still clustered.
func TestMalformedFilingIsPassedOver(t *testing.T) {
	dsn := withNetwork(redistest.Server(t))
	s := openT(t, dsn)
	ctx := context.Background()
	gs := storetest.Story("gs", 1, 7)
	if _, err := s.Upsert(ctx, []news.Item{gs}); err != nil {
		t.Fatal(err)
	}
	if err := s.c.XAdd(ctx, &redis.XAddArgs{Stream: s.filingsKey(), Values: []any{"i", "x", "k", "short"}}).Err(); err != nil {
		t.Fatal(err)
	}
	au := storetest.Story("au", 1, 7)
	if _, err := s.Upsert(ctx, []news.Item{au}); err != nil {
		t.Fatalf("write after a malformed filing: %v", err)
	}
	if got, err := s.Item(ctx, au.ID); err != nil || got.ClusterID != gs.ID {
		t.Errorf("copy written after a malformed filing: cluster %q (%v), want %s", got.ClusterID, err, gs.ID)
	}
	if n := s.badFilings.Load(); n != 1 {
		t.Errorf("badFilings = %d, want 1", n)
	}
	if n := index(t, openT(t, dsn)).Seq(); n != 2 {
		t.Errorf("reopened index holds %d filings, want 2 (the malformed one passed over)", n)
	}
}

// index loads s's story-key index, as a write would, and returns it.
func index(t *testing.T, s *Store) *storyindex.Index {
	t.Helper()
	if err := s.catchUp(context.Background(), streamID{}); err != nil {
		t.Fatal(err)
	}
	return s.fl.idx
}

// A source state written by an earlier version reads as it did; written again, its
// history moves to the hash of histories.
func TestSourceWithInlineHistory(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	url := storetest.InlineHistory(t, s, func(url string, v []byte) error {
		return s.c.HSet(context.Background(), s.srcKey(), url, v).Err()
	})
	if ok, err := s.c.HExists(context.Background(), s.histKey(), url).Result(); err != nil || !ok {
		t.Errorf("written again: history apart %v, %v", ok, err)
	}
}
