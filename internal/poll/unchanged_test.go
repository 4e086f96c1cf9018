package poll

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// upsertCounter counts the items the poller asks the store to write.
type upsertCounter struct {
	Store
	written atomic.Int64
}

func (u *upsertCounter) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	u.written.Add(int64(len(items)))
	return u.Store.Upsert(ctx, items)
}

// A changed feed that brings one new item and the others as they were costs the
// store one item's write: the unchanged ones are recognised and counted, not written.
func TestUnchangedItemsAreNotWrittenAgain(t *testing.T) {
	body := goodFeed("a")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body))
	}))
	defer srv.Close()
	db := openBolt(t)
	st := &upsertCounter{Store: db}
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed.xml")
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 3 {
		t.Fatalf("first poll: %+v", res)
	}
	if got := st.written.Load(); got != 3 {
		t.Fatalf("first poll wrote %d items, want 3", got)
	}

	body = rss(
		"a-0|Zeroth a|https://m.example.org/a/0|Tue, 03 Mar 2026 10:00:00 GMT",
		"a-1|First a|https://m.example.org/a/1|Mon, 02 Mar 2026 10:00:00 GMT",
		"a-2|Second a, edited|https://m.example.org/a/2|Sun, 01 Mar 2026 10:00:00 GMT",
		"a-3|Third a|https://m.example.org/a/3|Sat, 28 Feb 2026 10:00:00 GMT",
	)
	res := r.Refresh(context.Background(), j)
	if res.Err != nil || res.New != 1 || res.Updated != 1 || res.Unchanged != 2 {
		t.Fatalf("second poll: new %d updated %d unchanged %d (%v), want 1, 1, 2", res.New, res.Updated, res.Unchanged, res.Err)
	}
	if got := st.written.Load() - 3; got != 2 {
		t.Errorf("second poll wrote %d items, want 2 (the new and the edited one)", got)
	}
	if n := len(storedItems(t, db, "m")); n != 4 {
		t.Errorf("%d items stored, want 4", n)
	}
}

// blockingStore holds every Upsert until released, counting how many wait at once.
type blockingStore struct {
	Store
	in, most atomic.Int32
	gate     chan struct{}
}

func (b *blockingStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	n := b.in.Add(1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	<-b.gate
	b.in.Add(-1)
	return b.Store.Upsert(ctx, items)
}

// The embedded store commits in groups and asks for a queue.
var (
	_ writeQueue = (*boltstore.Store)(nil)
	_ stager     = (*boltstore.Store)(nil)
)

// queueingStore is a blockingStore that asks for a queue of writers (writeQueue).
type queueingStore struct {
	*blockingStore
	queue int
}

func (q queueingStore) WriteQueue() int { return q.queue }

// countingFeeds serves goodFeed for every path and counts the requests; waitFetched
// waits (at most 5 s) until n have come.
func countingFeeds(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write([]byte(goodFeed(r.URL.Path[1:])))
	}))
	t.Cleanup(srv.Close)
	return srv, &fetched
}

// refreshSixWhileBusy starts refreshes of six of srv's feeds (each must store 3 new
// items) and returns once all six have been asked for, while the store is held.
func refreshSixWhileBusy(t *testing.T, r *Refresher, srv *httptest.Server, fetched *atomic.Int32) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if res := r.Refresh(context.Background(), feedJob(fmt.Sprint("m", i), fmt.Sprintf("%s/f%d", srv.URL, i))); res.Err != nil || res.New != 3 {
				t.Errorf("refresh %d: %+v", i, res)
			}
		})
	}
	waitFetched(fetched, 6)
	if fetched.Load() < 6 {
		t.Fatalf("only %d of 6 sources asked while the store was busy", fetched.Load())
	}
	return &wg
}

func waitFetched(fetched *atomic.Int32, n int32) {
	deadline := time.Now().Add(5 * time.Second)
	for fetched.Load() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// Sources keep being fetched while the store is busy, but only Processing refreshes at
// a time (or, unset, as many as the store asks for) hold parsed items and wait on the
// store.
func TestProcessingIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name              string
		processing, queue int
		want              int32
	}{
		{"Processing", 2, 0, 2},
		{"the store's queue", 0, 4, 4},
		{"Processing before the store's queue", 3, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, fetched := countingFeeds(t)
			bs := &blockingStore{Store: openBolt(t), gate: make(chan struct{})}
			var st Store = bs
			if tc.queue > 0 {
				st = queueingStore{bs, tc.queue}
			}
			r := newTestRefresher(t, st, testConfig(t, ""), nil)
			r.Processing = tc.processing
			wg := refreshSixWhileBusy(t, r, srv, fetched)
			time.Sleep(50 * time.Millisecond)
			if n := bs.in.Load(); n != tc.want {
				t.Errorf("%d refreshes waiting on the store, want %d", n, tc.want)
			}
			close(bs.gate)
			wg.Wait()
			if m := bs.most.Load(); m > tc.want {
				t.Errorf("%d refreshes waited on the store at once, want at most %d", m, tc.want)
			}
		})
	}
}

// readyWatcher is a Fetcher that counts the answers that reached Ready and those whose
// body it let be read; with open set, it holds the fetch of /feed/ (the discovery of a
// page source's feed) until open is closed, closing discovering when it starts to.
type readyWatcher struct {
	Fetcher
	reached, passed   atomic.Int32
	discovering, open chan struct{}
	once              sync.Once
}

func (w *readyWatcher) Get(ctx context.Context, r fetch.Request) (*fetch.Response, error) {
	if w.open != nil && strings.HasSuffix(r.URL, "/feed/") {
		w.once.Do(func() { close(w.discovering) })
		<-w.open
	}
	if ready := r.Ready; ready != nil {
		r.Ready = func(ctx context.Context) error {
			w.reached.Add(1)
			err := ready(ctx)
			if err == nil {
				w.passed.Add(1)
			}
			return err
		}
	}
	return w.Fetcher.Get(ctx, r)
}

// While every processing slot is taken, only ReadAhead more sources have their answer
// read; the others wait with the answer unread, and all finish once the store frees.
func TestReadAheadIsBounded(t *testing.T) {
	srv, fetched := countingFeeds(t)
	bs := &blockingStore{Store: openBolt(t), gate: make(chan struct{})}
	rc := &readyWatcher{Fetcher: fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1})}
	r := newTestRefresher(t, bs, testConfig(t, ""), rc)
	r.Processing, r.ReadAhead = 1, 2
	wg := refreshSixWhileBusy(t, r, srv, fetched)
	for deadline := time.Now().Add(5 * time.Second); rc.passed.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a fourth, were it let through
	if n := rc.passed.Load(); n != 3 {
		t.Errorf("%d answers read while the store was busy, want 3 (one processing, two read ahead)", n)
	}
	close(bs.gate)
	wg.Wait()
	if n := rc.passed.Load(); n != 6 {
		t.Errorf("%d answers read in all, want 6", n)
	}
}

// Sources waiting for read-ahead room hold no request slot, so a refresh that holds a
// processing slot and needs a request of its own (discovering a page's feed) gets one:
// with the slots held, neither could go on.
func TestReadAheadWaitLeavesRequestSlots(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><body><h1>News</h1><p>No feed link here.</p></body></html>`))
	})
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("wp")))
	})
	mux.HandleFunc("/f/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(goodFeed(strings.Trim(r.URL.Path, "/"))))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	g := &readyWatcher{Fetcher: fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1, Global: 2}),
		discovering: make(chan struct{}), open: make(chan struct{})}
	r := newTestRefresher(t, openBolt(t), testConfig(t, ""), g)
	r.Processing, r.ReadAhead = 1, 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	page := Job{Member: &config.Member{ID: "wp", Name: "WP", Languages: []string{"en"}}, Source: config.Source{Page: srv.URL + "/news/"}}
	wg.Go(func() {
		if res := r.Refresh(ctx, page); res.Err != nil || res.New != 3 {
			t.Errorf("page source: %+v", res)
		}
	})
	<-g.discovering // the page source holds the processing slot
	for i := range 3 {
		wg.Go(func() {
			if res := r.Refresh(ctx, feedJob(fmt.Sprint("m", i), fmt.Sprintf("%s/f/%d", srv.URL, i))); res.Err != nil || res.New != 3 {
				t.Errorf("feed %d: %+v", i, res)
			}
		})
	}
	for g.reached.Load() < 3 && ctx.Err() == nil { // one reads ahead, two wait for room
		time.Sleep(5 * time.Millisecond)
	}
	close(g.open)
	wg.Wait()
}

// A poll of every source starts those whose last poll took longest, so their wait
// overlaps the others' work; results stay in the order of the jobs.
func TestPollAllStartsSlowestFirst(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		w.Write([]byte(goodFeed(r.URL.Path[1:])))
	}))
	defer srv.Close()
	st := openBolt(t)
	took := map[string]time.Duration{"/f1": time.Second, "/f3": 3 * time.Second}
	var jobs []Job
	for i := range 4 {
		u := fmt.Sprintf("%s/f%d", srv.URL, i)
		jobs = append(jobs, feedJob(fmt.Sprint("m", i), u))
		if d, ok := took[fmt.Sprintf("/f%d", i)]; ok {
			err := st.PutSource(context.Background(), news.SourceState{URL: u, History: []news.PollRecord{{Duration: d}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	results := PollAll(context.Background(), r, jobs, 1, nil)
	if got := fmt.Sprint(asked); got != "[/f3 /f1 /f0 /f2]" {
		t.Errorf("sources asked in the order %s, want [/f3 /f1 /f0 /f2]", got)
	}
	for i, res := range results {
		if res.URL != jobs[i].URL() || res.Err != nil {
			t.Errorf("result %d is %s (%v), want %s", i, res.URL, res.Err, jobs[i].URL())
		}
	}
}

// Parsing slots: GOMAXPROCS of them unless set, whatever the store.
func TestParsingSlots(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	bs := &blockingStore{Store: openBolt(t), gate: make(chan struct{})}
	for _, tc := range []struct {
		name    string
		st      Store
		parsing int
		want    int
	}{
		{"no queue", bs, 0, procs},
		{"a queue", queueingStore{bs, 4}, 0, procs},
		{"set", queueingStore{bs, 4}, 3, 3},
	} {
		r := &Refresher{Store: tc.st, Parsing: tc.parsing}
		r.slots()
		if got := cap(r.cpu); got != tc.want {
			t.Errorf("%s: %d parsing slots, want %d", tc.name, got, tc.want)
		}
	}
}

// slotTaken is a refresher of one parsing slot, taken (the test gives it back with
// <-r.cpu), over a bolt store that counts its writes; the source to refresh is u. The
// refresh is started and has fetched its source when slotTaken returns.
func slotTaken(t *testing.T, ctx context.Context) (r *Refresher, bs *blockingStore, u string, done chan Result) {
	t.Helper()
	srv, fetched := countingFeeds(t)
	bs = &blockingStore{Store: openBolt(t), gate: make(chan struct{})}
	close(bs.gate)
	r = newTestRefresher(t, bs, testConfig(t, ""), nil)
	r.Parsing = 1
	r.slots()
	r.cpu <- struct{}{}
	u, done = srv.URL+"/f0", make(chan Result, 1)
	go func() { done <- r.Refresh(ctx, feedJob("m0", u)) }()
	waitFetched(fetched, 1)
	if fetched.Load() != 1 {
		t.Fatalf("source fetched %d times, want 1", fetched.Load())
	}
	return r, bs, u, done
}

// A fetched source waits for a parsing slot before it parses, cleans and stores.
func TestParsingWaitsForASlot(t *testing.T) {
	r, bs, _, done := slotTaken(t, context.Background())
	time.Sleep(50 * time.Millisecond)
	select {
	case res := <-done:
		t.Fatalf("refresh finished without a parsing slot: %+v", res)
	default:
	}
	if bs.most.Load() != 0 {
		t.Fatalf("stored %d times; want nothing stored", bs.most.Load())
	}
	<-r.cpu
	if res := <-done; res.Err != nil || res.New != 3 {
		t.Errorf("refresh after the slot was freed: %+v", res)
	}
}

// A refresh waiting for a parsing slot when the poll is cancelled gives up at once,
// storing nothing and recording nothing.
func TestParsingSlotWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, bs, u, done := slotTaken(t, ctx) // the slot stays taken
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case res := <-done:
		if !errors.Is(res.Err, context.Canceled) {
			t.Errorf("refresh ended with %v, want context.Canceled", res.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("refresh still waiting for a parsing slot after the poll was cancelled")
	}
	if bs.most.Load() != 0 {
		t.Error("items stored by a cancelled refresh")
	}
	if _, err := bs.Source(context.Background(), u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("source state of a cancelled refresh: %v, want none recorded", err)
	}
}

// Items dated before retention's max_age are not stored at all: storing them would only
// have them trimmed (and tombstoned) in the same refresh.
func TestItemsOlderThanMaxAgeAreNotStored(t *testing.T) {
	now := time.Now().UTC()
	body := rss(
		"new-1|A recent story|https://m.example.org/new/1|"+now.Add(-48*time.Hour).Format(time.RFC1123Z),
		"old-1|A story of two years ago|https://m.example.org/old/1|"+now.AddDate(-2, 0, 0).Format(time.RFC1123Z),
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	cfg, err := config.Parse("test.yml", []byte("retention: {max_age: 365d}\nmembers: [{id: m, name: M, homepage: \"https://m.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	db := openBolt(t)
	st := &upsertCounter{Store: db}
	r := newTestRefresher(t, st, cfg, nil)
	res := r.Refresh(context.Background(), feedJob("m", srv.URL+"/feed.xml"))
	if res.Err != nil || res.Found != 2 || res.New != 1 {
		t.Fatalf("poll: found %d new %d (%v), want 2 found and 1 new", res.Found, res.New, res.Err)
	}
	if got := st.written.Load(); got != 1 {
		t.Errorf("wrote %d items, want only the recent one", got)
	}
	got, err := db.Items(context.Background(), news.Query{Limit: 10})
	if err != nil || len(got) != 1 || got[0].Title != "A recent story" {
		t.Fatalf("stored %v (%v), want only the recent story", got, err)
	}
}

// stagingStore is a bolt store that records, each time it stages a write, whether the
// refresher r held a parsing slot.
type stagingStore struct {
	*boltstore.Store
	r      *Refresher
	inSlot []bool
}

func (s *stagingStore) Stage(ctx context.Context, items []news.Item) (func() (news.UpsertResult, error), error) {
	s.inSlot = append(s.inSlot, len(s.r.cpu) == cap(s.r.cpu))
	return s.Store.Stage(ctx, items)
}

// A store that stages its writes (the embedded store) stages them in a parsing slot,
// and the refresh counts what the staged write did.
func TestStagingTakesAParsingSlot(t *testing.T) {
	srv, _ := countingFeeds(t)
	ss := &stagingStore{Store: openBolt(t)}
	r := newTestRefresher(t, ss, testConfig(t, ""), nil)
	r.Parsing = 1
	ss.r = r
	res := r.Refresh(context.Background(), feedJob("m0", srv.URL+"/f0"))
	if res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %+v, want 3 new items", res)
	}
	if len(ss.inSlot) != 1 || !ss.inSlot[0] {
		t.Errorf("staged %d times, in a parsing slot: %v; want once, in a slot", len(ss.inSlot), ss.inSlot)
	}
}
