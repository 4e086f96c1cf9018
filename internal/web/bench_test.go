package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// benchFixture stores n items spread over the test members (in batches), like the
// 1,000,000-item wrk run of scripts/bench-serve.sh but small enough for go test.
func benchFixture(b *testing.B, n int) http.Handler {
	b.Helper()
	f := newFeedFixture(b, nil)
	members := []string{"au", "fr", "ch", "jp", "us"}
	langs := map[string][]string{"au": {"en"}, "fr": {"fr", "en"}, "ch": {"fr", "de", "en"}, "jp": {"ja"}, "us": {"en", "es"}}
	batch := make([]news.Item, 0, 1000)
	for i := range n {
		m := members[i%len(members)]
		l := langs[m][i%len(langs[m])]
		it := mk(fmt.Sprintf("b%07d", i), m, l, 0, fmt.Sprintf("Item %d about children and families across borders", i), "news")
		it.Published = t0.Add(time.Duration(i) * time.Minute)
		it.Updated, it.FirstSeen = it.Published, it.Published
		it.Content = "<p>Content paragraph about international social service casework, repeated a few times. Content paragraph about international social service casework.</p>"
		batch = append(batch, it)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := f.store.Upsert(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return f.web.Handler()
}

func benchServe(b *testing.B, h http.Handler, path func(i int) string, hdr ...string) {
	b.Helper()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path(i), nil)
		for j := 0; j+1 < len(hdr); j += 2 {
			req.Header.Set(hdr[j], hdr[j+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNotModified {
			b.Fatalf("GET %s: %d %s", path(i), rec.Code, rec.Body)
		}
		i++
	}
}

const benchItems = 20000

// BenchmarkFeedCached serves /feed.atom (50 items) from the render cache.
func BenchmarkFeedCached(b *testing.B) {
	h := benchFixture(b, benchItems)
	benchServe(b, h, func(int) string { return "/feed.atom" })
}

// BenchmarkFeedCachedGzip serves the gzipped bytes from the render cache.
func BenchmarkFeedCachedGzip(b *testing.B) {
	h := benchFixture(b, benchItems)
	benchServe(b, h, func(int) string { return "/feed.atom" }, "Accept-Encoding", "gzip")
}

// BenchmarkFeedNotModified answers a conditional request with 304.
func BenchmarkFeedNotModified(b *testing.B) {
	h := benchFixture(b, benchItems)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feed.atom", nil))
	benchServe(b, h, func(int) string { return "/feed.atom" }, "If-None-Match", rec.Header().Get("ETag"))
}

// sinceParam varies since= (before every item) so that each request misses the cache.
func sinceParam(i int) string {
	return time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
}

// BenchmarkFeedUncached renders /feed.atom (50 items) on every request.
func BenchmarkFeedUncached(b *testing.B) {
	h := benchFixture(b, benchItems)
	benchServe(b, h, func(i int) string { return "/feed.atom?since=" + sinceParam(i) })
}

// BenchmarkFeedUncachedFiltered renders a member+language feed (50 items) on every request.
func BenchmarkFeedUncachedFiltered(b *testing.B) {
	h := benchFixture(b, benchItems)
	benchServe(b, h, func(i int) string { return "/feed.atom?member=ch&lang=de&since=" + sinceParam(i) })
}

// BenchmarkRiver renders the river (/) from the store, its ETag (a hash of the page) included.
func BenchmarkRiver(b *testing.B) {
	h := benchFixture(b, benchItems)
	benchServe(b, h, func(int) string { return "/" })
}
