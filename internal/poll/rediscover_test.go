package poll

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// TestDiscoveredFeedReplaced: a member's page once advertised a feed, which its
// refreshes then read directly; after a redesign that address answers with a web page
// (a redirect to the homepage) or 404, and the page advertises a new feed. The refresh
// that finds the old feed gone goes back to the page and reads the new feed: a
// redirect to a web page used to leave the source failing with "not a feed" for good,
// and a 404 cost a failed poll (and its alerts) before the page was read again.
func TestDiscoveredFeedReplaced(t *testing.T) {
	for _, tt := range []struct {
		name string
		gone func(w http.ResponseWriter, r *http.Request)
	}{
		{"redirected to the homepage", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/news/", http.StatusFound) }},
		{"404", http.NotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var redesigned atomic.Bool
			mux := http.NewServeMux()
			mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
				feed := "/old-feed.xml"
				if redesigned.Load() {
					feed = "/new/rss"
				}
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html lang="en"><head><link rel="alternate" type="application/rss+xml" href="%s"></head><body><h1>News</h1></body></html>`, feed)
			})
			mux.HandleFunc("/old-feed.xml", func(w http.ResponseWriter, r *http.Request) {
				if redesigned.Load() {
					tt.gone(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, goodFeed("old"))
			})
			mux.HandleFunc("/new/rss", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, goodFeed("new"))
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			db := openBolt(t)
			ref := newTestRefresher(t, db, testConfig(t, ""), nil)
			j := Job{Member: &config.Member{ID: "m", Name: "M", Languages: []string{"en"}}, Source: config.Source{Page: srv.URL + "/news/"}}

			if r := ref.Refresh(t.Context(), j); r.Err != nil || r.New != 3 {
				t.Fatalf("first poll: %+v", r)
			}
			redesigned.Store(true)
			r := ref.Refresh(t.Context(), j)
			st, _ := sourceState(t, db, j.URL())
			if r.Err != nil || r.New != 3 || !strings.HasSuffix(st.FeedURL, "/new/rss") || st.Health != news.HealthOK {
				t.Fatalf("poll after the redesign: err %v, %d new, feed url %q, health %q; want the new feed's 3 items", r.Err, r.New, st.FeedURL, st.Health)
			}
		})
	}
}
