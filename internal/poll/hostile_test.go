package poll

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
)

// hostileCase is one way a member's server can misbehave, served at /feed (and, for
// some, further paths), and what the source's recorded state must say afterwards.
type hostileCase struct {
	name    string
	handler http.HandlerFunc
	page    *config.Selectors // a page source with these selectors instead of a feed
	strict  bool              // fetched by a client that refuses private addresses
	slow    bool              // fetched by a client with a 1s deadline
	robots  string            // robots.txt body (default: 404)

	wantKind   string      // recorded ErrorKind; "" means the poll must succeed
	wantWords  string      // a phrase of the recorded Error
	wantHealth news.Health // default: ok on success, failing on error
	check      func(t *testing.T, st news.SourceState, res Result, items []news.Item)
}

// routeFetcher sends some URLs to other clients.
type routeFetcher struct {
	def    Fetcher
	routes map[string]Fetcher
}

func (f *routeFetcher) Get(ctx context.Context, r fetch.Request) (*fetch.Response, error) {
	if c, ok := f.routes[r.URL]; ok {
		return c.Get(ctx, r)
	}
	return f.def.Get(ctx, r)
}

func hold(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// drip sends a byte every 50ms until the client gives up.
func drip(w http.ResponseWriter, r *http.Request) {
	for {
		if _, err := w.Write([]byte("<")); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func serveBody(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Write([]byte(body))
	}
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

var (
	bombOnce sync.Once
	bombGz   []byte
)

// gzipBomb is 64 MiB of zeros gzipped to about 64 KiB: 64 gzip members of 1 MiB each (a gzip
// reader reads them as one stream), so that making it costs one MiB of compression, not 64 (under
// -race on a busy machine, compressing 64 MiB in the handler outlasted the 20 s fetch timeout).
func gzipBomb() []byte {
	bombOnce.Do(func() {
		var member bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
		zw.Write(make([]byte, 1<<20))
		zw.Close()
		bombGz = bytes.Repeat(member.Bytes(), 64)
	})
	return bombGz
}

// bigFeed is a feed of n tiny items, newest first.
func bigFeed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>`)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "<item><guid>g%d</guid><title>Item %d</title><pubDate>%s</pubDate></item>", i, i, base.Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func hostileCases() []hostileCase {
	const rssType = "application/rss+xml"
	fine := func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
		t.Helper()
		if len(items) == 0 {
			t.Errorf("no items stored")
		}
		for _, it := range items {
			if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Summary) || !utf8.ValidString(it.Content) {
				t.Errorf("invalid UTF-8 stored: %q", it.Title)
			}
			if it.ID == "" || it.Key == "" {
				t.Errorf("item without identity: %+v", it)
			}
		}
	}
	return []hostileCase{
		{name: "hangs before the headers", slow: true, handler: hold, wantKind: "timeout", wantWords: "timed out after 1s"},
		{name: "drips the body a byte at a time", slow: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", rssType)
			drip(w, r)
		}, wantKind: "timeout", wantWords: "timed out after 1s"},
		{name: "endless body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", rssType)
			chunk := bytes.Repeat([]byte("<item><title>x</title></item>"), 1000)
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, wantKind: "too_large", wantWords: "larger than 1 MiB"},
		{name: "gzip bomb", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", rssType)
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipBomb())
		}, wantKind: "too_large", wantWords: "larger than 1 MiB"},
		{name: "50 MB feed with its length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", rssType)
			w.Header().Set("Content-Length", fmt.Sprint(50<<20))
			w.Write(bytes.Repeat([]byte(" "), 2<<20)) // the client gives up on the header alone
		}, wantKind: "too_large", wantWords: "larger than 1 MiB"},
		{name: "50 MB feed, chunked", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", rssType)
			chunk := []byte(rss(strings.Repeat("x|Title|https://m.example.org/x|,", 1)))
			for sent := 0; sent < 50<<20; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, wantKind: "too_large", wantWords: "larger than 1 MiB"},
		{name: "redirect loop", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/feed" {
				http.Redirect(w, r, "/other", http.StatusFound)
				return
			}
			http.Redirect(w, r, "/feed", http.StatusFound)
		}, wantKind: "redirects", wantWords: "redirect loop"},
		{name: "endless redirect chain", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
		}, wantKind: "redirects", wantWords: "too many redirects"},
		// The strict client refuses private addresses but lets the hostile server itself
		// through (fetch.Options.Exempt): the redirect is what the guard refuses.
		{name: "redirect to cloud metadata 169.254.169.254", strict: true, handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}, wantKind: "blocked_address", wantWords: "refused to connect to the private or local address 169.254.169.254"},
		{name: "redirect to 127.0.0.1", strict: true, handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/admin", http.StatusFound)
		}, wantKind: "blocked_address", wantWords: "refused to connect to the private or local address 127.0.0.1"},
		{name: "500", handler: status(500), wantKind: "http_5xx", wantWords: "HTTP 500 Internal Server Error",
			check: func(t *testing.T, st news.SourceState, res Result, _ []news.Item) {
				if st.Failures != 1 || !st.NextPoll.After(st.LastPoll.Add(29*time.Minute)) {
					t.Errorf("failures %d, next poll %s after last: want 1 and the interval", st.Failures, st.NextPoll.Sub(st.LastPoll))
				}
			}},
		{name: "503 with Retry-After seconds", handler: status(503, "Retry-After", "7200"), wantKind: "http_5xx", wantWords: "retry after 2h0m0s",
			check: func(t *testing.T, st news.SourceState, res Result, _ []news.Item) {
				// Counted from the answer, which came res.Duration after the poll began.
				if got := st.RetryAfter.Sub(st.LastPoll); got != 2*time.Hour+res.Duration || st.NextPoll.Before(st.RetryAfter) {
					t.Errorf("retry after %s, next poll %s: want 2h after the answer (%s after the poll began) and not before it", got, st.NextPoll, res.Duration)
				}
			}},
		{name: "429 with Retry-After date", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", time.Now().Add(3*time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
		}, wantKind: "http_429", wantWords: "HTTP 429 Too Many Requests (retry after",
			check: func(t *testing.T, st news.SourceState, res Result, _ []news.Item) {
				if got := st.RetryAfter.Sub(st.LastPoll); got < 2*time.Hour || st.NextPoll.Before(st.RetryAfter) {
					t.Errorf("retry after %s, next poll %s: want about 3h and not before it", got, st.NextPoll)
				}
			}},
		{name: "410 Gone", handler: status(410), wantKind: "http_410", wantWords: "gone for good; polling stopped", wantHealth: news.HealthDisabled,
			check: func(t *testing.T, st news.SourceState, res Result, _ []news.Item) {
				if st.NextPoll.Sub(st.LastPoll) < DisabledRecheck {
					t.Errorf("disabled source due again after %s", st.NextPoll.Sub(st.LastPoll))
				}
			}},
		{name: "404 once", handler: status(404), wantKind: "http_404", wantWords: "HTTP 404 Not Found"},
		{name: "HTML instead of a feed", handler: serveBody("text/html", "<!doctype html><html><body><h1>Welcome</h1><p>Hello.</p></body></html>"),
			wantKind: "not_feed", wantWords: "does not serve a feed"},
		{name: "empty 200", handler: serveBody(rssType, ""), wantKind: "not_feed"},
		{name: "binary garbage", handler: serveBody("application/octet-stream", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), wantKind: "not_feed"},
		{name: "truncated XML", handler: serveBody(rssType, goodFeed("trunc")[:400]), wantKind: "parse", wantWords: "the feed ends too early (truncated XML?)"},
		{name: "malformed JSON Feed", handler: serveBody("application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1",`), wantKind: "parse", wantWords: "unexpected end of JSON input"},
		{name: "billion laughs", handler: serveBody(rssType, `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><rss version="2.0"><channel><title>&lol4;</title><item><guid>1</guid><title>&lol4;</title></item></channel></rss>`),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				// Either refused or stored with the entity left unexpanded; never 10,000 "lol"s.
				for _, it := range items {
					if strings.Count(it.Title, "lol") > 100 {
						t.Errorf("entities expanded: %d bytes of title", len(it.Title))
					}
				}
			}, wantKind: "*"},
		{name: "wrong charset: latin-1 bytes in a UTF-8 document", handler: serveBody("application/rss+xml; charset=utf-8", rss("1|Caf\xe9 cr\xe8me|https://m.example.org/1|Mon, 02 Mar 2026 10:00:00 GMT")),
			check: fine},
		{name: "wrong charset: UTF-8 bytes labelled latin-1", handler: serveBody("application/rss+xml; charset=iso-8859-1", strings.Replace(rss("1|Café crème|https://m.example.org/1|Mon, 02 Mar 2026 10:00:00 GMT"), `encoding="utf-8"`, `encoding="iso-8859-1"`, 1)),
			check: fine},
		{name: "invalid UTF-8 sequences", handler: serveBody(rssType, rss("1|Bad \xff\xfe\xc3 bytes|https://m.example.org/1|Mon, 02 Mar 2026 10:00:00 GMT", "2|Also \xed\xa0\x80 bad|https://m.example.org/2|")),
			check: fine},
		{name: "100,000 items", handler: serveBody(rssType, bigFeed(100_000)),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				if res.Found != 100_000 || len(items) != 500 || items[0].Title != "Item 0" {
					t.Errorf("found %d, stored %d (first %q): want 100000 found and the newest 500 stored", res.Found, len(items), first(items))
				}
			}},
		{name: "duplicate GUIDs", handler: serveBody(rssType, rss(
			"same|One|https://m.example.org/1|Mon, 02 Mar 2026 10:00:00 GMT",
			"same|Two|https://m.example.org/2|Mon, 02 Mar 2026 09:00:00 GMT",
			"same|Three|https://m.example.org/3|Mon, 02 Mar 2026 08:00:00 GMT",
			"same|Three|https://m.example.org/3|Mon, 02 Mar 2026 08:00:00 GMT")),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				if len(items) != 3 || res.Duplicate != 1 {
					t.Errorf("stored %v, %d duplicates: want 3 distinct items and 1 duplicate", titles(items), res.Duplicate)
				}
			}},
		{name: "dates far in the future", handler: serveBody(rssType, rss("1|Future|https://m.example.org/1|Fri, 01 Jan 2300 00:00:00 GMT", "2|Now|https://m.example.org/2|Mon, 02 Mar 2026 10:00:00 GMT")),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				for _, it := range items {
					if it.Published.After(st.LastPoll.Add(time.Minute)) {
						t.Errorf("%q published %s, after the poll", it.Title, it.Published)
					}
				}
			}},
		{name: "dates in 1970", handler: serveBody(rssType, rss("1|Epoch|https://m.example.org/1|Thu, 01 Jan 1970 00:00:00 GMT", "2|Dated|https://m.example.org/2|Mon, 02 Mar 2026 10:00:00 GMT")),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				for _, it := range items {
					if it.Published.Year() < 1990 {
						t.Errorf("%q kept its 1970 date", it.Title)
					}
				}
			}},
		{name: "empty titles", handler: serveBody(rssType, rss("1||https://m.example.org/a-story|Mon, 02 Mar 2026 10:00:00 GMT", "2|   |https://m.example.org/b|Mon, 02 Mar 2026 09:00:00 GMT")),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				if len(items) != 2 {
					t.Errorf("stored %d items, want 2", len(items))
				}
			}},
		{name: "script and javascript: links in items", handler: serveBody(rssType, `<rss version="2.0"><channel><title>x</title><item><guid>1</guid><title>Hi&lt;script&gt;alert(1)&lt;/script&gt;</title><link>javascript:alert(1)</link><description>&lt;p onclick="x()"&gt;ok&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;</description></item></channel></rss>`),
			check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
				for _, it := range items {
					if strings.Contains(it.Content+it.Summary+it.Title, "<script") || strings.Contains(it.Content, "onclick") || strings.HasPrefix(it.Link, "javascript:") {
						t.Errorf("unsafe item stored: %+v", it)
					}
				}
			}},
		{name: "closes the connection without answering", handler: func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		}, wantKind: "connection"},
		{name: "huge headers", handler: func(w http.ResponseWriter, r *http.Request) {
			for i := range 40 {
				w.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("j", 8<<10))
			}
			w.Write([]byte(goodFeed("hdr")))
		}, wantKind: "too_large"},
		{name: "gzip announced, plain body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte(goodFeed("gz")))
		}, wantKind: "parse", wantWords: "gzip"},
		{name: "feed served as octet-stream", handler: serveBody("application/octet-stream", goodFeed("oct")), check: fine},
		{name: "permanent redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/feed" {
				http.Redirect(w, r, "/moved.xml", http.StatusMovedPermanently)
				return
			}
			serveBody(rssType, goodFeed("moved"))(w, r)
		}, check: func(t *testing.T, st news.SourceState, res Result, items []news.Item) {
			if !strings.HasSuffix(st.Redirect, "/moved.xml") || len(items) != 3 {
				t.Errorf("redirect %q, %d items: want the new address recorded and 3 items", st.Redirect, len(items))
			}
		}},
		{name: "robots.txt disallows", robots: "User-agent: *\nDisallow: /\n", handler: serveBody(rssType, goodFeed("robots")), wantKind: "robots"},
		{name: "page whose news list is gone", page: &config.Selectors{Item: "div.news-item", Title: "h2", Link: "a"},
			handler: serveBody("text/html", "<html><body><main><p>We moved things around.</p></main></body></html>"), wantKind: "selectors", wantWords: "selectors no longer match"},
	}
}

func titles(items []news.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

func first(items []news.Item) string {
	if len(items) == 0 {
		return ""
	}
	return items[0].Title
}

// TestHostileServers polls, in one PollAll, a source per misbehaving server and three
// well-behaved sources; each hostile source must end with a clear error or a sane
// result in its recorded state, and the good sources must be stored as if alone.
func TestHostileServers(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 25 {
		t.Fatalf("only %d kinds of misbehaviour", len(cases))
	}
	cfg := testConfig(t, "{interval: 30m, timeout: 20s, max_body: 1MiB}")
	db := openBolt(t)
	opts := fetch.Options{Timeout: 20 * time.Second, MaxBody: 1 << 20, PerHost: -1, RespectRobots: true}
	lax := opts
	lax.AllowPrivate = true
	// The 100,000-item feed needs more room than the 1 MiB cap the others are held to;
	// the timeout cases a short deadline (the others a long one, for slow race builds).
	big, short := lax, lax
	big.MaxBody = 16 << 20
	short.Timeout = time.Second
	bigFetch, shortFetch := fetch.New(big), fetch.New(short)
	rf := &routeFetcher{def: fetch.New(lax), routes: map[string]Fetcher{}}

	var jobs []Job
	hits := make([]atomic.Int32, len(cases)) // requests each hostile server answered
	for i, c := range cases {
		robots := c.robots
		h := c.handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				if robots == "" {
					http.NotFound(w, r)
					return
				}
				w.Write([]byte(robots))
				return
			}
			hits[i].Add(1)
			h(w, r)
		}))
		t.Cleanup(srv.Close)
		u := srv.URL + "/feed"
		switch {
		case c.strict:
			strict := opts
			strict.Exempt = []netip.AddrPort{netip.MustParseAddrPort(srv.Listener.Addr().String())}
			rf.routes[u] = fetch.New(strict)
		case c.slow:
			rf.routes[u] = shortFetch
		case strings.HasPrefix(c.name, "100,000"):
			rf.routes[u] = bigFetch
		}
		id := fmt.Sprintf("h%02d", i)
		if c.page != nil {
			jobs = append(jobs, pageJob(id, u, c.page))
		} else {
			jobs = append(jobs, feedJob(id, u))
		}
	}
	var good []Job
	for _, name := range []string{"good1", "good2", "good3"} {
		srv := httptest.NewServer(serveBody("application/rss+xml", goodFeed(name)))
		t.Cleanup(srv.Close)
		good = append(good, feedJob(name, srv.URL+"/feed.xml"))
	}
	// Good sources go first, middle and last, among the hostile ones.
	all := append([]Job{good[0]}, jobs[:len(jobs)/2]...)
	all = append(all, good[1])
	all = append(all, jobs[len(jobs)/2:]...)
	all = append(all, good[2])

	ref := newTestRefresher(t, db, cfg, rf)
	results := PollAll(context.Background(), ref, all, len(all), nil)
	byURL := map[string]Result{}
	for _, r := range results {
		byURL[r.URL] = r
	}

	for _, g := range good {
		st, _ := sourceState(t, db, g.URL())
		items := storedItems(t, db, g.Member.ID)
		if len(items) != 3 || st.Health != news.HealthOK || byURL[g.URL()].New != 3 {
			t.Errorf("good source %s: %d items, health %q, %d new: want 3, ok, 3 (err %v)", g.Member.ID, len(items), st.Health, byURL[g.URL()].New, byURL[g.URL()].Err)
		}
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := jobs[i]
			res := byURL[j.URL()]
			st, ok := sourceState(t, db, j.URL())
			if !ok {
				t.Fatalf("no state recorded (result err %v)", res.Err)
			}
			items := storedItems(t, db, j.Member.ID)
			want := c.wantHealth
			switch {
			case c.wantKind == "*": // either outcome is acceptable; check decides
			case c.wantKind == "":
				if res.Err != nil || st.Error != "" {
					t.Errorf("failed: %v (recorded %q)", res.Err, st.Error)
				}
				if want == "" {
					want = news.HealthOK
				}
			default:
				if st.ErrorKind != c.wantKind || !strings.Contains(st.Error, c.wantWords) {
					t.Errorf("recorded %s %q; want %s with %q (err %v)", st.ErrorKind, st.Error, c.wantKind, c.wantWords, res.Err)
				}
				if len(items) != 0 {
					t.Errorf("stored %d items from a failed poll", len(items))
				}
				if want == "" {
					want = news.HealthFailing
				}
				if len(st.History) != 1 || st.History[0].Error != st.Error {
					t.Errorf("history %+v does not carry the error", st.History)
				}
			}
			if want != "" && st.Health != want {
				t.Errorf("health %q, want %q", st.Health, want)
			}
			if c.check != nil {
				c.check(t, st, res, items)
			}
			if c.strict && hits[i].Load() == 0 {
				t.Errorf("the hostile server was never reached: the guard refused it, not where it redirects")
			}
		})
	}
}

// goodFeedAfter serves the good feed of member "good", answering only once after is
// closed (so that another refresh is known to be where a test wants it first).
func goodFeedAfter(t *testing.T, after <-chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-after:
		case <-r.Context().Done():
			return
		}
		serveBody("application/rss+xml", goodFeed("good"))(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSlowLinkedURLsHoldNoProcessingSlot: a source whose page answers at once but whose
// advertised feeds, WordPress API or article pages are slow must not hold a processing
// slot while it waits for them. With one slot in all, the good feed polled beside it
// answers only once the slow URL is asked (so the hostile refresh is already waiting
// on it), and the slow URL answers only once the good feed is stored, or gives up at
// the fetch timeout: it must have answered.
func TestSlowLinkedURLsHoldNoProcessingSlot(t *testing.T) {
	var list strings.Builder
	for i := range 3 {
		fmt.Fprintf(&list, `<div class="news-item"><h2><a href="/article/%d">Article number %d about things</a></h2><p>2 March 2026</p></div>`, i, i)
	}
	homepage := func(u string) Job {
		return Job{Member: &config.Member{ID: "hostile", Name: "hostile", Languages: []string{"en"}}, Source: config.Source{Homepage: u}}
	}
	tests := []struct {
		name string
		head string // extra <head> content of the page
		slow string // the path prefix that is slow; other paths answer at once
		job  func(u string) Job
	}{
		{"article pages (enrich)", "", "/article/", func(u string) Job {
			return pageJob("hostile", u, &config.Selectors{Item: "div.news-item", Title: "h2", Link: "h2 a"})
		}},
		{"advertised feeds (discovery)", `<link rel="alternate" type="application/rss+xml" href="/feed1.xml"><link rel="alternate" type="application/atom+xml" href="/feed2.xml">`, "/feed", homepage},
		{"WordPress API", `<link rel="https://api.w.org/" href="/wp-json/">`, "/wp-json/", homepage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := "<html><head><title>News</title>" + tt.head + "</head><body>" + list.String() + "</body></html>"
			slowAsked, goodStored := make(chan struct{}), make(chan struct{})
			var askOnce, storeOnce sync.Once
			var answered atomic.Bool
			hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/news":
					serveBody("text/html", page)(w, r)
				case strings.HasPrefix(r.URL.Path, tt.slow):
					askOnce.Do(func() { close(slowAsked) })
					select {
					case <-goodStored:
						answered.Store(true)
						http.NotFound(w, r)
					case <-r.Context().Done():
					}
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(hostile.Close)
			good := goodFeedAfter(t, slowAsked)
			db := openBolt(t)
			ref := newTestRefresher(t, db, testConfig(t, ""), fetch.New(fetch.Options{Timeout: 3 * time.Second, AllowPrivate: true, PerHost: -1}))
			ref.Processing = 1
			goodURL := good.URL + "/feed.xml"
			jobs := []Job{tt.job(hostile.URL + "/news"), feedJob("good", goodURL)}
			res := PollAll(context.Background(), ref, jobs, len(jobs), func(_, _, _ int, r Result) {
				if r.URL == goodURL {
					storeOnce.Do(func() { close(goodStored) })
				}
			})
			if res[1].Err != nil || res[1].New != 3 {
				t.Fatalf("good source: %d new (err %v), want 3", res[1].New, res[1].Err)
			}
			if !answered.Load() {
				t.Errorf("the slow URL gave up before the good source was stored: the hostile refresh held the processing slot while waiting for it (%s, %v)", res[0].Duration, res[0].Err)
			}
		})
	}
}

// TestLinkedURLsShareOneBudget: the requests a refresh makes besides its source's own
// share one fetch timeout. A page whose article pages each hang until the timeout has
// the first asked, and no other once the budget is spent: its items are stored without
// what the article pages would have added.
func TestLinkedURLsShareOneBudget(t *testing.T) {
	var list strings.Builder
	for i := range 3 {
		fmt.Fprintf(&list, `<div class="news-item"><h2><a href="/article/%d">Article number %d about things</a></h2></div>`, i, i)
	}
	var articles atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/news":
			serveBody("text/html", "<html><body>"+list.String()+"</body></html>")(w, r)
		case strings.HasPrefix(r.URL.Path, "/article/"):
			articles.Add(1)
			hold(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	db := openBolt(t)
	const timeout = 500 * time.Millisecond
	ref := newTestRefresher(t, db, testConfig(t, "{interval: 30m, timeout: 500ms}"), fetch.New(fetch.Options{Timeout: timeout, AllowPrivate: true, PerHost: -1}))
	res := ref.Refresh(context.Background(), pageJob("m", srv.URL+"/news", &config.Selectors{Item: "div.news-item", Title: "h2", Link: "h2 a"}))
	if res.Err != nil || res.New != 3 {
		t.Fatalf("%d new, err %v; want the 3 items stored", res.New, res.Err)
	}
	if n := articles.Load(); n != 1 {
		t.Errorf("%d article pages asked, want 1: the others came after the budget was spent", n)
	}
}

// slowWriteStore holds the store for hold while it writes member's items.
type slowWriteStore struct {
	Store
	member string
	hold   time.Duration
}

func (s *slowWriteStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	if len(items) > 0 && items[0].Member == s.member {
		time.Sleep(s.hold)
	}
	return s.Store.Upsert(ctx, items)
}

// TestLinkedBudgetLeavesOutTheSlotWait: the budget for linked URLs counts the time spent
// on them, not a wait for a processing slot between them. A homepage's advertised feed
// is asked (and is gone); meanwhile a feed takes the one slot and holds it longer than
// the whole budget; the homepage's items, found on the page, still get their article
// pages asked.
func TestLinkedBudgetLeavesOutTheSlotWait(t *testing.T) {
	var body strings.Builder
	body.WriteString(`<html><head><title>News</title><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><main>`)
	for i := range 3 {
		fmt.Fprintf(&body, `<article><h2><a href="/article/%d">Article number %d about things that happened</a></h2><p>Some words on what happened in number %d.</p></article>`, i, i, i)
	}
	body.WriteString(`</main></body></html>`)
	feedAsked := make(chan struct{})
	var askOnce sync.Once
	var articles atomic.Int32
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			serveBody("text/html", body.String())(w, r)
		case r.URL.Path == "/feed.xml":
			askOnce.Do(func() { close(feedAsked) })
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/article/"):
			articles.Add(1)
			serveBody("text/html", "<html><body><p>The article.</p></body></html>")(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(home.Close)
	good := goodFeedAfter(t, feedAsked)
	st := &slowWriteStore{Store: openBolt(t), member: "good", hold: 800 * time.Millisecond}
	ref := newTestRefresher(t, st, testConfig(t, "{interval: 30m, timeout: 500ms}"), fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1}))
	ref.Processing = 1
	homepage := Job{Member: &config.Member{ID: "hp", Name: "hp", Languages: []string{"en"}}, Source: config.Source{Homepage: home.URL + "/"}}
	res := PollAll(context.Background(), ref, []Job{homepage, feedJob("good", good.URL+"/feed.xml")}, 2, nil)
	if res[0].Err != nil || res[0].New != 3 || res[1].New != 3 {
		t.Fatalf("homepage %d new (%v, via %q), feed %d new (%v); want 3 each", res[0].New, res[0].Err, res[0].Via, res[1].New, res[1].Err)
	}
	if n := articles.Load(); n != 3 {
		t.Errorf("%d article pages asked, want 3: the wait for the slot was counted against the budget", n)
	}
}

// bodyCounter is a Fetcher that counts the bodies being read at once: from the moment
// a 2xx answer's headers are in and Ready (its caller's, when set) has let it go on,
// to the end of the Get.
type bodyCounter struct {
	Fetcher
	active, most atomic.Int32
}

func (f *bodyCounter) Get(ctx context.Context, req fetch.Request) (*fetch.Response, error) {
	inner, counted := req.Ready, false
	req.Ready = func(ctx context.Context) error {
		if inner != nil {
			if err := inner(ctx); err != nil {
				return err
			}
		}
		if !counted {
			counted = true
			n := f.active.Add(1)
			for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
			}
		}
		return nil
	}
	resp, err := f.Fetcher.Get(ctx, req)
	if counted {
		f.active.Add(-1)
	}
	return resp, err
}

// TestLinkedBodiesTakeReadAheadSlots: refreshes fetching linked URLs without a processing
// slot read those bodies within the read-ahead slots, like their sources' own: with one
// read-ahead slot, three pages whose article pages answer slowly never have two bodies
// read at once.
func TestLinkedBodiesTakeReadAheadSlots(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/article/") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond) // the body comes slowly
			io.WriteString(w, "<html><body><p>The article.</p></body></html>")
			return
		}
		serveBody("text/html", fmt.Sprintf(`<html><body><div class="news-item"><h2><a href="/article%s">Article of page %s about things</a></h2></div></body></html>`, r.URL.Path, r.URL.Path))(w, r)
	}))
	t.Cleanup(srv.Close)
	f := &bodyCounter{Fetcher: fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1})}
	ref := newTestRefresher(t, openBolt(t), testConfig(t, ""), f)
	ref.Processing, ref.ReadAhead = 1, 1
	sel := &config.Selectors{Item: "div.news-item", Title: "h2", Link: "h2 a"}
	jobs := []Job{pageJob("a", srv.URL+"/a", sel), pageJob("b", srv.URL+"/b", sel), pageJob("c", srv.URL+"/c", sel)}
	for _, res := range PollAll(context.Background(), ref, jobs, len(jobs), nil) {
		if res.Err != nil || res.New != 1 {
			t.Fatalf("%s: %d new, %v", res.URL, res.New, res.Err)
		}
	}
	if n := f.most.Load(); n != 1 {
		t.Errorf("%d bodies read at once, want 1 (one read-ahead slot)", n)
	}
}

// TestRepeated404Disables: a source is disabled by the third 404 in a row, not before,
// and a success in between resets the count.
func TestRepeated404Disables(t *testing.T) {
	var code int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := code
		mu.Unlock()
		if c != 200 {
			w.WriteHeader(c)
			return
		}
		w.Write([]byte(goodFeed("f")))
	}))
	defer srv.Close()
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed")
	steps := []struct {
		code int
		want news.Health
	}{{404, news.HealthFailing}, {404, news.HealthFailing}, {200, news.HealthOK}, {404, news.HealthFailing}, {404, news.HealthFailing}, {404, news.HealthDisabled}, {404, news.HealthDisabled}, {200, news.HealthOK}}
	for i, s := range steps {
		mu.Lock()
		code = s.code
		mu.Unlock()
		res := ref.Refresh(context.Background(), j)
		st, _ := sourceState(t, db, j.URL())
		if st.Health != s.want || res.Health != s.want {
			t.Fatalf("step %d (%d): health %q, want %q (%s)", i, s.code, st.Health, s.want, st.Error)
		}
		if s.want == news.HealthDisabled && !strings.Contains(st.Error, "not found 3 times in a row") && !strings.Contains(st.Error, "times in a row") {
			t.Errorf("step %d: disabled without the reason: %q", i, st.Error)
		}
	}
}

// TestStrictClientRefusesLoopback: a refused dial never reaches the server (the strict
// cases above exempt their own server, so that its redirect is what is refused).
func TestStrictClientRefusesLoopback(t *testing.T) {
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer srv.Close()
	_, err := fetch.New(fetch.Options{}).Get(context.Background(), fetch.Request{URL: srv.URL})
	if kind, _ := Describe(err); kind != "blocked_address" || hit.Load() {
		t.Fatalf("kind %q, server reached %v", kind, hit.Load())
	}
}
