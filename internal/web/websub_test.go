package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/websub"
)

// TestWebSub runs the publisher's side of WebSub against a fake hub that behaves like a
// real one: on each ping it fetches the topic, which must advertise the hub, name itself
// with the very topic URL, and hold the new item.
func TestWebSub(t *testing.T) {
	var (
		mu      sync.Mutex
		fetched []string
		f       *feedFixture
	)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		topic := r.FormValue("hub.url")
		if r.FormValue("hub.mode") != "publish" || !strings.HasPrefix(topic, testBase) {
			http.Error(w, "bad ping", http.StatusBadRequest)
			return
		}
		res, body := f.get(t, topic)
		format := topic[strings.LastIndexByte(topic, '.')+1:]
		p := parseFeed(t, format, body)
		switch {
		case res.StatusCode != http.StatusOK:
			t.Errorf("hub fetched %s: HTTP %d", topic, res.StatusCode)
		case p.Hub != "http://"+r.Host:
			t.Errorf("%s advertises hub %q, want %q", topic, p.Hub, "http://"+r.Host)
		case p.Self != topic:
			t.Errorf("%s names itself %q", topic, p.Self)
		case !slices.Contains(p.IDs, "new1"):
			t.Errorf("%s lacks the new item: %v", topic, p.IDs)
		}
		mu.Lock()
		fetched = append(fetched, topic)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hub.Close()
	f = newFeedFixture(t, filterItems(), "language: en}", "language: en, websub_hub: \""+hub.URL+"\"}")

	// What the poller does after a refresh that stored new items of member "us".
	if _, err := f.store.Upsert(context.Background(), []news.Item{mk("new1", "us", "en", 20, "Breaking news")}); err != nil {
		t.Fatal(err)
	}
	p := websub.NewPinger(f.cfg.Network.WebSubHub, hub.Client(), discardLog())
	topics := websub.Topics(f.cfg.Network.URL, []string{"us"})
	if err := p.Notify(context.Background(), topics); err != nil {
		t.Fatal(err)
	}
	slices.Sort(fetched)
	slices.Sort(topics)
	if !slices.Equal(fetched, topics) {
		t.Errorf("hub fetched %v, want %v", fetched, topics)
	}
}

// TestFeedsWithoutHub: no websub_hub, no hub links.
func TestFeedsWithoutHub(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	for _, format := range []string{"rss", "atom", "json"} {
		_, body := f.get(t, "/feed."+format)
		if p := parseFeed(t, format, body); p.Hub != "" {
			t.Errorf("%s: hub %q without websub_hub", format, p.Hub)
		}
	}
}

// TestHubOnlyOnPingedFeeds: a feed advertises the hub only when its self URL is a topic
// the hub is pinged for (websub.Topics: the network's and each member's feeds). A
// filtered or paged feed is never pinged, so a subscriber that trusted its hub link
// would wait for news that never comes, instead of polling.
func TestHubOnlyOnPingedFeeds(t *testing.T) {
	const hub = "https://hub.example.org/"
	f := newFeedFixture(t, filterItems(), "language: en}", "language: en, websub_hub: \""+hub+"\"}")
	for _, c := range []struct {
		path string
		hub  bool
	}{
		{"/feed.%s", true},
		{"/members/us/feed.%s", true},
		{"/feed.%s?lang=fr", false},
		{"/feed.%s?member=us", false},
		{"/feed.%s?limit=5", false},
		{"/members/us/feed.%s?limit=1", false},
	} {
		for _, format := range []string{"rss", "atom", "json"} {
			path := fmt.Sprintf(c.path, format)
			_, body := f.get(t, path)
			p := parseFeed(t, format, body)
			if got := p.Hub != ""; got != c.hub {
				t.Errorf("%s: hub %q; want a hub link: %v (self %s)", path, p.Hub, c.hub, p.Self)
			}
		}
	}
	for _, c := range []struct {
		filters url.Values
		dir     string
		hub     bool
	}{
		{url.Values{}, "", true},
		{url.Values{"member": {"fr"}}, "members/fr/", true},
		{url.Values{"country": {"CH"}}, "countries/ch/", false},
		{url.Values{"lang": {"ja"}}, "languages/ja/", false},
	} {
		for _, format := range []string{"rss", "atom", "json"} {
			b, err := f.web.StaticFeed(t.Context(), format, c.filters, c.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseFeed(t, format, b).Hub != ""; got != c.hub {
				t.Errorf("static %sfeed.%s: hub link %v, want %v", c.dir, format, got, c.hub)
			}
		}
	}
}
