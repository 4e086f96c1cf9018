package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Family Reunion", "family reunion"},
		{"Réunion FAMILIALE à Genève", "reunion familiale a geneve"},
		{"Ärzte über Grenzen", "arzte uber grenzen"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := identity.Fold(tc.in); got != tc.want {
				t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// itemsAt builds n items of members ms, all at the same time t0 except every fifth,
// which is one millisecond older; every third is in category "rare".
func itemsAt(ms []string, n int) []news.Item {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var out []news.Item
	for i := range n {
		m := ms[i%len(ms)]
		it := storetest.Item(m, i)
		it.ID = fmt.Sprintf("%s-%04d", m, i)
		it.Published = t0
		if i%5 == 0 {
			it.Published = t0.Add(-time.Millisecond)
		}
		it.Categories = []string{"news"}
		if i%3 == 0 {
			it.Categories = append(it.Categories, "rare")
		}
		if i%4 == 0 {
			it.Title = "Réunion à Genève"
		}
		out = append(out, it)
	}
	return out
}

// Paging through long runs of equal scores, across index batches and merged member
// sets, must return exactly the order "SortTime desc, ID desc", each item once.
func TestItemsPagingOverTies(t *testing.T) {
	s := openT(t, withNetwork(redistest.Server(t)))
	ctx := context.Background()
	items := itemsAt([]string{"gs", "au", "fr"}, 2500)
	if _, err := s.Upsert(ctx, items); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     news.Query
		match func(news.Item) bool
	}{
		{"all", news.Query{}, func(news.Item) bool { return true }},
		{"members", news.Query{Members: []string{"gs", "fr"}}, func(it news.Item) bool { return it.Member != "au" }},
		{"category", news.Query{Category: "rare"}, func(it news.Item) bool { return len(it.Categories) == 2 }},
		{"text folded", news.Query{Text: "reunion GENEVE", Members: []string{"au"}}, func(it news.Item) bool {
			return it.Member == "au" && strings.HasPrefix(it.Title, "Réunion")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			sorted := slices.Clone(items)
			slices.SortFunc(sorted, func(a, b news.Item) int {
				if c := b.Published.Compare(a.Published); c != 0 {
					return c
				}
				return strings.Compare(b.ID, a.ID)
			})
			for _, it := range sorted {
				if tc.match(it) {
					want = append(want, it.ID)
				}
			}
			var got []string
			q := tc.q
			q.Limit = 97
			for page := 0; ; page++ {
				if page > len(items) {
					t.Fatal("paging does not end")
				}
				res, err := s.Items(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) == 0 {
					break
				}
				got = append(got, ids(res)...)
				last := res[len(res)-1]
				q.Before = news.Cursor{Time: last.SortTime(), ID: last.ID}
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged %d items, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func ids(items []news.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
