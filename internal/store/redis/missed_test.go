package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// A copy of the story written by another worker after an item's candidates were read
// but before the item was written is found by the write and clustered with the item,
// whichever of the two is in a cluster already.
func TestClusterCopyWrittenMeanwhile(t *testing.T) {
	url := redistest.Server(t)
	ctx := context.Background()
	// dated is story 7 of member m published days after the first.
	dated := func(m string, days int) news.Item {
		it := storetest.Story(m, 1, 7)
		it.Published = it.Published.Add(time.Duration(days) * 24 * time.Hour)
		it.Updated = it.Published
		return it
	}
	for _, tc := range []struct {
		name     string
		before   []news.Item // stored before the write's candidates are read
		meantime []news.Item // written by the other worker during the write, the copy last
		item     news.Item
		want     int // items in the story's cluster
	}{
		{"both alone", nil, []news.Item{storetest.Story("au", 1, 7)}, storetest.Story("gs", 1, 7), 2},
		{"copy clustered", nil, []news.Item{storetest.Story("nz", 1, 7), storetest.Story("au", 1, 7)}, storetest.Story("gs", 1, 7), 3},
		{"same member", nil, []news.Item{storetest.Story("gs", 2, 7)}, storetest.Story("gs", 1, 7), 0},
		// The item joins nz's cluster; the copy, too late for nz's, stands alone
		// until the item's write finds it.
		{"item clustered", []news.Item{dated("nz", 0)}, []news.Item{dated("au", 40)}, dated("gs", 20), 3},
	} {
		for _, unwatched := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unwatched=%v", tc.name, unwatched), func(t *testing.T) {
				dsn := withNetwork(url)
				s, other := openT(t, dsn), openT(t, dsn)
				s.unwatched = unwatched // the write finds its filing applied already
				if _, err := s.Upsert(ctx, tc.before); err != nil {
					t.Fatal(err)
				}
				s.beforeWrite = func() {
					s.beforeWrite = nil
					for _, it := range tc.meantime {
						if _, err := other.Upsert(ctx, []news.Item{it}); err != nil {
							t.Error(err)
						}
					}
				}
				if _, err := s.Upsert(ctx, []news.Item{tc.item}); err != nil {
					t.Fatal(err)
				}
				got, err := s.Item(ctx, tc.item.ID)
				if err != nil {
					t.Fatal(err)
				}
				cp, err := s.Item(ctx, tc.meantime[len(tc.meantime)-1].ID)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want == 0 {
					if got.ClusterID != "" || cp.ClusterID != "" {
						t.Errorf("clusters %q and %q, want none", got.ClusterID, cp.ClusterID)
					}
					return
				}
				if got.ClusterID == "" || got.ClusterID != cp.ClusterID {
					t.Fatalf("item in cluster %q, copy written meanwhile in %q", got.ClusterID, cp.ClusterID)
				}
				es := decodeForTest(t, s, got.ClusterID)
				if es != tc.want {
					t.Errorf("cluster has %d items, want %d", es, tc.want)
				}
				if n := s.united.Load(); n != 1 {
					t.Errorf("united = %d, want 1", n)
				}
				shown, err := s.Items(ctx, news.Query{Clustered: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(shown) != 1 || len(shown[0].AlsoBy) != tc.want-1 {
					t.Errorf("clustered read shows %d items, want 1 also by %d others", len(shown), tc.want-1)
				}
			})
		}
	}
}

// decodeForTest counts the entries of cluster cid.
func decodeForTest(t *testing.T, s *Store, cid string) int {
	t.Helper()
	v, err := s.c.HGet(context.Background(), s.clustersKey(), cid).Result()
	if err != nil {
		t.Fatalf("read cluster %s: %v", cid, err)
	}
	es, err := parseEntries(v)
	if err != nil {
		t.Fatalf("cluster %s: %v", cid, err)
	}
	return len(es)
}

// A candidate trimmed (tombstoned) after the new item's plan was made is not joined
// by the write: the script checks its candidates against the tombstones too.
func TestTombstonedCandidateNotJoined(t *testing.T) {
	url := redistest.Server(t)
	ctx := context.Background()
	for _, trimmed := range []bool{false, true} {
		t.Run(fmt.Sprintf("trimmed=%v", trimmed), func(t *testing.T) {
			s := openT(t, withNetwork(url))
			cand, item := storetest.Story("au", 1, 7), storetest.Story("gs", 1, 7)
			if _, err := s.Upsert(ctx, []news.Item{cand}); err != nil {
				t.Fatal(err)
			}
			s.beforeWrite = func() {
				s.beforeWrite = nil
				if trimmed {
					if err := s.c.ZAdd(ctx, s.tombKey(), redis.Z{Score: 1, Member: cand.ID}).Err(); err != nil {
						t.Error(err)
					}
				}
			}
			if _, err := s.Upsert(ctx, []news.Item{item}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Item(ctx, item.ID)
			if err != nil {
				t.Fatal(err)
			}
			if joined := got.ClusterID != ""; joined == trimmed {
				t.Errorf("item in cluster %q; candidate trimmed: %v", got.ClusterID, trimmed)
			}
		})
	}
}
