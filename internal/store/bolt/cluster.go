package bolt

import (
	"encoding/json"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Clusters (see store/cluster.go for the rules). Each item in a cluster has the
// cluster's ID under clusterKey, and those clustered timelines skip a mark under
// hiddenKey, beside the item in the items bucket.
var bClusters = []byte("clusters") // cluster id -> store.AppendEntries (JSON in files written before)

// joinCluster decides, for the new item it (with story st, not written yet), which
// cluster it joins, giving it its ClusterID and AlsoBy, and files it under its story
// keys. It runs in the transaction that inserts the item.
func (s *Store) joinCluster(tx *bbolt.Tx, it *news.Item, p *newItem) error {
	st := &p.story
	d, err := s.decideCluster(tx, p)
	if err != nil {
		return err
	}
	if d.cid != "" {
		// Gives the item and, for a new cluster, the candidate their cluster records.
		if err := s.saveCluster(tx, d.cid, d.old, d.entries, it); err != nil {
			return err
		}
	}
	if err := putStory(tx, st, p.encoded); err != nil {
		return err
	}
	if !d.planned {
		s.fileBands(st, d.keys)
	}
	return nil
}

// decision is what decideCluster found: the item's story keys and, when it joins a
// cluster, the cluster, its entries before and with the item added, and the candidate
// it matched.
type decision struct {
	keys         [][]byte
	cid          string
	old, entries []store.ClusterEntry
	with         string
	planned      bool // the candidates were those of the item's plan, which filed it
}

// decideCluster reads, without writing, the candidates filed under the new item's
// story keys (or takes those of its plan) and picks the cluster it joins: at most
// 1+identity.NumBands lookups in the in-memory story-key index, which holds the
// candidates' stories, and a read of the chosen candidate's cluster.
func (s *Store) decideCluster(tx *bbolt.Tx, p *newItem) (decision, error) {
	st := &p.story
	if p.keys == nil {
		p.keys = st.Keys()
	}
	d := decision{keys: p.keys}
	s.lookups.Add(uint64(len(d.keys)))
	cands := p.cands
	if d.planned = p.epoch == s.epoch.Load(); !d.planned { // 0 (not planned) is no epoch
		cands = s.candidates(st, d.keys)
	}
	items := tx.Bucket(bItems)
	for _, c := range cands {
		r, found := readItem(items, []byte(c.ID))
		if !found {
			continue // trimmed since it was filed
		}
		cid := c.ID
		if r.cluster != nil {
			cid = string(r.cluster)
		}
		old, err := s.cluster(tx, cid)
		if err != nil {
			return d, err
		}
		es := old
		if len(es) == 0 {
			// Read again: the candidate may have been redated since it was filed.
			cur, found, err := getStory(tx, c.FirstSeen, c.ID)
			if err != nil {
				return d, err
			}
			if !found {
				continue
			}
			es = []store.ClusterEntry{cur.Entry()}
		}
		if store.HasMember(es, st.Member) || len(es) >= store.MaxClusterSize {
			continue // one copy per member (another copy of it.Member is there), or full
		}
		d.cid, d.old, d.entries, d.with = cid, old, append(slices.Clip(es), st.Entry()), c.ID
		break
	}
	return d, nil
}

// getStory reads the story recorded for item id, first seen at firstSeen (Unix
// milliseconds); an item stored without one (written before stories were recorded) is
// read and signed instead.
func getStory(tx *bbolt.Tx, firstSeen int64, id string) (store.Story, bool, error) {
	if v := tx.Bucket(bStoryLog).Get(storyKey(firstSeen, id)); v != nil {
		st, err := store.ParseStory(v)
		return st, err == nil, err
	}
	it, found, err := getItem(tx, []byte(id))
	if err != nil || !found {
		return store.Story{}, false, err
	}
	return store.StoryOf(&it), true, nil
}

// putStory records st, filed by first-seen time: new stories land at the end of the
// storylog tree, on pages already dirty. encoded, when not nil, is st's encoding.
func putStory(tx *bbolt.Tx, st *store.Story, encoded []byte) error {
	b := tx.Bucket(bStoryLog)
	b.FillPercent = 0.9
	if encoded == nil {
		encoded = st.AppendBinary(nil)
	}
	return b.Put(storyKey(st.FirstSeen, st.ID), encoded)
}

// restory updates the story recorded for an item updated in place from old to next
// (signed again when its words or language changed, else given its new date and link),
// in the file and in the story-key index.
func (s *Store) restory(tx *bbolt.Tx, old, next *news.Item) error {
	// An updated item keeps its first-seen time (store.Merge), so its story's place.
	v := tx.Bucket(bStoryLog).Get(storyKey(old.FirstSeen.UnixMilli(), old.ID))
	var st store.Story
	if v != nil && old.Title == next.Title && old.Summary == next.Summary && old.Language == next.Language {
		var err error
		if st, err = store.ParseStory(v); err != nil {
			return err
		}
		st.Redate(next)
	} else {
		st = store.StoryOf(next)
	}
	if st.FirstSeen != old.FirstSeen.UnixMilli() { // not kept: move the story to its place
		if err := tx.Bucket(bStoryLog).Delete(storyKey(old.FirstSeen.UnixMilli(), old.ID)); err != nil {
			return err
		}
	}
	if err := putStory(tx, &st, nil); err != nil {
		return err
	}
	// Later decisions compare against the story as it is now, found under its keys as
	// they are now.
	s.restoryBands(&st)
	return nil
}

// redateCluster records the new sort time of a clustered item after an update.
func (s *Store) redateCluster(tx *bbolt.Tx, it *news.Item) error {
	cid := tx.Bucket(bItems).Get(clusterKey([]byte(it.ID)))
	if cid == nil {
		return nil
	}
	old, err := s.cluster(tx, string(cid))
	if err != nil {
		return err
	}
	es := slices.Clone(old)
	for i := range es {
		if es[i].ID == it.ID {
			es[i] = store.EntryOf(it)
		}
	}
	if slices.Equal(old, es) {
		return nil
	}
	return s.saveCluster(tx, string(cid), old, es, nil)
}

// leaveCluster takes a removed item, it, out of its cluster and drops its story.
func (s *Store) leaveCluster(tx *bbolt.Tx, it *news.Item) error {
	id, items := []byte(it.ID), tx.Bucket(bItems)
	if err := items.Delete(hiddenKey(id)); err != nil {
		return err
	}
	if err := tx.Bucket(bStoryLog).Delete(storyKey(it.FirstSeen.UnixMilli(), it.ID)); err != nil {
		return err
	}
	cid := items.Get(clusterKey(id))
	if cid == nil {
		return nil
	}
	c := string(cid)
	if err := items.Delete(clusterKey(id)); err != nil {
		return err
	}
	old, err := s.cluster(tx, c)
	if err != nil {
		return err
	}
	es := slices.DeleteFunc(slices.Clone(old), func(e store.ClusterEntry) bool { return e.ID == string(id) })
	return s.saveCluster(tx, c, old, es, nil)
}

// cluster is loadCluster for the writer, through the cache of the clusters it read or
// wrote lately (Store.clusters). The entries returned must not be changed.
func (s *Store) cluster(tx *bbolt.Tx, cid string) ([]store.ClusterEntry, error) {
	if es, ok := s.clusters[cid]; ok {
		return es, nil
	}
	es, err := loadCluster(tx, cid)
	if err == nil {
		s.cacheCluster(cid, es)
	}
	return es, err
}

// cacheCluster records cid's entries as the writer's transaction now has them.
func (s *Store) cacheCluster(cid string, es []store.ClusterEntry) {
	if len(s.clusters) >= maxCachedClusters {
		clear(s.clusters)
	}
	if s.clusters == nil {
		s.clusters = map[string][]store.ClusterEntry{}
	}
	s.clusters[cid] = slices.Clip(es)
}

// maxCachedClusters bounds the writer's cluster cache: a copy joins one of the
// clusters of the last weeks, fewer than this in a network's news. (The N=10,000 fleet
// poll, which makes thousands of clusters of up to 32 items, ran as fast with 1,024 as
// with 16,384, which held 35-60 MB more.)
const maxCachedClusters = 1 << 10

func loadCluster(tx *bbolt.Tx, cid string) ([]store.ClusterEntry, error) {
	v := tx.Bucket(bClusters).Get([]byte(cid))
	if v == nil {
		return nil, nil
	}
	if store.IsEntries(v) {
		es, err := store.ParseEntries(v)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cid, err)
		}
		return es, nil
	}
	var es []store.ClusterEntry
	if err := json.Unmarshal(v, &es); err != nil {
		return nil, fmt.Errorf("decode cluster %s: %w", cid, err)
	}
	return es, nil
}

// saveCluster stores a cluster's entries, es, replacing old (deleting it when none
// are left), and gives the items whose place in it changed their records: the cluster
// ID beside items not in old, and the hidden mark beside every item but the shown one
// (which moves when an earlier copy arrives or the shown item leaves). No item is
// re-encoded, and a grown AlsoBy costs no write but the cluster's: the shown item's
// AlsoBy is read from the entries. fresh, when not nil, is a new item not written
// yet, with no records; it is given its ClusterID and AlsoBy in memory too.
func (s *Store) saveCluster(tx *bbolt.Tx, cid string, old, es []store.ClusterEntry, fresh *news.Item) error {
	cb := tx.Bucket(bClusters)
	s.cacheCluster(cid, es)
	if len(es) == 0 {
		return cb.Delete([]byte(cid))
	}
	if err := cb.Put([]byte(cid), store.AppendEntries(nil, es)); err != nil {
		return err
	}
	oldShown := ""
	if len(old) > 0 {
		oldShown = old[store.Shown(old)].ID
	}
	shown := store.Shown(es)
	items := tx.Bucket(bItems)
	for i, e := range es {
		isShown, isFresh := i == shown, fresh != nil && fresh.ID == e.ID
		if isFresh {
			fresh.ClusterID, fresh.AlsoBy = cid, nil
			if isShown {
				fresh.AlsoBy = store.AlsoBy(es, i)
			}
		}
		id := []byte(e.ID)
		if !slices.ContainsFunc(old, func(o store.ClusterEntry) bool { return o.ID == e.ID }) {
			if err := items.Put(clusterKey(id), []byte(cid)); err != nil {
				return err
			}
		} else if wasShown := e.ID == oldShown; wasShown == isShown {
			continue // its place in the cluster is as it was
		}
		var err error
		switch {
		case !isShown:
			err = items.Put(hiddenKey(id), []byte{1})
		case !isFresh:
			err = items.Delete(hiddenKey(id))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
