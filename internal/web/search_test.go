package web

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestDashboardReadsItemsOfPolledMembersOnly: the dashboard assesses each source from its
// items; it reads a member's items again only when one of its sources was polled since
// (at 10,000 sources reading every member's items took each /sources request 3–4 s), and
// shows what that poll brought.
func TestDashboardReadsItemsOfPolledMembersOnly(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	members := int64(len(f.cfg.Members))
	get := func() {
		if res, _ := f.get(t, "/sources"); res.StatusCode != http.StatusOK {
			t.Fatalf("/sources: %d", res.StatusCode)
		}
	}
	before := f.reads.items.Load()
	get()
	if got := f.reads.items.Load() - before; got != members {
		t.Fatalf("first /sources read items %d times, want once per member (%d)", got, members)
	}
	before = f.reads.items.Load()
	get()
	if got := f.reads.items.Load() - before; got != 0 {
		t.Errorf("second /sources, nothing polled: items read %d times, want 0", got)
	}
	// Nor does the dashboard hold every member's items while it renders (at 10,000
	// members, 500 MB of heap): only their dates.
	f.web.dates = nil
	if _, items, err := f.web.sourceViews(httptest.NewRequest(http.MethodGet, "/sources", nil), f.cfg, nil, nil); err != nil || len(items) != 0 {
		t.Errorf("the dashboard's source views kept the items of %d members (%v)", len(items), err)
	}
	// au's source is polled and brings a new item: au's items are read again, only them.
	now := time.Now().UTC()
	it := mk("au-new", "au", "en", 0, "Fresh from Australia")
	it.Published, it.Updated, it.FirstSeen = now, now, now
	if _, err := f.store.Upsert(t.Context(), []news.Item{it}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutSource(t.Context(), news.SourceState{URL: "https://au.example.org/feed/", Member: "au", Kind: "feed",
		Health: news.HealthOK, LastPoll: now, LastSuccess: now, LastNewItem: now, Polls: 1}); err != nil {
		t.Fatal(err)
	}
	before = f.reads.items.Load()
	get()
	if got := f.reads.items.Load() - before; got != 1 {
		t.Errorf("/sources after au's source was polled: items read %d times, want 1", got)
	}
	_, body := f.get(t, "/sources.json")
	var dash struct {
		Sources []struct {
			URL      string    `json:"url"`
			LastItem time.Time `json:"last_item"`
			Weekly   []int     `json:"items_per_week"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(body, &dash); err != nil {
		t.Fatal(err)
	}
	for _, src := range dash.Sources {
		if src.URL == "https://au.example.org/feed/" && (!src.LastItem.Equal(now) || src.Weekly[len(src.Weekly)-1] != 1) {
			t.Errorf("au's source after its poll: last item %s, this week %d items; want the new item's", src.LastItem, src.Weekly[len(src.Weekly)-1])
		}
	}
}

// TestMemberPageReadsItsOwnSources: a member's page reads the states of that member's
// sources only, not every source of the network (at 10,000 sources reading them all made
// each member page take about 100 ms), and still shows them with their poll history.
func TestMemberPageReadsItsOwnSources(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	now := time.Now().UTC()
	for _, m := range f.cfg.Members {
		for _, src := range m.AllSources() {
			if err := f.store.PutSource(t.Context(), news.SourceState{URL: src.URL(), Member: m.ID, Kind: src.Kind(), Health: news.HealthOK,
				LastPoll: now, LastSuccess: now, Polls: 1, History: []news.PollRecord{{At: now, HTTPCode: 200, New: 3}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	au, _ := f.cfg.Member("au")
	own := int64(len(au.AllSources()))
	if all := int64(len(f.cfg.Members)); all <= own {
		t.Fatalf("fixture: %d members, want more than au's %d sources", all, own)
	}
	before := f.reads.states.Load()
	res, body := f.get(t, "/members/au")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/members/au: %d", res.StatusCode)
	}
	if got := f.reads.states.Load() - before; got != own {
		t.Errorf("/members/au read %d source states, want au's own %d", got, own)
	}
	if !strings.Contains(string(body), au.AllSources()[0].URL()) || !strings.Contains(string(body), ">200<") {
		t.Errorf("/members/au does not show its source and its poll history:\n%s", body)
	}
}
