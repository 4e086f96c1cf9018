package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
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

// FleetFeed is the 20 items of fleet feed f, one member per feed, as the fleet's first
// poll stores them: dates spread over about 60 hours, most items with cluster candidates,
// first seen at the time of the feed's refresh (3 ms after feed f-1's).
func FleetFeed(f int) []news.Item {
	m := "f" + strconv.Itoa(f)
	out := make([]news.Item, 20)
	// The poll gives a feed's items the time of its refresh: later feeds, later times.
	firstSeen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(f) * 3 * time.Millisecond)
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
			Published: t, Updated: t, FirstSeen: firstSeen, Categories: []string{"Health"},
		}
	}
	return out
}

// ProcessCPU is the CPU time this process has used (user and system), for benchmarks.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FleetFeeds is fleet feeds 0 to n-1 (FleetFeed).
func FleetFeeds(n int) [][]news.Item {
	feeds := make([][]news.Item, n)
	for f := range feeds {
		feeds[f] = FleetFeed(f)
	}
	return feeds
}

// UpsertAll writes feeds with upsert, one call per feed, from writers goroutines at once
// (as polling does), and reports a failed write to tb.
func UpsertAll(tb testing.TB, feeds [][]news.Item, writers int, upsert func(context.Context, []news.Item) (news.UpsertResult, error)) {
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	for range writers {
		wg.Go(func() {
			for {
				mu.Lock()
				f := next
				next++
				mu.Unlock()
				if f >= len(feeds) {
					return
				}
				if _, err := upsert(context.Background(), feeds[f]); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
