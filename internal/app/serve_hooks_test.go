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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	ctx, stop := startServe(t, cfg, serveOptions{addr: "127.0.0.1:0", web: true, poll: true, workers: 2,
		leaseTTL: time.Minute, stdout: os.Stderr, listening: func(a string) { addr.Store(a) }})
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
	if err := stop(); err != nil {
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

// TestServeReloadAppliesFetchSettings: a SIGHUP whose config changes a fetch setting
// (here user_agent) makes new requests use it without a restart, and a source added by
// the same reload is never fetched with the old settings.
func TestServeReloadAppliesFetchSettings(t *testing.T) {
	var mu sync.Mutex
	agents := map[string][]string{} // path -> User-Agent of each request, in order
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.URL.Path] = append(agents[r.URL.Path], r.UserAgent())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>%[1]s/</link>
<item><title>News from %[2]s</title><link>%[1]s%[2]s/1</link><guid>%[1]s%[2]s/1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`, "http://"+r.Host, r.URL.Path)
	}))
	defer site.Close()
	seen := func(path, ua string) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(agents[path], ua)
	}
	feedsYAML := func(ua string, paths ...string) string {
		var srcs []string
		for _, p := range paths {
			srcs = append(srcs, fmt.Sprintf(`{feed: "%s%s"}`, site.URL, p))
		}
		return fmt.Sprintf(`network: {title: T, url: "https://news.example.org/"}
fetch: {interval: 1s, timeout: 5s, allow_private_addresses: true, user_agent: %q}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [%s]}
`, ua, strings.Join(srcs, ", "))
	}
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(feedsYAML("nf-test-one", "/a.xml")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	reloaded := make(chan error, 1)
	_, stop := startServe(t, cfg, serveOptions{configPath: path, poll: true, workers: 2, leaseTTL: time.Minute, hup: hup,
		reloaded: func(err error) { reloaded <- err }})
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				mu.Lock()
				t.Fatalf("timed out waiting for %s; requests: %v", what, agents)
				mu.Unlock()
			}
		}
	}
	waitUntil("the first poll", func() bool { return seen("/a.xml", "nf-test-one") })

	if err := os.WriteFile(path, []byte(feedsYAML("nf-test-two", "/a.xml", "/b.xml")), 0o644); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	if err := <-reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	waitUntil("the added source's poll", func() bool { return seen("/b.xml", "nf-test-two") })
	waitUntil("the kept source polled with the new user agent", func() bool { return seen("/a.xml", "nf-test-two") })
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(agents["/b.xml"], "nf-test-one") {
		t.Errorf("the source added by the reload was fetched with the old user agent: %v", agents["/b.xml"])
	}
}

// startServe runs serve in process with cfg on a fresh embedded store, with the other
// options from o (its store, config and log are set here). The context returned ends
// when stop is called; stop returns serve's error, and runs at cleanup if the test did
// not call it.
func startServe(t *testing.T, cfg *config.Config, o serveOptions) (context.Context, func() error) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	o.store, o.config, o.log = st, &current, slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	t.Cleanup(func() { stop() }) // before the store closes: cleanups run last first
	return ctx, stop
}

// TestWorkerServesMetrics: a pure polling worker (web off) serves /metrics, /healthz and
// /readyz on -metrics-addr, and its polls are counted there.
func TestWorkerServesMetrics(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://%[1]s/</link>
<item><title>News</title><link>http://%[1]s/1</link><guid>http://%[1]s/1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`, r.Host)
	}))
	defer site.Close()
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	yaml := fmt.Sprintf(`network: {title: T, url: "https://news.example.org/"}
fetch: {interval: 2s, timeout: 5s, allow_private_addresses: true}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [{feed: "%s/feed.xml"}]}
`, site.URL)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	_, stop := startServe(t, cfg, serveOptions{poll: true, workers: 2, leaseTTL: time.Minute, metricsAddr: "127.0.0.1:0",
		listening:        func(string) { t.Error("a worker with web off listens for the web view") },
		listeningMetrics: func(a string) { addr <- a }})
	defer stop()
	base := "http://" + <-addr
	get := func(p string) (int, string) {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// A scrape may fall between the poll counter's increment and the item counter's:
	// wait for all three to show the poll.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body := get("/metrics")
		polled := strings.Contains(body, `networkfeed_polls_total{outcome="ok"} 1`)
		if polled && strings.Contains(body, `networkfeed_items_total{result="new"} 1`) && strings.Contains(body, `networkfeed_sources{health="ok"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			if polled {
				t.Fatalf("metrics after one poll:\n%s", body)
			}
			t.Fatalf("no poll counted on the worker's /metrics:\n%s", body)
		}
	}
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := get("/"); code != http.StatusNotFound {
		t.Errorf("the worker's metrics listener serves the web view: / = %d", code)
	}
}

// TestMetricsShowARejectedReload: a SIGHUP whose config is invalid is rejected and the
// old config kept, which /metrics shows (networkfeed_config_last_reload_successful 0,
// until a reload succeeds), as Prometheus and blackbox_exporter do: it was a log line
// alone, so monitoring could not see that the file on disk is not what runs (found by a
// helper's metrics audit).
func TestMetricsShowARejectedReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	good := "network: {title: T, url: \"https://news.example.org/\"}\nmembers:\n  - {id: iss-usa, name: ISS USA, homepage: \"https://usa.example.org/\", disabled: true}\n"
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	hup, reloaded, addr := make(chan os.Signal, 1), make(chan error, 1), make(chan string, 1)
	_, stop := startServe(t, cfg, serveOptions{configPath: path, workers: 1, leaseTTL: time.Minute, metricsAddr: "127.0.0.1:0", hup: hup,
		reloaded: func(err error) { reloaded <- err }, listeningMetrics: func(a string) { addr <- a }})
	defer stop()
	base := "http://" + <-addr
	successful := func() string {
		t.Helper()
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "networkfeed_config_last_reload_successful "); ok {
				return v
			}
		}
		return "(missing)"
	}
	for _, step := range []struct {
		name, yaml, want string
	}{
		{"at start", "", "1"},
		{"rejected", "members: [{id: BAD ID!, name: x}]\n", "0"},
		{"accepted again", good, "1"},
	} {
		if step.yaml != "" {
			if err := os.WriteFile(path, []byte(step.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			hup <- syscall.SIGHUP
			<-reloaded
		}
		if got := successful(); got != step.want {
			t.Errorf("%s: networkfeed_config_last_reload_successful %s, want %s", step.name, got, step.want)
		}
	}
}

// TestServeReloadAskedWhileTheStoreOpens: a SIGHUP that comes while serve still waits to
// open its store (here the embedded store's lock, held as the process before it would
// hold it while shutting down) does not end the process, as SIGHUP's default action
// would: the reload is done once serving.
func TestServeReloadAskedWhileTheStoreOpens(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to see the process open its store")
	}
	dir := t.TempDir()
	storePath := filepath.Join(dir, "nf.db")
	cfgPath := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(cfgPath, []byte(`network: {title: T, url: "https://news.example.org/"}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [{feed: "https://usa.example.org/feed"}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	held, err := boltstore.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	p := startProcess(t, "serve", "-config", cfgPath, "-store", storePath, "-addr", "127.0.0.1:0", "-poll=false")
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	opening := func() bool { // the process has the store's file open: it waits for the lock
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", p.cmd.Process.Pid))
		return slices.ContainsFunc(fds, func(fd string) bool {
			target, err := os.Readlink(fd)
			return err == nil && target == storePath
		})
	}
	for deadline := time.Now().Add(10 * time.Second); !opening(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the process did not open its store; output:\n%s", p.out.String())
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	held.Close()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p.out.String(), `"config reloaded"`); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("serve ended (%v) on a SIGHUP while opening its store; output:\n%s", err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload after the SIGHUP; output:\n%s", p.out.String())
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("serve after SIGTERM: %v; output:\n%s", err, p.out.String())
	}
}
