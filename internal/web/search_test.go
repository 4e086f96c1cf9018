package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"

	"github.com/iss-network/networkfeed/internal/news"
)

// stallingReader holds the store reads searching for "held…" until release is closed,
// telling entered when one starts.
type stallingReader struct {
	Reader
	entered chan struct{}
	release chan struct{}
}

func (s *stallingReader) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	if strings.HasPrefix(q.Text, "held") {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Reader.Items(ctx, q)
}

// TestSearchesTakeASlot: a search that matches little walks the whole timeline, and no
// cache holds distinct searches, so a visitor sending many could take every CPU. While
// the search slots are taken, another search waits, then gets 503 with Retry-After;
// reads without words are not held; once a slot is free, searches are answered again.
func TestSearchesTakeASlot(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	sr := &stallingReader{Reader: f.web.store, entered: make(chan struct{}, 8), release: make(chan struct{})}
	f.web.store = sr
	f.web.searchWait = 50 * time.Millisecond
	slots := cap(f.web.searches)
	done := make(chan int, slots)
	for i := range slots {
		go func() {
			res, _ := f.get(t, "/?q=held"+string(rune('a'+i)))
			done <- res.StatusCode
		}()
		<-sr.entered
	}
	res, body := f.get(t, "/feed.atom?q=another")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a search while the %d slots are taken: %d, Retry-After %q: %s", slots, res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if res, _ := f.get(t, "/feed.atom?limit=3"); res.StatusCode != http.StatusOK {
		t.Errorf("a read without words while searches run: %d", res.StatusCode)
	}
	close(sr.release)
	for range slots {
		if code := <-done; code != http.StatusOK {
			t.Errorf("a held search ended with %d", code)
		}
	}
	if res, _ := f.get(t, "/feed.atom?q=another"); res.StatusCode != http.StatusOK {
		t.Errorf("a search once the slots are free: %d", res.StatusCode)
	}
}

// flakyReader fails every read while down is set.
type flakyReader struct {
	Reader
	down atomic.Bool
}

func (f *flakyReader) Version(ctx context.Context) (uint64, error) {
	if f.down.Load() {
		return 0, errNoRedis
	}
	return f.Reader.Version(ctx)
}

// TestStoreOutageLoggedOnceEachWay: an outage is logged once when it starts (cached
// responses are served meanwhile) and once when the store answers again, so an operator
// reading the log knows it ended.
func TestStoreOutageLoggedOnceEachWay(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	var logs bytes.Buffer
	fr := &flakyReader{Reader: f.web.store}
	ws, err := New(Options{Store: fr, Config: func() *config.Config { return f.cfg }, Log: slog.New(slog.NewTextHandler(&logs, nil)), VersionTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		rec := httptest.NewRecorder()
		ws.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feed.atom", nil))
		return rec.Code
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("before the outage: %d", code)
	}
	fr.down.Store(true)
	for range 3 {
		if code := get(); code != http.StatusOK {
			t.Errorf("cached feed during the outage: %d", code)
		}
	}
	fr.down.Store(false)
	get()
	get()
	out := logs.String()
	if n, m := strings.Count(out, `msg="store unavailable`), strings.Count(out, `msg="store available again"`); n != 1 || m != 1 {
		t.Errorf("logged the outage %d times and its end %d times, want once each:\n%s", n, m, out)
	}
}
