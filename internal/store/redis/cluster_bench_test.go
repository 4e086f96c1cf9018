package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
	"github.com/iss-network/networkfeed/internal/store/storyindex"
)

// BenchmarkClusterUpsert writes one new item into a full store, deciding its cluster:
// "join" is another member's copy of a stored story, "alone" a story never seen.
// lookups/op counts the story keys looked up in the process's index and the candidate
// stories read per decision; the time includes the write script. A copy is of one of
// the newest storyindex.Window stories (older ones are not looked for).
func BenchmarkClusterUpsert(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	n := storetest.BenchStored()
	start := time.Now()
	for i := 0; i < n; i += upsertChunk {
		batch := make([]news.Item, 0, upsertChunk)
		for j := i; j < min(i+upsertChunk, n); j++ {
			batch = append(batch, storetest.StoryItem(j))
		}
		if _, err := s.Upsert(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	mem, _ := s.c.MemoryUsage(ctx, s.filingsKey()).Result()
	b.Logf("filled %d items in %v; stream of filings %d MB", n, time.Since(start).Round(time.Second), mem>>20)
	for _, tc := range []struct {
		name string
		item func(i int) news.Item
	}{
		{"join", func(i int) news.Item {
			it := storetest.StoryItem(n - 1 - (i*7919)%min(n, storyindex.Window))
			it.Member, it.ID = fmt.Sprintf("x%d", i), fmt.Sprintf("x%d-%d", i, i)
			it.Link = fmt.Sprintf("https://x.example.org/%d", i)
			it.Published = it.Published.Add(time.Hour)
			return it
		}},
		{"alone", func(i int) news.Item { it := storetest.StoryItem(n + i); it.ID += "-new"; return it }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			before := s.lookups.Load()
			joined, i := 0, 0
			for b.Loop() {
				it := tc.item(i)
				i++
				if _, err := s.Upsert(ctx, []news.Item{it}); err != nil {
					b.Fatal(err)
				}
				if got, err := s.Item(ctx, it.ID); err == nil && got.ClusterID != "" {
					joined++
				}
			}
			b.ReportMetric(float64(s.lookups.Load()-before)/float64(i), "lookups/op")
			b.ReportMetric(float64(joined)/float64(i), "joined/op")
		})
	}
}
