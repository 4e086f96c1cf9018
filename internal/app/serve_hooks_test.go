package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// TestServePingsHubAndPostsAlerts runs serve in process against local member sites: a
// refresh that brings new items pings the WebSub hub for the network and member feeds,
// and a source that starts failing is posted to the alerts webhook.
func TestServePingsHubAndPostsAlerts(t *testing.T) {
	sites := memberSites(t)
	var mu sync.Mutex
	var topics []string
	var addr atomic.Value // of string: where networkfeed serves
	var staleFetches, fetches atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("hub.mode") == "publish" {
			topic := r.Form.Get("hub.url")
			mu.Lock()
			topics = append(topics, topic)
			mu.Unlock()
			// Like a real hub, fetch the topic at once: it must already be the new one.
			if a, ok := addr.Load().(string); ok && strings.HasSuffix(topic, "/members/iss-usa/feed.atom") {
				resp, err := http.Get("http://" + a + "/members/iss-usa/feed.atom")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					fetches.Add(1)
					if !strings.Contains(string(b), "<entry") {
						staleFetches.Add(1)
					}
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	var brokenAlerts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "/broken/feed.xml") && strings.Contains(string(b), `"kind":"failing"`) {
			brokenAlerts.Add(1)
		}
	}))
	defer hook.Close()

	cfgText := fmt.Sprintf(`network: {title: T, url: "https://news.example.org/", websub_hub: %q}
fetch: {interval: 30m, timeout: 5s, allow_private_addresses: true}
alerts: {webhook_url: %q}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [{feed: "%s/us/atom.xml"}]}
  - {id: iss-broken, name: ISS Broken, languages: [en], sources: [{feed: "%s/broken/feed.xml"}]}
`, hub.URL, hook.URL, sites.URL, sites.URL)
	cfg, err := config.Parse("feeds.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, serveOptions{log: slog.New(slog.NewTextHandler(io.Discard, nil)), store: st, config: &current,
			addr: "127.0.0.1:0", web: true, poll: true, workers: 2, leaseTTL: time.Minute, stdout: os.Stderr,
			listening: func(a string) { addr.Store(a) }})
	}()
	// Readers keep the web's reading of the store version fresh, as in production.
	go func() {
		for ctx.Err() == nil {
			if a, ok := addr.Load().(string); ok {
				if resp, err := http.Get("http://" + a + "/members/iss-usa/feed.atom"); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(topics)
		mu.Unlock()
		if n >= 6 && brokenAlerts.Load() >= 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(topics, " ")
	mu.Unlock()
	for _, want := range []string{"https://news.example.org/feed.atom", "https://news.example.org/members/iss-usa/feed.rss"} {
		if !strings.Contains(got, want) {
			t.Errorf("hub not pinged for %s; pinged: %s", want, got)
		}
	}
	if strings.Contains(got, "iss-broken") {
		t.Errorf("hub pinged for a member whose feed did not change: %s", got)
	}
	if brokenAlerts.Load() < 1 {
		t.Errorf("alerts webhook got no post about the failing source")
	}
	if fetches.Load() == 0 || staleFetches.Load() > 0 {
		t.Errorf("the hub fetched the pinged feed %d times, %d of them before it changed", fetches.Load(), staleFetches.Load())
	}
}
