package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

var benchLangs = []string{"en", "fr", "es", "de", "ja"}

// benchItem is a realistic item: ~60-character title, a ~40-word summary, one of 20
// members, its own story (no two bench items are near-duplicates).
func benchItem(i int) news.Item {
	m := fmt.Sprintf("member-%02d", i%20)
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return news.Item{
		ID: fmt.Sprintf("nf-%020d", i), Key: fmt.Sprintf("guid:%d", i), Member: m, Country: "CH", Region: "Europe",
		Source: "https://" + m + ".example.org/feed", Title: fmt.Sprintf("News item %d from %s about children and families", i, m),
		Link: fmt.Sprintf("https://%s.example.org/news/%d", m, i), Summary: storetest.StoryText(i), Language: benchLangs[i%len(benchLangs)],
		Published: t, Updated: t, FirstSeen: t, Categories: []string{"news"},
	}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkUpsertNew measures inserting new items in batches of 200 (one batch is one
// refresh's worth), reported as items/s.
func BenchmarkUpsertNew(b *testing.B) {
	s := openBench(b)
	const batch = 200
	n := 0
	b.ResetTimer()
	for b.Loop() {
		items := make([]news.Item, batch)
		for i := range items {
			items[i] = benchItem(n)
			n++
		}
		if _, err := s.Upsert(b.Context(), items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkUpsertSeen measures re-seeing stored, unchanged items (the common case of a poll).
func BenchmarkUpsertSeen(b *testing.B) {
	s := openBench(b)
	const batch = 200
	items := make([]news.Item, batch)
	for i := range items {
		items[i] = benchItem(i)
	}
	if _, err := s.Upsert(b.Context(), items); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Upsert(b.Context(), items); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkNewest50 reads the newest 50 items, all and for one member, from a store of
// 20,000 items, 1,000,000 with NF_BENCH_LARGE=1, or NF_BENCH_ITEMS (kept in $NF_BENCH_DIR when set, so
// the fill is paid once): latency should not depend on how many are stored.
func BenchmarkNewest50(b *testing.B) {
	total := 20_000
	if os.Getenv("NF_BENCH_LARGE") == "1" {
		total = 1_000_000
	}
	if n, err := strconv.Atoi(os.Getenv("NF_BENCH_ITEMS")); err == nil && n > 0 {
		total = n
	}
	dir := os.Getenv("NF_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("newest50-%d.db", total))
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.Items(b.Context(), news.Query{Limit: 1, Before: news.Cursor{Time: benchItem(total - 1).Published.Add(time.Second), ID: "~"}}); len(got) == 0 || got[0].ID != benchItem(total-1).ID {
		const batch = 1000
		for start := 0; start < total; start += batch {
			items := make([]news.Item, 0, batch)
			for i := start; i < min(start+batch, total); i++ {
				items = append(items, benchItem(i))
			}
			if _, err := s.Upsert(b.Context(), items); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, q := range []struct {
		name string
		q    news.Query
	}{
		{"all", news.Query{Limit: 50}},
		{"member", news.Query{Members: []string{"member-07"}, Limit: 50}},
		{"member+lang", news.Query{Members: []string{"member-07"}, Language: "es", Limit: 50}},
		{"clustered", news.Query{Limit: 50, Clustered: true}},
	} {
		b.Run(fmt.Sprintf("%s/%d", q.name, total), func(b *testing.B) {
			for b.Loop() {
				items, err := s.Items(b.Context(), q.q)
				if err != nil || len(items) != 50 {
					b.Fatalf("%d items, %v", len(items), err)
				}
			}
		})
	}
}

// BenchmarkUpsertFleet writes fleet feeds of 20 new items each (storetest.FleetFeed:
// dates spread over 60 hours, most items joining a cluster), one Upsert per feed, from
// 128 writers at once as the poll queues them on this store (WriteQueue): an op is one
// feed. pages/item counts the pages the commits wrote per item, the measure of a
// layout's cost that the machine's noise does not move; run with a fixed count
// (-benchtime=2000x) to compare, as the cost of an item grows with what the store holds.
func BenchmarkUpsertFleet(b *testing.B) {
	s := openBench(b)
	feeds := storetest.FleetFeeds(b.N)
	b.ResetTimer()
	st0, cpu0, start := s.db.Stats().TxStats, storetest.ProcessCPU(), time.Now()
	storetest.UpsertAll(b, feeds, s.WriteQueue(), s.Upsert)
	b.StopTimer()
	st := s.db.Stats().TxStats
	items := float64(20 * len(feeds))
	b.ReportMetric(float64(time.Since(start).Microseconds())/items, "wall-µs/item")
	b.ReportMetric(float64((storetest.ProcessCPU()-cpu0).Microseconds())/items, "cpu-µs/item")
	b.ReportMetric(float64(st.GetWrite()-st0.GetWrite())/items, "pages/item")
}
