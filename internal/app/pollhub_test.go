package app

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/poll"
)

// TestPollCommandPingsHub: `networkfeed poll` (from cron, beside a `serve -poll=false`
// web front) stores new items just as serve does, and the feeds advertise
// network.websub_hub, so it must ping the hub too: else subscribers that rely on the hub
// never hear of the new items.
func TestPollCommandPingsHub(t *testing.T) {
	sites := memberSites(t)
	var (
		mu     sync.Mutex
		topics []string
	)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("hub.mode") == "publish" {
			mu.Lock()
			topics = append(topics, r.FormValue("hub.url"))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	cfg := filepath.Join(t.TempDir(), "feeds.yaml")
	yml := fmt.Sprintf(`network: {title: T, url: "https://news.example.org/", websub_hub: %q}
fetch: {interval: 30m, timeout: 5s, allow_private_addresses: true, robots: false}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [{feed: "%s/us/atom.xml"}]}
  - {id: iss-broken, name: ISS Broken, languages: [en], sources: [{feed: "%s/broken/feed.xml"}]}
`, hub.URL, sites.URL, sites.URL)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runCmd(t, "poll", "-config", cfg, "-store", filepath.Join(t.TempDir(), "nf.db"))
	if code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"https://news.example.org/feed.atom", "https://news.example.org/members/iss-usa/feed.rss"} {
		if !slices.Contains(topics, want) {
			t.Errorf("poll did not ping the hub for %s; pinged: %v", want, topics)
		}
	}
	for _, got := range topics {
		if got == "https://news.example.org/members/iss-broken/feed.atom" {
			t.Errorf("hub pinged for a member whose feed did not change: %v", topics)
		}
	}
}

// TestServePingsHubABatchAtATime: serve pings the hub for the refreshes that changed items
// while a ping was in flight together, after it: a goroutine per refresh pinged the
// network feeds once for every such refresh (ten refreshes, ten pings of feed.atom, and
// the hub fetches each), and against a slow hub held four connections per refresh.
func TestServePingsHubABatchAtATime(t *testing.T) {
	var (
		mu      sync.Mutex
		topics  = map[string]int{}
		started = make(chan struct{}, 100)
		release = make(chan struct{})
	)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		topics[r.FormValue("hub.url")]++
		mu.Unlock()
		started <- struct{}{}
		<-release // a slow hub
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	cfg, err := config.Parse("feeds.yaml", []byte(fmt.Sprintf("network: {title: T, url: \"https://news.example.org/\", websub_hub: %q}\nmembers:\n  - {id: m0, name: M, homepage: \"https://m.example.org/\"}\n", hub.URL)))
	if err != nil {
		t.Fatal(err)
	}
	h := newHubNotifier(func() *config.Config { return cfg }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.observe(poll.Result{Member: "m0", New: 1})
	<-started // the first refresh's ping is at the hub
	for i := 1; i < 10; i++ {
		h.observe(poll.Result{Member: fmt.Sprintf("m%d", i), Updated: 1})
	}
	close(release)
	h.wait()
	mu.Lock()
	defer mu.Unlock()
	if n := topics["https://news.example.org/feed.atom"]; n > 2 {
		t.Errorf("the network feed was pinged %d times for 10 refreshes, one after the other", n)
	}
	for i := range 10 {
		if u := fmt.Sprintf("https://news.example.org/members/m%d/feed.json", i); topics[u] != 1 {
			t.Errorf("%s pinged %d times, want once", u, topics[u])
		}
	}
}
