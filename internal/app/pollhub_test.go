package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
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
