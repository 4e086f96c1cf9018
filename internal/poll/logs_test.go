package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// renewFails lets each lease be claimed once; renewing it fails.
type renewFails struct {
	Store
	mu      sync.Mutex
	claimed map[string]bool
}

func (s *renewFails) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	again := s.claimed[name]
	s.claimed[name] = true
	s.mu.Unlock()
	if again {
		return false, errors.New("connection reset")
	}
	return s.Store.Claim(ctx, name, owner, ttl)
}

// TestLogLinesNameMemberAndSource: every line logged while polling a source carries its
// member and source, the scheduler's lease renewals and the article fetches of a page's
// enrichment included (debug level, JSON as when not on a terminal).
func TestLogLinesNameMemberAndSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/news":
			time.Sleep(100 * time.Millisecond) // long enough for the lease to be renewed
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><body><div class="item"><h2><a href="/a/1">A first piece of news</a></h2></div>`+
				`<div class="item"><h2><a href="/a/2">A second piece of news</a></h2></div></body></html>`)
		default:
			http.NotFound(w, r) // the article pages, and the missing feed
		}
	}))
	defer srv.Close()
	var out syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := &renewFails{Store: openBolt(t), claimed: map[string]bool{}}
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	ref.Log = log
	jobs := []Job{
		pageJob("m-page", srv.URL+"/news", &config.Selectors{Item: "div.item", Title: "h2", Link: "h2 a"}),
		feedJob("m-feed", srv.URL+"/missing.xml"),
	}
	results := make(chan Result, len(jobs))
	s := &Scheduler{Refresher: ref, Store: db, Log: log, Owner: "test", Workers: 2, LeaseTTL: 30 * time.Millisecond,
		Tick: time.Millisecond, Spread: time.Millisecond, Progress: func(r Result) { results <- r }}
	s.SetJobs(jobs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for range jobs {
		<-results
	}
	cancel()
	<-done

	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msg, _ := rec["msg"].(string)
		seen[msg] = true
		if m, _ := rec["member"].(string); !strings.HasPrefix(m, "m-") {
			t.Errorf("log line without its member: %s", line)
		}
		if src, _ := rec["source"].(string); !strings.HasPrefix(src, srv.URL+"/") {
			t.Errorf("log line without its source: %s", line)
		}
	}
	for _, msg := range []string{"renew lease", "enrich: article page", "source failing", "polled"} {
		if !seen[msg] {
			t.Errorf("no %q line was logged (the test no longer covers it): %s", msg, out.String())
		}
	}
}

// A permanent redirect and a selector warning are logged once, when they first show:
// serve said nothing of either (only the dashboard and poll's output did).
func TestMovesAndWarningsLoggedOnce(t *testing.T) {
	var out syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	ok := news.SourceState{URL: "https://a.example/feed", Health: news.HealthOK}
	moved := ok
	moved.Redirect = "https://b.example/feed"
	warned := moved
	warned.Warning = "date selector `.date` matched none of 4 items"
	logChange(log, ok, moved, Result{})
	logChange(log, moved, moved, Result{})
	logChange(log, moved, warned, Result{})
	logChange(log, warned, warned, Result{})
	got := out.String()
	if n := strings.Count(got, "source moved permanently: update feeds.yaml"); n != 1 || !strings.Contains(got, `"to":"https://b.example/feed"`) {
		t.Errorf("move logged %d times, want once with its target:\n%s", n, got)
	}
	if n := strings.Count(got, "source selectors partly match"); n != 1 || !strings.Contains(got, "matched none of 4 items") {
		t.Errorf("warning logged %d times, want once with its text:\n%s", n, got)
	}
}

// A warning whose page lists one more item (a page that keeps its older news: its
// warning's count grows at each new item) is the same warning: it is not logged again.
func TestWarningNotLoggedAgainForAnotherItemCount(t *testing.T) {
	var out syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	warned := news.SourceState{URL: "https://a.example/news", Health: news.HealthOK,
		Warning: "date selector `.date` matched none of 12 items; image selector `img.t2` matched none of 12 items"}
	grown := warned
	grown.Warning = "date selector `.date` matched none of 13 items; image selector `img.t2` matched none of 13 items"
	other := grown
	other.Warning = "summary selector `.date` matched none of 13 items"
	logChange(log, news.SourceState{URL: warned.URL, Health: news.HealthOK}, warned, Result{})
	logChange(log, warned, grown, Result{})
	logChange(log, grown, grown, Result{})
	logChange(log, grown, other, Result{}) // another field: said
	if n := strings.Count(out.String(), "source selectors partly match"); n != 2 {
		t.Errorf("warning logged %d times, want twice (when it first showed, and for another field):\n%s", n, out.String())
	}
}
