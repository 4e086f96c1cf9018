package bolt

import (
	"encoding/json"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Cluster buckets (see store/cluster.go for the rules).
var (
	bBands     = []byte("bands")     // story key (8 bytes) -> packed IDs, newest first, at most store.BandDepth
	bClusters  = []byte("clusters")  // cluster id -> JSON []store.ClusterEntry
	bInCluster = []byte("incluster") // item id -> cluster id
	bHidden    = []byte("hidden")    // id of an item clustered timelines skip -> nil
)

// joinCluster decides, for the new item it (already put), which cluster it joins, and
// files it under its story keys. It runs in the transaction that inserts the item.
func (s *Store) joinCluster(tx *bbolt.Tx, it *news.Item) error {
	d, err := s.decideCluster(tx, it)
	if err != nil {
		return err
	}
	if d.cid != "" {
		for _, id := range []string{d.with, it.ID} {
			if err := tx.Bucket(bInCluster).Put([]byte(id), []byte(d.cid)); err != nil {
				return err
			}
		}
		if err := saveCluster(tx, d.cid, d.entries); err != nil {
			return err
		}
	}
	return s.fileBands(tx, it.ID, d.keys)
}

// decision is what decideCluster found: the item's story keys and, when it joins a
// cluster, the cluster, its entries with the item added, and the candidate it matched.
type decision struct {
	keys    [][]byte
	cid     string
	entries []store.ClusterEntry
	with    string
}

// decideCluster reads, without writing, the candidates filed under it's story keys
// and picks the cluster it joins: at most 1+identity.NumBands index reads and
// store.BandDepth item reads per key. The caller holds s.wmu (or no Upsert runs).
func (s *Store) decideCluster(tx *bbolt.Tx, it *news.Item) (decision, error) {
	sig := store.Signature(it)
	d := decision{keys: store.StoryKeys(it, sig)}
	items, bands := tx.Bucket(bItems), tx.Bucket(bBands).Cursor()
	perKey := make([][]string, len(d.keys))
	for i, k := range d.keys {
		s.lookups.Add(1)
		perKey[i] = s.bandIDs(bands, k)
	}
	var cands []news.Item
	for _, id := range store.RankCandidates(it, perKey) {
		s.lookups.Add(1)
		c, found, err := getItem(items, []byte(id))
		if err != nil {
			return d, err
		}
		if found { // else trimmed since it was filed
			cands = append(cands, c)
		}
	}
	for _, c := range store.Confirm(it, sig, cands) {
		cid := c.ID
		if v := tx.Bucket(bInCluster).Get([]byte(c.ID)); v != nil {
			cid = string(v)
		}
		es, err := loadCluster(tx, cid)
		if err != nil {
			return d, err
		}
		if len(es) == 0 {
			es = []store.ClusterEntry{store.EntryOf(&c)}
		}
		if store.HasMember(es, it.Member) || len(es) >= store.MaxClusterSize {
			continue // one copy per member (another copy of it.Member is there), or full
		}
		d.cid, d.entries, d.with = cid, append(es, store.EntryOf(it)), c.ID
		break
	}
	return d, nil
}

// redateCluster records the new sort time of a clustered item after an update.
func redateCluster(tx *bbolt.Tx, it *news.Item) error {
	cid := tx.Bucket(bInCluster).Get([]byte(it.ID))
	if cid == nil {
		return nil
	}
	es, err := loadCluster(tx, string(cid))
	if err != nil {
		return err
	}
	for i := range es {
		if es[i].ID == it.ID {
			es[i] = store.EntryOf(it)
		}
	}
	return saveCluster(tx, string(cid), es)
}

// leaveCluster takes a removed item out of its cluster.
func leaveCluster(tx *bbolt.Tx, id []byte) error {
	if err := tx.Bucket(bHidden).Delete(id); err != nil {
		return err
	}
	cid := tx.Bucket(bInCluster).Get(id)
	if cid == nil {
		return nil
	}
	c := string(cid)
	if err := tx.Bucket(bInCluster).Delete(id); err != nil {
		return err
	}
	es, err := loadCluster(tx, c)
	if err != nil {
		return err
	}
	es = slices.DeleteFunc(es, func(e store.ClusterEntry) bool { return e.ID == string(id) })
	return saveCluster(tx, c, es)
}

func loadCluster(tx *bbolt.Tx, cid string) ([]store.ClusterEntry, error) {
	v := tx.Bucket(bClusters).Get([]byte(cid))
	if v == nil {
		return nil, nil
	}
	var es []store.ClusterEntry
	if err := json.Unmarshal(v, &es); err != nil {
		return nil, fmt.Errorf("decode cluster %s: %w", cid, err)
	}
	return es, nil
}

// saveCluster stores a cluster's entries (deleting it when none are left) and gives its
// items their ClusterID, AlsoBy and shown or hidden state.
func saveCluster(tx *bbolt.Tx, cid string, es []store.ClusterEntry) error {
	cb := tx.Bucket(bClusters)
	if len(es) == 0 {
		return cb.Delete([]byte(cid))
	}
	v, err := json.Marshal(es)
	if err != nil {
		return fmt.Errorf("encode cluster %s: %w", cid, err)
	}
	if err := cb.Put([]byte(cid), v); err != nil {
		return err
	}
	shown := store.Shown(es)
	also := store.AlsoBy(es, shown)
	items, hidden := tx.Bucket(bItems), tx.Bucket(bHidden)
	for i, e := range es {
		id := []byte(e.ID)
		if i == shown {
			err = hidden.Delete(id)
		} else {
			err = hidden.Put(id, []byte{1})
		}
		if err != nil {
			return err
		}
		it, found, err := getItem(items, id)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		want := []string(nil)
		if i == shown {
			want = also
		}
		if it.ClusterID == cid && slices.Equal(it.AlsoBy, want) {
			continue
		}
		it.ClusterID, it.AlsoBy = cid, want
		nv, err := json.Marshal(&it)
		if err != nil {
			return fmt.Errorf("encode item %s: %w", e.ID, err)
		}
		if err := items.Put(id, nv); err != nil {
			return err
		}
	}
	return nil
}
