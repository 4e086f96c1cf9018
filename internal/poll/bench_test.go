package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// BenchmarkCollectPrepare is the per-source CPU of a refresh outside the store: collect and
// prepare the items of one fleet feed (testdata/fleet-feed.xml: ../shared/tools/fleet's /f/1.xml,
// 20 items of ~1 KB HTML). "http" fetches it over loopback with the real client (charset handling
// included); "parse" hands collect the fetched response, for the CPU of parsing, cleaning and
// keying alone.
func BenchmarkCollectPrepare(b *testing.B) {
	body, err := os.ReadFile("testdata/fleet-feed.xml")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	cfg := testConfig(b, "")
	j := feedJob("m", srv.URL+"/f/1.xml")
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	live := newTestRefresher(b, nil, cfg, nil)
	resp, err := live.Fetch.Get(ctx, fetch.Request{URL: j.URL()})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		r    *Refresher
	}{
		{"http", live},
		{"parse", newTestRefresher(b, nil, cfg, fetcherFunc(func(context.Context, fetch.Request) (*fetch.Response, error) {
			r := *resp
			return &r, nil
		}))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				st := news.SourceState{URL: j.URL()}
				var res Result
				items, _, err := bc.r.collect(ctx, j, &st, &res, nil)
				if err != nil {
					b.Fatal(err)
				}
				items = bc.r.prepare(j, items, res.base, now, true)
				if len(items) != 20 || items[0].Key == "" || items[0].Summary == "" {
					b.Fatalf("got %d items, first %+v", len(items), items[0])
				}
			}
		})
	}
}

type fetcherFunc func(context.Context, fetch.Request) (*fetch.Response, error)

func (f fetcherFunc) Get(ctx context.Context, r fetch.Request) (*fetch.Response, error) {
	return f(ctx, r)
}

// TestFleetFeedPrepared pins what collect and prepare make of the fleet feed the benchmark uses,
// so a speed-up cannot silently change the result.
func TestFleetFeedPrepared(t *testing.T) {
	body, err := os.ReadFile("testdata/fleet-feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	r := newTestRefresher(t, nil, testConfig(t, ""), nil)
	j := Job{Member: &config.Member{ID: "m", Name: "M", Languages: []string{"en"}}, Source: config.Source{Feed: srv.URL + "/f/1.xml"}}
	st := news.SourceState{URL: j.URL()}
	var res Result
	items, _, err := r.collect(context.Background(), j, &st, &res, nil)
	if err != nil {
		t.Fatal(err)
	}
	items = r.prepare(j, items, res.base, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true)
	if len(items) != 20 {
		t.Fatalf("got %d items, want 20", len(items))
	}
	it := items[0]
	checks := []struct{ name, got, want string }{
		{"title", it.Title, "The national court in Leeds publishes a digital records system despite objections"},
		{"link", it.Link, "http://127.0.0.1:8931/s/1/item-19.html"},
		{"guid", it.GUID, "fleet-1-item-19"},
		{"language", it.Language, "en"},
		{"published", it.Published.Format(time.RFC3339), "2025-12-31T20:59:00Z"},
		{"summary start", it.Summary[:60], "The national court in Leeds publishes a digital records syst"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if it.Content != "" {
		t.Errorf("content = %q, want empty (the feed has descriptions only)", it.Content)
	}
	if n := len([]rune(it.Summary)); n > 400 || n < 300 {
		t.Errorf("summary is %d runes, want a ~400-rune cut", n)
	}
	if len(it.Categories) != 1 || it.Categories[0] != "Farming" {
		t.Errorf("categories = %v", it.Categories)
	}
	// Every field cleaning and dating set, for all 20 items (keys belong to identity and are left out).
	type view struct {
		GUID, Title, Link, Summary, Content, Author, Image, Language string
		Categories                                                   []string
		Published, Updated                                           time.Time
		Precision                                                    news.Precision
	}
	views := make([]view, len(items))
	for i, it := range items {
		views[i] = view{it.GUID, it.Title, it.Link, it.Summary, it.Content, it.Author, it.Image, it.Language,
			it.Categories, it.Published, it.Updated, it.Precision}
	}
	got, err := json.MarshalIndent(views, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/fleet-feed.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("prepared items differ from %s (run with -update to accept):\n%s", golden, got)
	}
}

// BenchmarkHeldHostPollEnds is the scheduler's CPU for one ended poll on a host of n due
// sources under fetch.per_host 2 (many members on one platform, or the loopback fleet):
// the poll's end, and the hand-out of the host's next held-back source that follows it
// (Run, woken: freedDue). A round polls each of the n sources once: n of these. When every source
// has been polled, they are all made due again and looked for as a tick does.
func BenchmarkHeldHostPollEnds(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("sources=%d", n), func(b *testing.B) {
			s, inflight, now := oneHostScheduler(b, n, 2)
			start := now.Add(-time.Second)
			later := now.Add(time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				if len(inflight) == 0 { // a round done: all due again, found at a tick
					for u := range s.next {
						s.next[u] = now
					}
					inflight = s.due(now, start)
				}
				s.setNext(inflight[0].URL(), later)
				inflight = append(inflight[1:], s.freedDue(now, start)...)
			}
		})
	}
}
