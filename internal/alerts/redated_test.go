package alerts

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// TestRedatedFeedGoesStale: a feed that stamps every item with the time it is generated
// (or lists upcoming events, whose dates the poller clamps to the poll) adds nothing new,
// and the store keeps its items' first dates (store.Merge): it goes stale like any quiet
// source. The newest date the poll saw is the poll's own, so judging activity by it
// (and not reading the items) kept such a source ok for good.
func TestRedatedFeedGoesStale(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := at().Add(-time.Minute).Format(time.RFC1123Z) // generated just now, every item
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>M</title><link>https://m.example.org/</link>`)
		for i := range 5 {
			fmt.Fprintf(w, `<item><guid>g%d</guid><title>Story %d</title><link>https://m.example.org/%d</link><pubDate>%s</pubDate></item>`, i, i, i, d)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	defer srv.Close()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse("t.yml", []byte("fetch: {interval: 30m}\nmembers: [{id: m, name: M, homepage: \"https://m.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ob := New(Options{Store: st, Log: quiet(), Now: at})
	ref := &poll.Refresher{Fetch: fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1}),
		Store: st, Clean: clean.New(), Log: quiet(), Now: at, Config: func() *config.Config { return cfg }, Observe: ob.Observe}
	j := poll.Job{Member: &config.Member{ID: "m", Name: "M", Languages: []string{"en"}}, Source: config.Source{Feed: srv.URL + "/feed"}}
	for _, day := range []int{0, 30, 60, 120} {
		mu.Lock()
		clock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(days(day))
		mu.Unlock()
		if res := ref.Refresh(context.Background(), j); res.Err != nil {
			t.Fatalf("day %d: %v", day, res.Err)
		}
	}
	items, err := st.Items(context.Background(), ItemsQuery("m", at()))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := st.Source(context.Background(), j.URL())
	want := Assess(s, DatesOf(items, j.URL()), at()).Health
	if h, _, _ := ob.Health(j.URL()); h != news.HealthStale || want != news.HealthStale {
		t.Errorf("after 120 days of the same 5 items: alerts say %q, the dashboard's assessment %q; want stale (newest dated %v)", h, want, s.NewestDated)
	}
}
