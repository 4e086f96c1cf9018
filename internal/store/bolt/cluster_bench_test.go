package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// copyOf is member "x"+i's copy of stored story n, an hour later, with its own link.
func copyOf(n, i int) news.Item {
	it := storetest.StoryItem(n)
	it.Member = fmt.Sprintf("x%d", i)
	it.ID = fmt.Sprintf("x%d-%08x", i, n)
	it.Link = fmt.Sprintf("https://x.example.org/%d/%d", i, n)
	it.Published = it.Published.Add(time.Hour)
	return it
}

func filledStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "nf.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	n := storetest.BenchStored()
	start := time.Now()
	const batch = 500
	for i := 0; i < n; i += batch {
		items := make([]news.Item, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			items = append(items, storetest.StoryItem(j))
		}
		if _, err := s.Upsert(b.Context(), items); err != nil {
			b.Fatal(err)
		}
	}
	fi, _ := os.Stat(filepath.Join(filepath.Dir(s.db.Path()), "nf.db"))
	b.Logf("filled %d items in %v, file %d MB", n, time.Since(start).Round(time.Second), fi.Size()>>20)
	return s
}

// BenchmarkClusterDecision times deciding the cluster of one new item against a full
// store (read-only transaction): "join" is another member's copy of a stored story,
// "alone" a story never seen. lookups/op counts the index and item reads of one
// decision. BenchmarkClusterUpsert is the whole write of such a copy (fsync included).
func BenchmarkClusterDecision(b *testing.B) {
	s := filledStore(b)
	n := storetest.BenchStored()
	for _, tc := range []struct {
		name string
		item func(i int) news.Item
	}{
		{"join", func(i int) news.Item { return copyOf((i*7919)%n, i) }},
		{"alone", func(i int) news.Item { it := storetest.StoryItem(n + i); it.ID += "-new"; return it }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			before := s.lookups.Load()
			joined, i := 0, 0
			for b.Loop() {
				it := tc.item(i)
				i++
				p := &newItem{story: store.StoryOf(&it)}
				err := s.db.View(func(tx *bbolt.Tx) error {
					d, err := s.decideCluster(tx, p)
					if d.cid != "" {
						joined++
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.lookups.Load()-before)/float64(i), "lookups/op")
			b.ReportMetric(float64(joined)/float64(i), "joined/op")
		})
	}
	b.Run("upsert-join", func(b *testing.B) {
		i := 0
		for b.Loop() {
			r, err := s.Upsert(b.Context(), []news.Item{copyOf((i*7919)%n, 1_000_000+i)})
			i++
			if err != nil || r.New != 1 {
				b.Fatalf("upsert = %+v, %v", r, err)
			}
		}
	})
}

// BenchmarkClusteredRead reads the newest 50 stories of a store where every story has a
// second member's copy (hidden), as the network feed does: without Listed, and with
// Listed listing every member (what the web view always sets), where a hidden copy costs
// its cluster's record.
func BenchmarkClusteredRead(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "nf.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const stories = 2000
	for i := 0; i < stories; i += 250 {
		var items []news.Item
		for j := i; j < i+250; j++ {
			items = append(items, storetest.StoryItem(j), copyOf(j, 1))
		}
		if _, err := s.Upsert(b.Context(), items); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		listed func(string) bool
	}{{"without Listed", nil}, {"Listed", func(string) bool { return true }}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				its, err := s.Items(b.Context(), news.Query{Clustered: true, Limit: 50, Listed: tc.listed})
				if err != nil || len(its) != 50 {
					b.Fatalf("%d items, %v", len(its), err)
				}
			}
		})
	}
}
