package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storyindex"
)

// The story-key index (store/cluster.go: which items are filed under each of a new
// item's 33 story keys, storyindex.Index) lives in memory, over the newest
// RecentStories items filed, and is rebuilt from the end of the storylog bucket when
// the file is opened (and after a write fails, since the rolled-back filings must go).
// On disk it would be a B+tree of millions of random 8-byte keys where each new item
// dirties a page per key: every commit would rewrite most of the tree, and polling cost
// would grow with the square of the items stored.
//
// The window bounds what a cluster decision can find to the newest RecentStories
// items, as store.BandDepth already bounds each key to its newest 16: a network posts
// far fewer items than that within store.ClusterWindow.

// RecentStories is how many of the newest items the story-key index holds.
const RecentStories = storyindex.Window

// fileBands files st under its story keys.
func (s *Store) fileBands(st *store.Story, keys [][]byte) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.bands.Load().File(st, keys)
}

// candidates is storyindex.Index.Candidates under the index's lock.
func (s *Store) candidates(st *store.Story, keys [][]byte) []store.ClusterEntry {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	return s.bands.Load().Candidates(st, keys)
}

// plan works out, in the caller's goroutine, the cluster candidates of the items of a
// write not stored yet (fresh, by prepareNew) and files their stories in the story-key
// index, so that the writer, while it commits the writes before, is spared the
// index's work: ranking, confirming and filing are most of a cluster decision. The
// caller holds planMu until the write is queued, so writes are planned in the order
// the writer runs them, and an item's plan has seen every item written before it.
// The writer checks each candidate as it runs the write (decideCluster); a plan made
// before a failed transaction rebuilt the index is not used (its epoch is past).
func (s *Store) plan(items []news.Item, fresh map[string]*newItem) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	idx, epoch := s.bands.Load(), s.epoch.Load()
	for i := range items {
		p := fresh[items[i].ID]
		if p == nil || p.epoch != 0 {
			continue // stored already, or a later copy in the batch
		}
		p.cands = idx.Candidates(&p.story, p.keys)
		idx.File(&p.story, p.keys)
		p.epoch = epoch
	}
}

// restoryBands is storyindex.Index.Restory under the index's lock.
func (s *Store) restoryBands(st *store.Story) {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.bands.Load().Restory(st)
}

// loadBands rebuilds the story-key index from the stories of the newest RecentStories
// items (by first-seen time): the last of the storylog, filed oldest first. The plans
// made on the index it replaces are no longer used.
func (s *Store) loadBands() error {
	s.bandMu.Lock()
	defer s.bandMu.Unlock()
	s.epoch.Add(1)
	idx := storyindex.New(s.window)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bStoryLog).Cursor()
		var newest [][]byte // values, newest first
		for k, v := c.Last(); k != nil && len(newest) < s.window; k, v = c.Prev() {
			newest = append(newest, v)
		}
		for i := len(newest) - 1; i >= 0; i-- {
			st, err := store.ParseStory(newest[i])
			if err != nil {
				return fmt.Errorf("story %d from the newest: %w", i, err)
			}
			idx.File(&st, st.Keys())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load story index: %w", err)
	}
	s.bands.Store(idx)
	return nil
}
