package redisstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// benchItem is item n of a network of 60 members, shaped like a typical feed item
// (a few hundred bytes of summary, no full content).
func benchItem(n int) news.Item {
	m := fmt.Sprintf("m%02d", n%60)
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
	return news.Item{
		ID:        fmt.Sprintf("%s-%08x", m, n),
		Key:       fmt.Sprintf("guid:https://%s.example.org/news/%d", m, n),
		Member:    m,
		Country:   []string{"CH", "AU", "FR", "DE", "JP", "BR"}[n%6],
		Region:    []string{"Europe", "Asia-Pacific", "Europe", "Europe", "Asia-Pacific", "Americas"}[n%6],
		Source:    "https://" + m + ".example.org/feed",
		GUID:      fmt.Sprintf("https://%s.example.org/news/%d", m, n),
		Title:     fmt.Sprintf("Cross-border family case %d resolved after mediation", n),
		Link:      fmt.Sprintf("https://%s.example.org/news/%d", m, n),
		Summary:   strings.Repeat("Social workers in two countries worked together to reunite a child with family. ", 3),
		Language:  []string{"en", "en", "fr", "de", "ja", "pt"}[n%6],
		Published: t, Updated: t, FirstSeen: t.Add(time.Hour),
		Categories: []string{"news", "child protection"},
	}
}

const benchBatch = 200

// BenchmarkUpsertNew writes batches of 200 items never seen before.
func BenchmarkUpsertNew(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		batch := make([]news.Item, benchBatch)
		for j := range batch {
			batch[j] = benchItem(n)
			n++
		}
		r, err := s.Upsert(ctx, batch)
		if err != nil || r.New != benchBatch {
			b.Fatalf("upsert = %+v, %v", r.New, err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "items/s")
}

// BenchmarkUpsertSeen writes batches of 200 stored, unchanged items (the common poll).
func BenchmarkUpsertSeen(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	batch := make([]news.Item, benchBatch)
	for j := range batch {
		batch[j] = benchItem(j)
	}
	if _, err := s.Upsert(ctx, batch); err != nil {
		b.Fatal(err)
	}
	for j := range batch {
		batch[j].FirstSeen = batch[j].FirstSeen.Add(24 * time.Hour)
	}
	n := 0
	start := time.Now()
	for b.Loop() {
		r, err := s.Upsert(ctx, batch)
		if err != nil || r.Unchanged != benchBatch {
			b.Fatalf("upsert = %+v, %v", r, err)
		}
		n += benchBatch
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "items/s")
}

// largeN is how many items BenchmarkNewest50 stores: 1,000,000 with NF_BENCH_LARGE=1.
func largeN() int {
	if os.Getenv("NF_BENCH_LARGE") == "1" {
		return 1_000_000
	}
	return 20_000
}

// fill stores n bench items through Upsert.
func fill(tb testing.TB, s *Store, n int) {
	tb.Helper()
	ctx := context.Background()
	batch := make([]news.Item, 0, 1000)
	for i := range n {
		batch = append(batch, benchItem(i))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.Upsert(ctx, batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkNewest50 reads the newest 50 items, unfiltered and filtered, from a store of
// largeN() items.
func BenchmarkNewest50(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	n := largeN()
	t0 := time.Now()
	fill(b, s, n)
	b.Logf("filled %d items in %v (%.0f items/s)", n, time.Since(t0).Round(time.Millisecond), float64(n)/time.Since(t0).Seconds())
	mid := benchItem(n / 2)
	queries := []struct {
		name string
		q    news.Query
	}{
		{"all", news.Query{Limit: 50}},
		{"member", news.Query{Members: []string{"m07"}, Limit: 50}},
		{"members3", news.Query{Members: []string{"m01", "m02", "m03"}, Limit: 50}},
		{"country+category", news.Query{Country: "FR", Category: "news", Limit: 50}},
		{"page-mid", news.Query{Limit: 50, Before: news.Cursor{Time: mid.SortTime(), ID: mid.ID}}},
		{"text-rare", news.Query{Text: fmt.Sprintf("case %d resolved", n-500), Limit: 50}},
	}
	for _, qc := range queries {
		b.Run(qc.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.Items(context.Background(), qc.q)
				if err != nil || len(got) == 0 {
					b.Fatalf("items = %d, %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkMemoryPerItem stores largeN() items and reports the Redis memory one stored item takes with its index
// entries: the sum of MEMORY USAGE over the network's keys, and the growth of
// used_memory, each divided by the number of items.
func BenchmarkMemoryPerItem(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	n := largeN()
	before := usedMemory(b, s)
	fill(b, s, n)
	after := usedMemory(b, s)
	var total int64
	var cursor uint64
	for {
		keys, next, err := s.c.Scan(ctx, cursor, s.p+"*", 1000).Result()
		if err != nil {
			b.Fatal(err)
		}
		pipe := s.c.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for _, c := range cmds {
			total += c.Val()
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	one, _ := s.c.MemoryUsage(ctx, s.itemKey(benchItem(0).ID), 0).Result()
	for b.Loop() {
	}
	b.ReportMetric(float64(total)/float64(n), "usage-B/item")
	b.ReportMetric(float64(after-before)/float64(n), "used_memory-B/item")
	b.ReportMetric(float64(one), "itemkey-B")
}

func usedMemory(tb testing.TB, s *Store) int64 {
	tb.Helper()
	info, err := s.c.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	tb.Fatal("no used_memory in INFO")
	return 0
}

// BenchmarkSources reads every source's state with its poll history (the dashboard's
// /sources), for 10,000 sources of 50 polls each, and reports redis-server's CPU a read.
func BenchmarkSources(b *testing.B) {
	url := redistest.Server(b)
	s := openT(b, withNetwork(url))
	ctx := context.Background()
	const n = 10_000
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		st := news.SourceState{URL: fmt.Sprintf("https://m%05d.example.org/feed", i), Member: fmt.Sprintf("m%05d", i),
			Kind: "feed", Health: news.HealthOK, LastPoll: t, LastSuccess: t, NextPoll: t.Add(time.Hour), HTTPCode: 200, Items: 20}
		for p := range 50 {
			st.History = append(st.History, news.PollRecord{At: t.Add(-time.Duration(p) * time.Hour), Duration: 120 * time.Millisecond, HTTPCode: 200, New: p % 3})
		}
		if err := s.PutSource(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	cpu := func() float64 {
		info, _ := c.Info(ctx, "cpu").Result()
		var sys, user float64
		for _, l := range strings.Split(info, "\r\n") {
			fmt.Sscanf(l, "used_cpu_sys:%f", &sys)
			fmt.Sscanf(l, "used_cpu_user:%f", &user)
		}
		return sys + user
	}
	c0, reads := cpu(), 0
	for b.Loop() {
		all, err := s.Sources(ctx)
		if err != nil || len(all) != n || len(all[0].History) != 50 {
			b.Fatalf("sources = %d, %v", len(all), err)
		}
		reads++
	}
	b.ReportMetric((cpu()-c0)/float64(reads)*1000, "redis-ms/op")
}
