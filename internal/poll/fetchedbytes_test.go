package poll

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
)

// TestResultCountsEveryBodyFetched: a refresh's Bytes (networkfeed_fetched_bytes_total)
// counts the body of every response it read — the source, the feed a page advertises,
// the article pages it reads for dates — not only the last answer of the source's own
// address. It counted the discovered feed alone, or the page alone, so a page source's
// article pages never showed in the metric (found by a helper's metrics audit).
func TestResultCountsEveryBodyFetched(t *testing.T) {
	var (
		mu   sync.Mutex
		sent int
	)
	article := `<html><head><meta property="og:description" content="About it."><meta property="og:image" content="/i.png"><meta property="article:published_time" content="2026-03-02T10:00:00Z"></head><body><p>Text</p></body></html>`
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, ctype, body string) {
		mu.Lock()
		sent += len(body)
		mu.Unlock()
		w.Header().Set("Content-Type", ctype)
		fmt.Fprint(w, body)
	}
	mux.HandleFunc("/home/", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/html", `<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><p>Welcome</p></body></html>`)
	})
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		write(w, "application/rss+xml", goodFeed("f"))
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/html", `<html><body><div class="item"><h2><a href="/a/1">First news</a></h2></div><div class="item"><h2><a href="/a/2">Second news</a></h2></div></body></html>`)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) { write(w, "text/html", article) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name string
		job  Job
		hits int // responses the refresh reads
	}{
		{"discovered feed", Job{Member: &config.Member{ID: "m", Name: "M", Languages: []string{"en"}}, Source: config.Source{Page: srv.URL + "/home/"}}, 2},
		{"article pages", pageJob("m", srv.URL+"/news/", &config.Selectors{Item: "div.item", Title: "h2", Link: "h2 a"}), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			sent = 0
			mu.Unlock()
			r := newTestRefresher(t, openBolt(t), testConfig(t, ""), nil)
			res := r.Refresh(context.Background(), tc.job)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Bytes != sent || sent == 0 {
				t.Errorf("Bytes %d, want the %d bytes of the %d bodies the site sent (via %s)", res.Bytes, sent, tc.hits, res.Via)
			}
		})
	}
}
