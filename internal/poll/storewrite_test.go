//go:build linux

package poll

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// wordyFeed is an RSS feed of n items of prefix, each with a few kilobytes of words:
// enough that storing them needs the embedded store's file to grow.
func wordyFeed(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><link>https://m.example.org/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><guid isPermaLink="false">%s-%d</guid><title>Item %d of %s</title><link>https://m.example.org/%s/%d</link>`+
			`<pubDate>%s</pubDate><description>`, prefix, i, i, prefix, prefix, i,
			time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z))
		for w := range 300 {
			fmt.Fprintf(&b, "word%d-%d ", i, w)
		}
		b.WriteString("</description></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// fileLimitStore makes the embedded store's item writes fail as they do on a full
// disk: during Upsert, the process may not write past the store file's current size
// (RLIMIT_FSIZE; the kernel then refuses the file's growth with EFBIG, and Go ignores
// the SIGXFSZ that comes with it). Everything else, the source state's write included,
// is written as usual. (It hides the store's Stage: Refresh then calls Upsert.)
type fileLimitStore struct {
	Store
	path string
}

func (s fileLimitStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return news.UpsertResult{}, err
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		return news.UpsertResult{}, err
	}
	lim := syscall.Rlimit{Cur: uint64(fi.Size()), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return news.UpsertResult{}, err
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	return s.Store.Upsert(ctx, items)
}

// fullDisk serves a wordy feed of 200 items at every path (items distinct per path,
// "/a.xml" serving wordyFeed("/a.xml", 200)'s) and opens an embedded store whose item
// writes fail as on a full disk (fileLimitStore).
func fullDisk(t *testing.T) (site string, st fileLimitStore) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, wordyFeed(r.URL.Path, 200))
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "nf.db")
	db, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return srv.URL, fileLimitStore{db, path}
}

// TestStoreWriteFailureNotBlamedOnSource: when the embedded store cannot write a poll's
// items (its file cannot grow: a full disk), the refresh fails, but as the store's
// failure, not the source's: Describe says so (it said "parse", with bbolt's error), and
// the source's recorded state is not failing, counts no failure and is polled again
// soon, without backoff. No item is left half written, and the next poll stores them.
func TestStoreWriteFailureNotBlamedOnSource(t *testing.T) {
	site, st := fullDisk(t)
	db := st.Store.(*boltstore.Store)
	cfg := testConfig(t, "{interval: 2h, min_interval: 10m}")
	r := newTestRefresher(t, st, cfg, nil)
	var observed []news.SourceState
	r.Observe = func(_, after news.SourceState, _ Result) { observed = append(observed, after) }
	j := feedJob("m", site+"/feed.xml")

	res := r.Refresh(context.Background(), j)
	if res.Err == nil {
		t.Fatal("refresh succeeded though the store file could not grow")
	}
	t.Logf("refresh error: %v", res.Err)
	kind, words := Describe(res.Err)
	if kind != "store" || !strings.Contains(words, "could not save") {
		t.Errorf("Describe = %q, %q; want kind \"store\" and words saying the store could not save the items", kind, words)
	}
	if n := len(storedItems(t, db, "m")); n != 0 {
		t.Errorf("%d items stored by a write that failed: want none (the write is one transaction)", n)
	}
	s, ok := sourceState(t, db, j.URL())
	if !ok {
		t.Fatal("no state recorded for the source (the store could still write it)")
	}
	checkNotBlamed(t, s)
	if len(observed) != 1 || observed[0].ErrorKind != "store" {
		t.Errorf("observed %+v; want one refresh with error kind store (the polls-by-outcome metric)", observed)
	}
	if wait := s.NextPoll.Sub(s.LastPoll); wait > cfg.Fetch.MinInterval.D() {
		t.Errorf("next poll %v after the failed write: want it retried within min_interval (%v), not backed off",
			wait, cfg.Fetch.MinInterval.D())
	}

	// The store can write again: the next poll stores every item, and the source is ok.
	res = newTestRefresher(t, db, cfg, nil).Refresh(context.Background(), j)
	if res.Err != nil || res.New != 200 {
		t.Fatalf("poll after the store recovered: err %v, %d new; want 200 new", res.Err, res.New)
	}
	if s, _ := sourceState(t, db, j.URL()); s.Health != news.HealthOK || s.ErrorKind != "" || s.Items != 200 {
		t.Errorf("after recovery: health %s, kind %q, items %d", s.Health, s.ErrorKind, s.Items)
	}
}

// checkNotBlamed fails t when st, recorded after a poll whose items the store could not
// save, counts that against the source.
func checkNotBlamed(t *testing.T, st news.SourceState) {
	t.Helper()
	if st.Health == news.HealthFailing || st.Health == news.HealthDisabled || st.Failures != 0 {
		t.Errorf("store write failure counted against the source: health %s, failures %d, error %q (%s)",
			st.Health, st.Failures, st.Error, st.ErrorKind)
	}
	if st.ErrorKind != "store" || !strings.Contains(st.Error, "could not save") {
		t.Errorf("recorded error %q, kind %q: want the store's, in plain words", st.Error, st.ErrorKind)
	}
}

// oomStore has Redis refuse the items' writes as it does when it is out of memory
// (used memory above maxmemory, with the noeviction policy): during Upsert its
// maxmemory is 1 byte. Before and after, as when memory is freed meanwhile, Redis
// takes writes (the source state's, and the lease's in the scheduler, which a Redis
// out of memory all along refuses before any fetch).
type oomStore struct {
	Store
	c *redis.Client
}

func (s oomStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	if err := s.c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		return news.UpsertResult{}, err
	}
	if err := s.c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		return news.UpsertResult{}, err
	}
	defer s.c.ConfigSet(context.WithoutCancel(ctx), "maxmemory", "0")
	return s.Store.Upsert(ctx, items)
}

// redisPolled is a source polled once (its feed's three items stored) on a private Redis,
// whose configuration the test changes through c; set changes the feed.
type redisPolled struct {
	db  *redisstore.Store
	c   *redis.Client
	r   *Refresher
	j   Job
	set func(string)
}

func newRedisPolled(t *testing.T, network string) redisPolled {
	t.Helper()
	url := redistest.Restartable(t).URL() // a private server: its maxmemory is changed
	db, err := redisstore.Open(context.Background(), url+"?network="+network)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, set := changingFeed(t, goodFeed("a"))
	r := newTestRefresher(t, db, testConfig(t, "{interval: 2h, min_interval: 10m}"), nil)
	j := feedJob("m", site+"/feed.xml")
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 3 {
		t.Fatalf("first poll: err %v, %d new", res.Err, res.New)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return redisPolled{db, c, r, j, set}
}

// stored is how many of the member's items the store holds.
func (p redisPolled) stored(t *testing.T) int {
	t.Helper()
	items, err := p.db.Items(context.Background(), news.Query{Members: []string{"m"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestRedisWriteRefusedNotBlamedOnSource: Redis refusing the items' write (out of
// memory under maxmemory with noeviction) is the store's failure: Describe says so
// (it said "parse", with Redis's reply), the source is not counted failing, and none of
// the poll's items is stored in part.
func TestRedisWriteRefusedNotBlamedOnSource(t *testing.T) {
	p := newRedisPolled(t, "storewrite")
	db, r, j := p.db, p.r, p.j
	var observed []news.SourceState // after the first poll
	r.Observe = func(_, after news.SourceState, _ Result) { observed = append(observed, after) }
	ctx := context.Background()
	r.Store = oomStore{db, p.c}
	p.set(goodFeed("b"))
	res := r.Refresh(ctx, j)
	if res.Err == nil {
		t.Fatal("refresh succeeded though Redis refused writes")
	}
	t.Logf("refresh error: %v", res.Err)
	if kind, words := Describe(res.Err); kind != "store" || !strings.Contains(words, "could not save") {
		t.Errorf("Describe = %q, %q; want kind \"store\" and words saying the store could not save the items", kind, words)
	}
	if len(observed) != 1 || observed[0].ErrorKind != "store" {
		t.Errorf("observed %+v; want the refused refresh with error kind store (the polls-by-outcome metric)", observed)
	}
	s, _ := sourceState(t, db, j.URL())
	checkNotBlamed(t, s)
	if res.Health == news.HealthFailing {
		t.Errorf("result health %s: want the source's health as it was", res.Health)
	}
	if n := p.stored(t); n != 3 {
		t.Errorf("%d items stored; want the first poll's 3, none of the refused write's", n)
	}
}

// TestRefreshWhileRedisOutOfMemory: with Redis out of memory before the poll begins (not
// only during the items' write), the refresh still reads the source's state (Redis
// refused the MULTI transaction it was read in, reads and all: the poll failed with
// "read source state: EXECABORT …", which was no store failure, and `poll` counted the
// source as failing of its own) and fails as the store's: kind "store", nothing stored.
func TestRefreshWhileRedisOutOfMemory(t *testing.T) {
	p := newRedisPolled(t, "storefull")
	r, j, c := p.r, p.j, p.c
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	defer c.ConfigSet(ctx, "maxmemory", "0")
	p.set(goodFeed("b"))
	res := r.Refresh(ctx, j)
	t.Logf("refresh error: %v", res.Err)
	if kind, words := Describe(res.Err); kind != "store" || !strings.Contains(words, "could not save") {
		t.Errorf("Describe = %q, %q; want kind \"store\" and words saying the store could not save the items", kind, words)
	}
	if n := p.stored(t); n != 3 {
		t.Errorf("%d items stored; want the first poll's 3", n)
	}
}

// TestStoreWriteFailureLoggedOnce: while the store cannot save items (a full disk), each
// source's poll failed with an error line of its own, again at each of its polls (every
// min_interval): hundreds of lines a minute for a network of hundreds of sources, found
// by an audit on a real full disk. The first is logged as an error, the rest only at
// debug level (each source's state still says it), and once the store saves again the
// log says so.
func TestStoreWriteFailureLoggedOnce(t *testing.T) {
	site, st := fullDisk(t)
	db := st.Store.(*boltstore.Store)
	r := newTestRefresher(t, st, testConfig(t, "{interval: 2h, min_interval: 10m}"), nil)
	var logs syncbuf.Buffer
	r.Log = slog.New(slog.NewTextHandler(&logs, nil))
	for _, p := range []string{"/a.xml", "/b.xml", "/c.xml"} {
		if res := r.Refresh(context.Background(), feedJob("m"+p[1:2], site+p)); res.Err == nil {
			t.Fatalf("%s: refresh succeeded though the store file could not grow", p)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d error lines for three polls the store could not save, want 1:\n%s", n, logs.String())
	}
	r.Store = db // the store saves again
	if res := r.Refresh(context.Background(), feedJob("ma", site+"/a.xml")); res.Err != nil {
		t.Fatalf("refresh once the store saves: %v", res.Err)
	}
	if !strings.Contains(logs.String(), "the store saves items again") {
		t.Errorf("the store saves again, but the log does not say so:\n%s", logs.String())
	}
}
