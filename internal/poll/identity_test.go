package poll

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
)

// A member's news page on a Java server (Tomcat, Liferay) that writes the servlet's
// session ID into every link of a page served to a client without its session cookie
// (";jsessionid=…"): the poller keeps no cookies, so every poll brings each link with
// another session ID. Its items keep their IDs, and each is stored once.
func TestSessionIDInLinksKeepsItems(t *testing.T) {
	var session atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := fmt.Sprintf("%032X", 0xA11CE+session.Add(1))
		var b strings.Builder
		b.WriteString(`<!doctype html><html lang="en"><body><div class="news">`)
		for i, title := range []string{"ISS PAC meets in Athens", "Kafala evaluation mission in Morocco"} {
			fmt.Fprintf(&b, `<div class="entry"><h2><a href="/web/guest/news/%d;jsessionid=%s">%s</a></h2>`+
				`<time datetime="2026-03-0%dT10:00:00Z">%d March 2026</time><p>Some words about it.</p></div>`,
				i+1, sid, title, i+1, i+1)
		}
		b.WriteString(`</div></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Set-Cookie", "JSESSIONID="+sid+"; Path=/; HttpOnly")
		w.Write([]byte(b.String()))
	}))
	defer srv.Close()
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := pageJob("m", srv.URL+"/web/guest/news", &config.Selectors{Item: "div.entry", Title: "h2", Link: "h2 a", Date: "time", Summary: "p"})
	first := r.Refresh(context.Background(), j)
	if first.Err != nil || first.New != 2 {
		t.Fatalf("first poll: %+v", first)
	}
	ids := map[string]bool{}
	for _, it := range storedItems(t, st, "m") {
		ids[it.ID] = true
	}
	second := r.Refresh(context.Background(), j)
	if second.Err != nil || second.New != 0 {
		t.Errorf("second poll, the links with another session ID: %d new items, want 0 (err %v)", second.New, second.Err)
	}
	got := storedItems(t, st, "m")
	if len(got) != 2 {
		t.Errorf("stored %d items after two polls, want 2", len(got))
	}
	for _, it := range got {
		if !ids[it.ID] {
			t.Errorf("item %q (%s) has a new ID %s", it.Title, it.Link, it.ID)
		}
	}
}

// A member's feed with no GUIDs whose every item links to the member's homepage (some
// small CMSs and feed bridges do that): each item is kept, not collapsed into the
// first; a re-poll adds nothing; and an item stored under the link alone, before a
// second item came with the same link, keeps its ID when that second item arrives.
func TestItemsSharingALinkAreKept(t *testing.T) {
	site, set := changingFeed(t, rss("|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT"))
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", site+"/feed.xml")
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 1 {
		t.Fatalf("first poll: %+v", res)
	}
	report := storedItems(t, st, "m")[0].ID
	set(rss(
		"|Kafala mission in Morocco|https://m.example.org/|Wed, 04 Mar 2026 10:00:00 GMT",
		"|New board elected|https://m.example.org/|Tue, 03 Mar 2026 10:00:00 GMT",
		"|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT",
	))
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 2 || res.Duplicate != 0 {
		t.Errorf("second poll, two more items with the same link: %d new, %d duplicates (err %v); want 2, 0", res.New, res.Duplicate, res.Err)
	}
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 0 {
		t.Errorf("third poll, the same feed: %d new (err %v), want 0", res.New, res.Err)
	}
	got := map[string]string{}
	for _, it := range storedItems(t, st, "m") {
		got[it.Title] = it.ID
	}
	if len(got) != 3 || got["Annual report 2025"] != report {
		t.Errorf("stored %v; want 3 items, the annual report still %s", got, report)
	}
}

// The dashboard's "moved permanently: update feeds.yaml" note follows the source: kept
// while the old address still redirects (its new one failing meanwhile), dropped once the
// old address answers by itself, even with an error.
func TestRedirectNoteFollowsFailures(t *testing.T) {
	var mode atomic.Int32 // 0: moved, new address fine; 1: moved, new address gone; 2: no redirect, gone
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/feed.xml" && mode.Load() < 2:
			http.Redirect(w, r, "/moved.xml", http.StatusMovedPermanently)
		case r.URL.Path == "/moved.xml" && mode.Load() == 0:
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(goodFeed("m")))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed.xml")
	for i, want := range []string{srv.URL + "/moved.xml", srv.URL + "/moved.xml", ""} {
		mode.Store(int32(i))
		res := r.Refresh(context.Background(), j)
		if s, _ := sourceState(t, st, j.URL()); s.Redirect != want || res.Redirect != want {
			t.Errorf("poll %d (err %v): redirect %q (result %q), want %q", i+1, res.Err, s.Redirect, res.Redirect, want)
		}
	}
}

// A feed moved permanently whose new address answers the poll's conditional request
// with 304 (the same file behind an http→https or a /feed → /feed/ redirect, its ETag
// unchanged) is noted as moved as well: a quiet feed would otherwise never show
// "update feeds.yaml" until it changed. The note goes once the old address answers 304
// by itself again.
func TestRedirectNotedOnNotModified(t *testing.T) {
	var moved atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed.xml" && moved.Load() {
			http.Redirect(w, r, "/moved.xml", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("m")))
	}))
	defer srv.Close()
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed.xml")
	for i, step := range []struct {
		moved bool
		want  string
	}{{false, ""}, {true, srv.URL + "/moved.xml"}, {true, srv.URL + "/moved.xml"}, {false, ""}} {
		moved.Store(step.moved)
		res := r.Refresh(context.Background(), j)
		if res.Err != nil || (i > 0 && !res.NotMod) {
			t.Fatalf("poll %d: err %v, not modified %v: want a 304 after the first", i+1, res.Err, res.NotMod)
		}
		if s, _ := sourceState(t, st, j.URL()); s.Redirect != step.want || res.Redirect != step.want {
			t.Errorf("poll %d: redirect %q (result %q), want %q", i+1, s.Redirect, res.Redirect, step.want)
		}
	}
}

// When a later poll lists a single item with a link that items stored earlier shared
// (the others left the feed's window, or got links of their own), that item takes the
// stored item of its own title, not whichever one the store's link index names: the
// annual report was overwritten by the Kafala mission again.
func TestItemSharingALinkNoLongerShared(t *testing.T) {
	site, set := changingFeed(t, rss(
		"|Kafala mission in Morocco|https://m.example.org/|Wed, 04 Mar 2026 10:00:00 GMT",
		"|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT",
	))
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", site+"/feed.xml")
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 2 {
		t.Fatalf("first poll: %+v", res)
	}
	ids := func() map[string][]string {
		out := map[string][]string{}
		for _, it := range storedItems(t, st, "m") {
			out[it.Title] = append(out[it.Title], it.ID)
		}
		return out
	}
	before := ids()
	for _, lone := range []string{
		"|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT",
		"|Kafala mission in Morocco|https://m.example.org/|Wed, 04 Mar 2026 10:00:00 GMT",
		"|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT",
	} {
		set(rss("|New board elected|https://m.example.org/board|Thu, 05 Mar 2026 10:00:00 GMT", lone))
		if res := r.Refresh(context.Background(), j); res.Err != nil {
			t.Fatal(res.Err)
		}
		got := ids()
		if len(got) != 3 || len(got["Annual report 2025"]) != 1 || got["Annual report 2025"][0] != before["Annual report 2025"][0] ||
			len(got["Kafala mission in Morocco"]) != 1 || got["Kafala mission in Morocco"][0] != before["Kafala mission in Morocco"][0] {
			t.Errorf("the feed now listing %q alone with the shared link: stored %v; want the two items as before (%v) and the new one", lone, got, before)
		}
	}
}

// An item stored alone under its link, then joined by another with the same link: when
// the other is later listed alone, it is not taken for the first (whose stored key is
// the link alone), nor the first for it when that comes back.
func TestItemSharingALinkListedAloneLater(t *testing.T) {
	report := "|Annual report 2025|https://m.example.org/|Mon, 02 Mar 2026 10:00:00 GMT"
	mission := "|Kafala mission in Morocco|https://m.example.org/|Wed, 04 Mar 2026 10:00:00 GMT"
	board := "|New board elected|https://m.example.org/board|Thu, 05 Mar 2026 10:00:00 GMT"
	site, set := changingFeed(t, "")
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", site+"/feed.xml")
	ids := map[string]string{}
	for i, feed := range []string{rss(report), rss(mission, report), rss(board, mission), rss(board, report)} {
		set(feed)
		if res := r.Refresh(context.Background(), j); res.Err != nil {
			t.Fatalf("poll %d: %v", i+1, res.Err)
		}
		titles := map[string]int{}
		for _, it := range storedItems(t, st, "m") {
			titles[it.Title]++
			if id, ok := ids[it.Title]; ok && id != it.ID {
				t.Errorf("poll %d: %q is %s, was %s", i+1, it.Title, it.ID, id)
			}
			ids[it.Title] = it.ID
		}
		for title, n := range titles {
			if n != 1 {
				t.Errorf("poll %d: %q stored %d times (%v)", i+1, title, n, titles)
			}
		}
		if i >= 1 && titles["Annual report 2025"] != 1 {
			t.Errorf("poll %d: the annual report is gone (%v)", i+1, titles)
		}
	}
}
