package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// Words of the loopback fleet's items (shared/tools/fleet): titles and bodies drawn
// from a small vocabulary, so that most new items have cluster candidates and most
// join a cluster, as in the fleet's first poll.
var (
	fleetPlaces   = []string{"Geneva", "Melbourne", "Toronto", "Athens", "Manila", "Caracas", "Sofia", "Bucharest", "Osaka", "Hamburg", "Utrecht", "Leeds", "Baltimore", "Lisbon", "Durban", "Haifa", "Auckland", "Hong Kong"}
	fleetSubjects = []string{"City council", "The regional board", "A citizens' panel", "The health authority", "The school board", "The port operator", "A volunteer group", "The university", "A coalition of charities", "The transit agency", "A research team", "The housing office", "The farmers' union", "The national court", "The chamber of commerce", "The energy regulator"}
	fleetVerbs    = []string{"approves", "rejects", "unveils", "delays", "expands", "reviews", "launches", "funds", "questions", "completes", "plans", "doubles", "suspends", "publishes", "defends", "simplifies"}
	fleetObjects  = []string{"a new budget for public transport", "plans for affordable housing", "a pilot programme for child care", "the long-awaited bridge repair", "a report on water quality", "changes to school meals", "an overhaul of recycling rules", "a fund for family mediation", "a study of commuter habits", "the harbour modernisation", "a network of cycle lanes", "new rules for short-term rentals"}
	fleetTails    = []string{"after months of debate", "despite objections", "ahead of the winter", "with cross-party support", "following a public consultation", "as costs rise", "in a surprise vote", "for the third year running", "under new leadership", "amid calls for transparency"}
	fleetFillers  = []string{
		"Officials said the decision followed a review of figures collected over the past two years.",
		"Critics argue that the timeline is too ambitious and that funding remains uncertain.",
		"The proposal will be discussed again at the next public meeting, where residents can comment.",
		"According to the published documents, the first phase should be completed before the end of the year.",
		"Several community groups welcomed the announcement but asked for clearer reporting on progress.",
		"A spokesperson described the measure as a practical step rather than a final answer.",
		"Independent experts noted that similar programmes elsewhere produced mixed results.",
		"The costs will be shared between the municipality, the region and private partners.",
		"Families affected by the change will receive a letter explaining what happens next.",
		"Data from the pilot suggest that demand is higher than originally expected.",
		"Opposition members requested an audit before any further money is committed.",
		"The agency said it would publish monthly updates on its website and in its newsletter.",
		"Staff shortages remain the main obstacle, according to an internal memo seen by reporters.",
		"Neighbouring districts are watching closely and may adopt the same approach next spring.",
		"The plan includes a complaints procedure and an independent oversight committee.",
		"Local businesses expect short-term disruption but long-term benefits for the area.",
	}
)

// fleetFeed is the 20 items of fleet feed f, one member per feed.
func fleetFeed(f int) []news.Item {
	m := "f" + strconv.Itoa(f)
	out := make([]news.Item, 20)
	for n := range out {
		r := rand.New(rand.NewPCG(uint64(f), uint64(n)))
		title := fmt.Sprintf("%s in %s %s %s %s", fleetSubjects[r.IntN(len(fleetSubjects))], fleetPlaces[r.IntN(len(fleetPlaces))],
			fleetVerbs[r.IntN(len(fleetVerbs))], fleetObjects[r.IntN(len(fleetObjects))], fleetTails[r.IntN(len(fleetTails))])
		var b strings.Builder
		b.WriteString(title + ". ")
		for b.Len() < 1000 {
			b.WriteString(fleetFillers[r.IntN(len(fleetFillers))] + " ")
		}
		t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(20-n)*3*time.Hour - time.Duration(f%180)*time.Minute)
		link := fmt.Sprintf("http://127.0.0.1/s/%d/item-%d.html", f, n)
		out[n] = news.Item{
			ID: identity.ID(m, "guid:"+link), Key: "guid:" + link, Member: m, Source: "http://127.0.0.1/f/" + m,
			GUID: link, Title: title, Link: link, Summary: b.String(), Language: "en",
			Published: t, Updated: t, FirstSeen: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Categories: []string{"Health"},
		}
	}
	return out
}

// BenchmarkUpsertFleet writes fleet feeds of 20 new items each, one Upsert per feed,
// from 4 writers at once (the poll stores up to 32 feeds at once): an op is one feed.
// redis-µs/item is the redis-server's CPU time (INFO cpu) per item written, go-µs/item
// this process's; run with a fixed count (-benchtime=500x) to compare: the cost of an
// item grows with what the store holds.
func BenchmarkUpsertFleet(b *testing.B) {
	s := openT(b, withNetwork(redistest.Server(b)))
	ctx := context.Background()
	feeds := make([][]news.Item, b.N)
	for f := range feeds {
		feeds[f] = fleetFeed(f)
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	r0, g0 := redisCPU(b, s), processCPU()
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				f := next
				next++
				mu.Unlock()
				if f >= len(feeds) {
					return
				}
				if _, err := s.Upsert(ctx, feeds[f]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	items := float64(20 * len(feeds))
	b.ReportMetric(float64(time.Since(start).Microseconds())/items, "wall-µs/item")
	b.ReportMetric(float64((redisCPU(b, s)-r0).Microseconds())/items, "redis-µs/item")
	b.ReportMetric(float64((processCPU()-g0).Microseconds())/items, "go-µs/item")
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

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
