package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// Random inserts of copies, updates (redated, words changed) and trims leave the
// records beside items, the storylog, the clusters and the writer's cluster cache
// agreeing with each other, before and after a migration from the previous layout.
func TestRecordsStayConsistent(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nf.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close() }()
			rng := rand.New(rand.NewPCG(seed, 1))
			members := []string{"gs", "au", "fr", "be", "de", "it"}
			next := map[string]int{}
			var ids []news.Item
			for step := range 300 {
				var batch []news.Item
				for range 1 + rng.IntN(3) {
					if len(ids) > 0 && rng.IntN(3) == 0 { // update
						it := ids[rng.IntN(len(ids))]
						if rng.IntN(2) == 0 {
							it.Published = it.Published.Add(time.Duration(rng.IntN(5)-2) * time.Hour)
						} else {
							st := storetest.Story(it.Member, 1, rng.IntN(4))
							it.Title, it.Summary = st.Title, st.Summary
						}
						batch = append(batch, it)
						continue
					}
					m := members[rng.IntN(len(members))]
					next[m]++
					it := storetest.Story(m, next[m], rng.IntN(4))
					it.Published = it.Published.Add(time.Duration(rng.IntN(48)) * time.Hour)
					it.FirstSeen = it.FirstSeen.Add(time.Duration(step) * time.Minute)
					batch = append(batch, it)
					ids = append(ids, it)
				}
				// Two writers at once: their writes may share a transaction.
				var wg sync.WaitGroup
				for _, part := range [][]news.Item{batch[:len(batch)/2], batch[len(batch)/2:]} {
					wg.Go(func() {
						if _, err := s.Upsert(t.Context(), part); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				if rng.IntN(10) == 0 {
					m := members[rng.IntN(len(members))]
					if _, err := s.Trim(t.Context(), "https://"+m+".example.org/feed", 2+rng.IntN(3), 0, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
				if step == 150 { // reopened from the previous version's layout
					s.Close()
					toOldLayout(t, path)
					if s, err = Open(path); err != nil {
						t.Fatal(err)
					}
				}
				checkRecords(t, s)
				if t.Failed() {
					t.Fatalf("after step %d", step)
				}
			}
		})
	}
}

func checkRecords(t *testing.T, s *Store) {
	t.Helper()
	cache := map[string][]store.ClusterEntry{}
	if err := s.update(t.Context(), func(*bbolt.Tx) error {
		for k, v := range s.clusters {
			cache[k] = slices.Clone(v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		ib := tx.Bucket(bItems)
		items := map[string]news.Item{}
		recs := map[string]map[byte][]byte{}
		ib.ForEach(func(k, v []byte) error {
			if n := len(k); n > 2 && k[n-2] == 0 {
				id := string(k[:n-2])
				if recs[id] == nil {
					recs[id] = map[byte][]byte{}
				}
				recs[id][k[n-1]] = bytes.Clone(v)
				return nil
			}
			it, found, err := getItem(tx, k)
			if err != nil || !found {
				t.Errorf("item %s: %v %v", k, found, err)
			}
			items[string(k)] = it
			return nil
		})
		for id := range recs {
			if _, ok := items[id]; !ok {
				t.Errorf("records %v left beside missing item %s", recs[id], id)
			}
		}
		if n := tx.Bucket(bBodies).Stats().KeyN; n != len(items) {
			t.Errorf("%d bodies for %d items", n, len(items))
		}
		stories := map[string]int{}
		tx.Bucket(bStoryLog).ForEach(func(k, v []byte) error {
			id := string(k[8:])
			fs := int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63))
			stories[id]++
			it, ok := items[id]
			if !ok {
				t.Errorf("story of missing item %s", id)
			} else if it.FirstSeen.UnixMilli() != fs {
				t.Errorf("story of %s filed at %d, first seen %d", id, fs, it.FirstSeen.UnixMilli())
			}
			return nil
		})
		for id, n := range stories {
			if n != 1 {
				t.Errorf("%d stories of %s", n, id)
			}
		}
		for id := range items {
			if stories[id] == 0 {
				t.Errorf("no story of %s", id)
			}
		}
		tx.Bucket(bClusters).ForEach(func(k, v []byte) error {
			cid := string(k)
			es, err := loadCluster(tx, cid)
			if err != nil {
				t.Error(err)
				return nil
			}
			if c, ok := cache[cid]; ok && !slices.Equal(c, es) {
				t.Errorf("cache of %s: %v, file %v", cid, c, es)
			}
			shown := store.Shown(es)
			for i, e := range es {
				it, ok := items[e.ID]
				if !ok {
					t.Errorf("cluster %s has missing item %s", cid, e.ID)
					continue
				}
				if e != store.EntryOf(&it) {
					t.Errorf("cluster %s entry %+v, item %+v", cid, e, store.EntryOf(&it))
				}
				if string(recs[e.ID]['c']) != cid {
					t.Errorf("item %s of cluster %s has c=%q", e.ID, cid, recs[e.ID]['c'])
				}
				if _, hidden := recs[e.ID]['h']; hidden != (i != shown) {
					t.Errorf("item %s of cluster %s: hidden %v, shown %v", e.ID, cid, hidden, i == shown)
				}
				want := []string(nil)
				if i == shown {
					want = store.AlsoBy(es, i)
				}
				if it.ClusterID != cid || !slices.Equal(it.AlsoBy, want) {
					t.Errorf("item %s read with %q %v, want %q %v", e.ID, it.ClusterID, it.AlsoBy, cid, want)
				}
			}
			return nil
		})
		for cid, c := range cache {
			if len(c) > 0 && tx.Bucket(bClusters).Get([]byte(cid)) == nil {
				t.Errorf("cache holds deleted cluster %s: %v", cid, c)
			}
		}
		for id, r := range recs {
			if c, ok := r['c']; ok {
				es, _ := loadCluster(tx, string(c))
				if !slices.ContainsFunc(es, func(e store.ClusterEntry) bool { return e.ID == id }) {
					t.Errorf("item %s says cluster %s, not in it: %v", id, c, es)
				}
			} else if _, ok := r['h']; ok {
				t.Errorf("item %s hidden in no cluster", id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
