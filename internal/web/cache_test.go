package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRenderCache checks, step by step on one server, which requests reach the store:
// only the first request for a (filter, format, store version) renders.
func TestRenderCache(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	clock := fakeClock(f.web)
	res, first := f.get(t, "/feed.atom?member=fr")
	etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if res.StatusCode != 200 || etag == "" || lastMod == "" {
		t.Fatalf("first GET: %d, ETag %q, Last-Modified %q", res.StatusCode, etag, lastMod)
	}
	steps := []struct {
		name      string
		path      string
		hdr       []string
		status    int
		wantReads int64
		check     func(t *testing.T, res *http.Response, body []byte)
	}{
		{name: "same request from the cache", path: "/feed.atom?member=fr", status: 200, wantReads: 1, check: func(t *testing.T, res *http.Response, body []byte) {
			if !bytes.Equal(body, first) || res.Header.Get("ETag") != etag {
				t.Error("a cached response differs from the first")
			}
		}},
		{name: "equal filter in another order", path: "/feed.atom?lang=&member=fr", status: 200, wantReads: 1},
		{name: "If-None-Match answers 304 without rendering", path: "/feed.atom?member=fr", hdr: []string{"If-None-Match", etag}, status: 304, wantReads: 1, check: func(t *testing.T, res *http.Response, body []byte) {
			if len(body) != 0 || res.Header.Get("ETag") != etag {
				t.Errorf("304 with body %q, ETag %q", body, res.Header.Get("ETag"))
			}
		}},
		{name: "weak and listed ETags match", path: "/feed.atom?member=fr", hdr: []string{"If-None-Match", `"x", W/` + etag}, status: 304, wantReads: 1},
		{name: "If-Modified-Since answers 304", path: "/feed.atom?member=fr", hdr: []string{"If-Modified-Since", lastMod}, status: 304, wantReads: 1},
		{name: "a stale ETag gets the body", path: "/feed.atom?member=fr", hdr: []string{"If-None-Match", `"other"`}, status: 200, wantReads: 1},
		{name: "gzip is served from the cache", path: "/feed.atom?member=fr", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, wantReads: 1, check: func(t *testing.T, res *http.Response, body []byte) {
			if res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, body), first) {
				t.Error("gzip response is not the first body compressed")
			}
			if res.Header.Get("ETag") == etag || res.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("gzip ETag %q (plain %q), Vary %q", res.Header.Get("ETag"), etag, res.Header.Get("Vary"))
			}
		}},
		{name: "gzip ETag answers 304", path: "/feed.atom?member=fr", hdr: []string{"Accept-Encoding", "gzip", "If-None-Match", etag[:len(etag)-1] + `-gz"`}, status: 304, wantReads: 1},
		{name: "another format renders", path: "/feed.rss?member=fr", status: 200, wantReads: 2},
		{name: "another filter renders", path: "/feed.atom?member=au", status: 200, wantReads: 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, body := f.get(t, s.path, s.hdr...)
			if res.StatusCode != s.status {
				t.Fatalf("status %d, want %d", res.StatusCode, s.status)
			}
			if n := f.reads.items.Load(); n != s.wantReads {
				t.Errorf("store read %d times, want %d", n, s.wantReads)
			}
			if s.check != nil {
				s.check(t, res, body)
			}
		})
	}
	t.Run("a store change is seen after the version TTL", func(t *testing.T) {
		if _, err := f.store.Upsert(context.Background(), []news.Item{mk("i13", "fr", "fr", 13, "Nouvelle publication")}); err != nil {
			t.Fatal(err)
		}
		before := f.reads.items.Load()
		// Within the TTL the last reading of the version stands: still 304, no render.
		clock.Add(int64(DefaultVersionTTL - time.Millisecond))
		if res, _ := f.get(t, "/feed.atom?member=fr", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
			t.Errorf("within the version TTL: %d, want the cached 304", res.StatusCode)
		}
		// Once the TTL has passed, the change is served.
		clock.Add(int64(2 * time.Millisecond))
		res, body := f.get(t, "/feed.atom?member=fr", "If-None-Match", etag)
		if res.StatusCode != 200 || res.Header.Get("ETag") == etag || !bytes.Contains(body, []byte("urn:networkfeed:i13")) {
			t.Errorf("after a change: %d, ETag %q (was %q)", res.StatusCode, res.Header.Get("ETag"), etag)
		}
		if f.reads.items.Load() != before+1 {
			t.Errorf("store read %d times, want 1", f.reads.items.Load()-before)
		}
		etag = res.Header.Get("ETag")
	})
	t.Run("StoreChanged makes a change seen at once", func(t *testing.T) {
		if _, err := f.store.Upsert(context.Background(), []news.Item{mk("i14", "fr", "fr", 14, "Encore une publication")}); err != nil {
			t.Fatal(err)
		}
		f.web.StoreChanged()
		res, body := f.get(t, "/feed.atom?member=fr", "If-None-Match", etag)
		if res.StatusCode != 200 || !bytes.Contains(body, []byte("urn:networkfeed:i14")) {
			t.Errorf("after StoreChanged: %d, want the new item", res.StatusCode)
		}
	})
}

// fakeClock makes s read the store version by a clock the test moves (in nanoseconds).
func fakeClock(s *Server) *atomic.Int64 {
	var ns atomic.Int64
	start := time.Now()
	s.clock = func() time.Time { return start.Add(time.Duration(ns.Load())) }
	return &ns
}

// TestVersionReadOncePerTTL: cached responses read the store version at most once per
// TTL, however many requests arrive, and a negative TTL reads it on every request.
func TestVersionReadOncePerTTL(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	clock := fakeClock(f.web)
	f.get(t, "/feed.json")
	base := f.reads.versions.Load()
	for range 20 {
		f.get(t, "/feed.json")
	}
	if n := f.reads.versions.Load() - base; n != 0 {
		t.Errorf("20 requests within the TTL read the version %d times, want 0", n)
	}
	clock.Add(int64(DefaultVersionTTL))
	f.get(t, "/feed.json")
	f.get(t, "/feed.json")
	if n := f.reads.versions.Load() - base; n != 1 {
		t.Errorf("after the TTL: %d version reads, want 1", n)
	}
	f.web.versionTTL = -1
	f.web.StoreChanged() // drop the reading made under the old TTL
	f.get(t, "/feed.json")
	f.get(t, "/feed.json")
	if n := f.reads.versions.Load() - base; n != 3 {
		t.Errorf("with a negative TTL: %d version reads, want 3", n)
	}
}

// downReader is a store that cannot be reached.
type downReader struct{ Reader }

var errDown = errors.New("connection refused")

func (d downReader) Version(context.Context) (uint64, error) { return 0, errDown }
func (d downReader) Items(context.Context, news.Query) ([]news.Item, error) {
	return nil, errDown
}

func TestRenderCacheServesStaleWhenStoreIsDown(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	_, want := f.get(t, "/feed.json")
	f.web.store = downReader{f.web.store}
	f.web.StoreChanged() // read the (now failing) version at once
	tests := []struct {
		path   string
		status int
	}{
		{"/feed.json", 200},
		{"/feed.json?member=au", 503},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, body := f.get(t, tc.path)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.status == 200 && !bytes.Equal(body, want) {
				t.Error("stale response differs from the cached one")
			}
		})
	}
}

// TestRenderCacheServesStaleAfterReload: a config reload (SIGHUP) makes new cache keys;
// when the store is down afterwards, a feed rendered before the reload is still served
// from its last rendered bytes, as for a feed rendered since. Before, it was a 503 until
// the store came back.
func TestRenderCacheServesStaleAfterReload(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	_, want := f.get(t, "/feed.json")
	reloaded := feedCfg(t)
	f.web.config = func() *config.Config { return reloaded }
	f.web.store = downReader{f.web.store}
	f.web.StoreChanged()
	res, body := f.get(t, "/feed.json")
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200 from the bytes rendered before the reload: %s", res.StatusCode, body)
	}
	if !bytes.Equal(body, want) {
		t.Error("stale response differs from the cached one")
	}
	if res, _ := f.get(t, "/feed.json?member=au"); res.StatusCode != 503 {
		t.Errorf("never rendered: status %d, want 503", res.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"br, GZIP;q=0.5", true},
		{"deflate,, gzip ; q=1", true},
		{"gzip;q=0", false},
		{"br, gzip; q=0.000", false},
		{"identity", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", tc.header)
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestRenderCacheBoundedByBytes: every paging cursor is an address of its own, so a
// visitor walking distinct pages must not grow the cache past its byte budget (600
// pages of limit=500 took a server from 240 MB to 1.3 GB).
func TestRenderCacheBoundedByBytes(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	const budget = 64 << 10
	f.web.cache = newRenderCache(2048, budget)
	var one int
	for i := range 200 {
		before := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)
		res, body := f.get(t, fmt.Sprintf("/feed.atom?limit=500&before=%d_x", before.UnixNano()))
		if res.StatusCode != 200 {
			t.Fatalf("page %d: status %d", i, res.StatusCode)
		}
		one = len(body)
	}
	if one*200 <= budget {
		t.Fatalf("pages of %d bytes do not exceed the budget: the test proves nothing", one)
	}
	c := f.web.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int64
	for _, e := range c.m {
		total += e.size()
	}
	if total > budget {
		t.Errorf("cache holds %d bytes in %d entries, budget %d", total, len(c.m), budget)
	}
	if len(c.m) < 2 {
		t.Errorf("cache holds %d entries: it should still keep what fits", len(c.m))
	}
}
