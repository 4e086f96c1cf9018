package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// testConfig parses a minimal config with the given fetch and retention YAML.
func testConfig(t testing.TB, fetchYAML string) *config.Config {
	t.Helper()
	if fetchYAML == "" {
		fetchYAML = "{interval: 30m}"
	}
	cfg, err := config.Parse("test.yml", []byte("fetch: "+fetchYAML+"\nmembers: [{id: m, name: M, homepage: \"https://m.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openBolt opens a bolt store in a temporary directory, closed when the test ends.
func openBolt(t testing.TB) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newTestRefresher builds a Refresher over a real fetch client that may reach loopback.
func newTestRefresher(t testing.TB, st Store, cfg *config.Config, f Fetcher) *Refresher {
	t.Helper()
	if f == nil {
		f = fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1})
	}
	return &Refresher{Fetch: f, Store: st, Clean: clean.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: time.Now, Config: func() *config.Config { return cfg }}
}

// feedJob is a feed source of member id at u.
func feedJob(id, u string) Job {
	return Job{Member: &config.Member{ID: id, Name: id, Languages: []string{"en"}}, Source: config.Source{Feed: u}}
}

// pageJob is a page source with selectors.
func pageJob(id, u string, sel *config.Selectors) Job {
	return Job{Member: &config.Member{ID: id, Name: id, Languages: []string{"en"}}, Source: config.Source{Page: u, Select: sel}}
}

// rss renders an RSS 2.0 feed; each item is "guid|title|link|pubDate" (empty parts left out).
func rss(items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><link>https://m.example.org/</link>`)
	for _, it := range items {
		p := strings.SplitN(it, "|", 4)
		for len(p) < 4 {
			p = append(p, "")
		}
		b.WriteString("<item>")
		if p[0] != "" {
			fmt.Fprintf(&b, "<guid isPermaLink=\"false\">%s</guid>", p[0])
		}
		fmt.Fprintf(&b, "<title>%s</title>", p[1])
		if p[2] != "" {
			fmt.Fprintf(&b, "<link>%s</link>", p[2])
		}
		if p[3] != "" {
			fmt.Fprintf(&b, "<pubDate>%s</pubDate>", p[3])
		}
		b.WriteString("<description>Some words about it.</description></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// goodFeed is a plain, valid feed of three dated items.
func goodFeed(prefix string) string {
	return rss(
		prefix+"-1|First "+prefix+"|https://m.example.org/"+prefix+"/1|Mon, 02 Mar 2026 10:00:00 GMT",
		prefix+"-2|Second "+prefix+"|https://m.example.org/"+prefix+"/2|Sun, 01 Mar 2026 10:00:00 GMT",
		prefix+"-3|Third "+prefix+"|https://m.example.org/"+prefix+"/3|Sat, 28 Feb 2026 10:00:00 GMT",
	)
}

// storedItems returns member's items in the store.
func storedItems(t testing.TB, st *boltstore.Store, member string) []news.Item {
	t.Helper()
	items, err := st.Items(context.Background(), news.Query{Members: []string{member}, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// sourceState returns the recorded state of u, or the zero state when none was recorded.
func sourceState(t testing.TB, st Store, u string) (news.SourceState, bool) {
	t.Helper()
	s, err := st.Source(context.Background(), u)
	if errors.Is(err, store.ErrNotFound) {
		return news.SourceState{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

// changingFeed serves an RSS feed at URL+"/feed.xml" whose body is what set was last
// given (first).
func changingFeed(t testing.TB, first string) (url string, set func(string)) {
	t.Helper()
	var body atomic.Value
	body.Store(first)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(body.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(s string) { body.Store(s) }
}
