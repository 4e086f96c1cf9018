package redisstore

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// BenchmarkUpsertFleet writes fleet feeds of 20 new items each, one Upsert per feed,
// from 4 writers at once (the poll stores up to 32 feeds at once): an op is one feed.
// redis-µs/item is the redis-server's CPU time (INFO cpu) per item written, go-µs/item
// this process's; run with a fixed count (-benchtime=500x) to compare: the cost of an
// item grows with what the store holds.
func BenchmarkUpsertFleet(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	feeds := storetest.FleetFeeds(b.N)
	b.ResetTimer()
	r0, g0 := redisCPU(b, s), storetest.ProcessCPU()
	start := time.Now()
	storetest.UpsertAll(b, feeds, 4, s.Upsert)
	b.StopTimer()
	items := float64(20 * len(feeds))
	b.ReportMetric(float64(time.Since(start).Microseconds())/items, "wall-µs/item")
	b.ReportMetric(float64((redisCPU(b, s)-r0).Microseconds())/items, "redis-µs/item")
	b.ReportMetric(float64((storetest.ProcessCPU()-g0).Microseconds())/items, "go-µs/item")
	if os.Getenv("NF_BENCH_CMDSTATS") != "" { // where the server's time went
		info, _ := s.c.Info(ctx, "commandstats").Result()
		b.Log(info)
	}
	var clustered int64
	if v, err := s.c.HLen(ctx, s.clusterOfKey()).Result(); err == nil {
		clustered = v
	}
	b.ReportMetric(float64(clustered)/items, "clustered/item")
}

// redisCPU is the CPU time the Redis server has used (user and system).
func redisCPU(tb testing.TB, s *Store) time.Duration {
	tb.Helper()
	info, err := s.c.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}
