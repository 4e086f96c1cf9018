package metrics

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// BenchmarkScrapeSources is one /metrics scrape over 10,000 sources on the embedded store,
// each with a full history of news.MaxHistory polls (a network that has run for a while).
func BenchmarkScrapeSources(b *testing.B) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "nf.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	for i := range 10000 {
		s := news.SourceState{URL: fmt.Sprintf("https://m%d.example.org/feed.xml", i), Member: fmt.Sprint("m", i), Kind: "feed",
			Health: news.HealthOK, LastPoll: now, LastSuccess: now, NextPoll: now.Add(time.Hour), HTTPCode: 200, Items: 20}
		for j := range news.MaxHistory {
			s.History = append(s.History, news.PollRecord{At: now.Add(-time.Duration(j) * time.Hour), Duration: 120 * time.Millisecond, HTTPCode: 200, New: j % 3})
		}
		if err := st.PutSource(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	m := New(st, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
