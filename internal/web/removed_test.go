package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// A member that left the network: once the config no longer lists it, its stored items
// are gone from the feeds, the river, its search, the embedded list and the member
// pages, at once; pages stay full, and a story it published first is shown from the
// copy of a member that stays, without it in its "also published by". A source removed
// from a member that stays leaves its items shown: they are the member's news.
func TestRemovedSourcesNotShown(t *testing.T) {
	const gone = "https://gone.example.org/feed/"
	const oldCH = "https://ch.example.org/old.xml"
	before := feedCfg(t,
		`sources: [{feed: "https://ch.example.org/rss.xml"}`, `sources: [{feed: "`+oldCH+`"}, {feed: "https://ch.example.org/rss.xml"}`,
		`  - {id: us,`, `  - {id: gone, name: ISS Gone, country: GB, region: Europe, languages: [en], sources: [{feed: "`+gone+`"}]}
  - {id: us,`)
	after := feedCfg(t)

	items := filterItems()
	for i := 1; i <= 4; i++ {
		it := mk(fmt.Sprintf("g%d", i), "au", "en", 12+i, fmt.Sprintf("Gone news %d", i))
		it.Member, it.Country, it.Region, it.Source = "gone", "GB", "Europe", gone
		items = append(items, it)
	}
	old := mk("c-old", "ch", "en", 13, "Old Swiss feed news")
	old.Source = oldCH
	items = append(items, old)
	// Story 7: gone told it first, au later. Story 8: au first, gone later.
	story := func(m string, n, s, h int) news.Item {
		it := storetest.Story(m, n, s)
		it.Country, it.Region, it.Source = testMembers[m].country, testMembers[m].region, testMembers[m].source
		if m == "gone" {
			it.Country, it.Region, it.Source = "GB", "Europe", gone
		}
		it.Published = t0.Add(time.Duration(h) * time.Hour)
		it.Updated, it.FirstSeen = it.Published, it.Published
		return it
	}
	goneFirst, auLater := story("gone", 1, 7, 0), story("au", 2, 7, 6)
	auFirst, goneLater := story("au", 3, 8, 2), story("gone", 4, 8, 3)

	st, err := boltstore.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, batch := range [][]news.Item{items, {goneFirst}, {auLater}, {auFirst}, {goneLater}} {
		if _, err := st.Upsert(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if it, err := st.Item(t.Context(), auFirst.ID); err != nil || !slices.Equal(it.AlsoBy, []string{"gone"}) {
		t.Fatalf("au's story 8: also by %v (%v), want gone", it.AlsoBy, err)
	}
	var cfg atomic.Pointer[config.Config]
	cfg.Store(before)
	ws, err := New(Options{Store: st, Config: cfg.Load, Log: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	f := &feedFixture{srv: srv, store: st, web: ws}

	body := func(path string) string {
		t.Helper()
		resp, b := f.get(t, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if b := body("/feed.atom?limit=3"); !strings.Contains(b, "Gone news 4") {
		t.Fatalf("before the reload, the feed does not show the member's items:\n%s", b)
	}
	var got []string
	cfg.Store(after) // a reload

	// Every page full until the last, nothing removed on any, every listed item once.

	next := "/feed.atom?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		p := parseFeed(t, "atom", []byte(body(next)))
		if p.Next != "" && len(p.IDs) != 3 {
			t.Errorf("%s: a page of %d items before the last, want 3", next, len(p.IDs))
		}
		got = append(got, p.IDs...)
		next = p.Next
	}
	want := []string{"c-old", "i12", "i11", "i10", "i09", "i08", "i07", auLater.ID, "i06", "i05", "i04", "i03", "i02", auFirst.ID, "i01"}
	if !slices.Equal(got, want) {
		t.Errorf("paged feed = %v\nwant %v: the listed items, the story the removed member told first from au's copy", got, want)
	}
	for _, path := range []string{"/feed.atom", "/members/ch", "/?q=swiss"} {
		if b := body(path); !strings.Contains(b, "Old Swiss feed news") {
			t.Errorf("%s does not show the item of a source removed from a member that stays", path)
		}
	}
	for _, path := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/feed.atom?country=CH", "/members/ch/feed.json",
		"/", "/?q=news", "/?region=Europe", "/embed", "/embed?limit=20", "/members/ch", "/members/au"} {
		b := body(path)
		for _, removed := range []string{"Gone news", "ISS Gone", "gone.example.org"} {
			if strings.Contains(b, removed) {
				t.Errorf("%s shows %q after its source was removed", path, removed)
			}
		}
	}
	for path, also := range map[string]string{"/feed.atom": `term="gone"`, "/feed.rss": `also-published-by">gone<`, "/?q=announced": "Also published by gone"} {
		if b := body(path); strings.Contains(b, also) {
			t.Errorf("%s names the removed member as also publishing au's story (%s)", path, also)
		}
	}
	if b := body("/feed.atom?q=announced"); !strings.Contains(b, auLater.Link) || !strings.Contains(b, auFirst.Link) {
		t.Errorf("a search for the stories does not find au's copies:\n%s", b)
	}
	if resp, _ := f.get(t, "/feed.atom?member=gone"); resp.StatusCode != 400 {
		t.Errorf("/feed.atom?member=gone: %d, want 400 (unknown member)", resp.StatusCode)
	}
}
