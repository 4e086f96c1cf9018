// Package bolt is the embedded store: one bbolt file, safe across restarts, the default
// backend. Items are JSON values kept in the order they were first stored, found by
// ID through a small record; timelines are ordered index keys (scope, time, id) so
// reading the newest N of any filter is a seek and N steps.
//
// Cluster decisions read each item's story (store.Story) from the "storylog" bucket,
// filed by first-seen time, and find candidates through an in-memory index of the
// newest items' story keys, rebuilt from the end of that bucket when the file is
// opened (see bands.go). Files written by earlier versions are brought to this layout
// when opened (migrate).
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storyindex"
)

// Buckets. An item's own records sit beside it in the items bucket, under its ID and a
// suffix (clusterKey, hiddenKey), so that writing an item and its cluster state dirties
// one page rather than one in each of several trees of random keys, and a cluster's
// changes never re-encode an item: its ClusterID is read from those records and its
// AlsoBy from its cluster's entries (getItem), not from its JSON. Its story, read
// newest first when the file is opened, is filed by first-seen time (storyKey).
//
// An item's JSON is in the bodies bucket, under a number given in the order items are
// first stored, and the items bucket holds that number (8 bytes) under its ID. IDs
// are hashes, so a new item lands at a random place in the items bucket and dirties a
// page there: with the JSON beside the ID (about 1.5 KB), two or three items filled
// that page, and each new item rewrote a page of its own; with only the number, a
// page holds about a hundred, and the items of one transaction share pages. The
// bodies themselves are appended, in full pages (appendBody).
var (
	bItems    = []byte("items")    // id -> body number(8); id \x00 'c' -> cluster id; id \x00 'h' -> hidden
	bBodies   = []byte("bodies")   // body number(8) -> item JSON
	bIndex    = []byte("index")    // scope \x00 time(8) id -> nil
	bKeys     = []byte("keys")     // member \x00 key -> id ; member \x01 canonical -> id
	bTombs    = []byte("tombs")    // id -> trimmed at (unix seconds); expired after retention's max_age (Trim)
	bSources  = []byte("sources")  // url -> state JSON, its history cut to the newest poll
	bHistory  = []byte("history")  // url -> the source's poll history JSON (store.SplitHistory)
	bLeases   = []byte("leases")   // name -> expiry(8) owner
	bMeta     = []byte("meta")     // "version" -> uint64
	bStoryLog = []byte("storylog") // first seen(8) id -> store.Story (binary), for cluster decisions
	buckets   = [][]byte{bItems, bBodies, bIndex, bKeys, bTombs, bSources, bHistory, bLeases, bMeta, bClusters, bStoryLog}
	// dropped holds buckets of earlier versions, deleted when a file is opened.
	dropped = [][]byte{[]byte("bands"), []byte("bandlog")}
)

// clusterKey is where the items bucket holds the ID of the cluster item id is in.
func clusterKey(id []byte) []byte { return append(id[:len(id):len(id)], 0, 'c') }

// hiddenKey is where the items bucket marks item id hidden from clustered timelines.
func hiddenKey(id []byte) []byte { return append(id[:len(id):len(id)], 0, 'h') }

// storyKey is where the storylog bucket holds the story of item id, first seen at
// firstSeen (Unix milliseconds, as store.Story has it): oldest first.
func storyKey(firstSeen int64, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(firstSeen)^(1<<63))
	return append(k, id...)
}

// Store is a bbolt-backed store.Store.
type Store struct {
	db *bbolt.DB
	// now is the clock used for leases (tests may replace it).
	now func() time.Time
	// lookups counts the index and item reads cluster decisions made (for benchmarks).
	lookups atomic.Uint64

	// Every write goes through the writer goroutine (writer.go).
	writes     chan *write
	closed     chan struct{}
	writerDone chan struct{}
	// releaserDone is closed when the releaser (release.go) has stopped.
	releaserDone chan struct{}
	closeOnce    sync.Once
	// largestGroup is the most writes one transaction has taken (for tests).
	largestGroup atomic.Int64
	// linger is how long the writer waits for more writes when it finds several
	// waiting (defaultLinger; see writer.go).
	linger time.Duration
	// upkeep paces the expiry of tombstones (see Trim).
	upkeep store.Upkeep

	// bands is the story-key index of the newest window items (see bands.go), used
	// under bandMu by the writes' plans (in their callers' goroutines) and by the
	// writer. epoch counts its rebuilds: a plan made before one is not used.
	bands  atomic.Pointer[storyindex.Index]
	bandMu sync.Mutex
	epoch  atomic.Uint64
	window int
	// planMu keeps writes planned in the order they are queued (see plan).
	planMu sync.Mutex
	// clusters caches, for the writer only, the entries of the clusters its
	// transactions read or wrote lately; it is dropped when a transaction fails.
	clusters map[string][]store.ClusterEntry
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when needed) the store file at path.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	// The list of free pages is written with each commit (a few thousand page numbers,
	// a few pages, against the thousands of pages a commit of new items rewrites):
	// without it, opening the file rebuilds the list by walking every page of it, which
	// maps the whole file into the process (at 195,000 items, 0.8 s and 540 MB of RSS
	// before the first poll begins; with it, 1 ms and 2 MB).
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, bbolt.ErrTimeout) {
		// The file's lock: `poll` or `build` beside a running `serve`, say.
		return nil, fmt.Errorf("open store %s: in use by another process (the embedded store is for one process; processes share a store on Redis): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		for _, b := range dropped {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %w", path, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: migrate to layout %d: %w", path, layout, err)
	}
	s := &Store{db: db, now: time.Now, window: RecentStories, linger: defaultLinger,
		writes: make(chan *write, maxGroup), closed: make(chan struct{}), writerDone: make(chan struct{}), releaserDone: make(chan struct{})}
	if err := s.loadBands(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.release() // loading the index read the whole story log
	go s.writer()
	go s.releaser()
	return s, nil
}

// Close finishes the writes under way and closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	<-s.writerDone
	<-s.releaserDone
	return s.db.Close()
}

// Ping always succeeds for an open file.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

func timeKey(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano())^(1<<63))
	return b[:]
}

func indexKey(scope string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(scope)+1+8+len(id))
	k = append(k, scope...)
	k = append(k, 0)
	k = append(k, timeKey(t)...)
	return append(k, id...)
}

// scopes lists every timeline an item belongs to. Every item is in exactly one
// language's timeline ("l:" alone for items of no known language), so the network's
// whole timeline is those merged (languageScopes) and needs no index of its own: an
// index entry fewer per item, and one tree fewer where new items land at random places
// (their dates), dirtying a page each.
func scopes(it *news.Item) []string {
	s := []string{"m:" + it.Member, "s:" + it.Source, "l:" + it.Language}
	if it.Country != "" {
		s = append(s, "c:"+it.Country)
	}
	if it.Region != "" {
		s = append(s, "r:"+strings.ToLower(it.Region))
	}
	return s
}

// languageScopes lists the language timelines in the index: one seek each.
func languageScopes(c *bbolt.Cursor) []string {
	return scopesOf(c, "l:")
}

// scopesOf lists the timelines in the index whose scope starts with kind ("l:", "m:"):
// one seek each.
func scopesOf(c *bbolt.Cursor, kind string) []string {
	var out []string
	for k, _ := c.Seek([]byte(kind)); k != nil && bytes.HasPrefix(k, []byte(kind)); {
		end := bytes.IndexByte(k, 0)
		if end < 0 {
			break // not an index key
		}
		scope := string(k[:end])
		out = append(out, scope)
		k, _ = c.Seek(append([]byte(scope), 1))
	}
	return out
}

func keyEntries(it *news.Item) [][]byte {
	out := [][]byte{[]byte(it.Member + "\x00" + it.Key)}
	link := it.Canonical
	if link == "" {
		link = it.Link
	}
	if link != "" {
		out = append(out, []byte(it.Member+"\x01"+link))
	}
	return out
}

func putIndexes(tx *bbolt.Tx, it *news.Item) error {
	return putIndexKeys(tx, it, indexKeys(it), keyEntries(it))
}

// indexKeys lists the item's timeline index keys.
func indexKeys(it *news.Item) [][]byte {
	sc := scopes(it)
	out := make([][]byte, len(sc))
	for i, s := range sc {
		out[i] = indexKey(s, it.SortTime(), it.ID)
	}
	return out
}

// putIndexKeys files it under its timeline index keys and its key entries.
func putIndexKeys(tx *bbolt.Tx, it *news.Item, index, entries [][]byte) error {
	idx, keys := tx.Bucket(bIndex), tx.Bucket(bKeys)
	for _, k := range index {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	for _, k := range entries {
		if err := keys.Put(k, []byte(it.ID)); err != nil {
			return err
		}
	}
	return nil
}

func deleteIndexes(tx *bbolt.Tx, it *news.Item) error {
	idx, keys := tx.Bucket(bIndex), tx.Bucket(bKeys)
	for _, sc := range scopes(it) {
		if err := idx.Delete(indexKey(sc, it.SortTime(), it.ID)); err != nil {
			return err
		}
	}
	for _, k := range keyEntries(it) {
		if v := keys.Get(k); string(v) == it.ID {
			if err := keys.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// layout is the version of the file's layout this code writes, kept in the meta
// bucket; files of an earlier one are migrated when opened. Layout 3 has no "all"
// timeline (see scopes); layout 4 keeps items' JSON in the bodies bucket.
const layout = 4

// migrate brings a file of an earlier layout to this one: the stories bucket (by ID)
// moves to storylog, the incluster and hidden buckets into items. (AlsoBy, once in the
// items' JSON, is now worked out from the cluster's entries when read.) Then the "all"
// timeline goes (dropWholeTimeline), and items' JSON moves to the bodies bucket
// (moveBodies). Each step moves at most migrateChunk records per
// transaction, so a large file never needs one transaction as large as itself in
// memory; an interrupted migration resumes at the next open (a record moved is deleted
// from its old place in the same transaction), and the file's layout is recorded only
// when every record has moved.
func migrate(db *bbolt.DB) error {
	current := false
	if err := db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bMeta).Get([]byte("layout"))
		current = len(v) == 8 && binary.BigEndian.Uint64(v) >= layout
		return nil
	}); err != nil || current {
		return err
	}
	for _, move := range []func(tx *bbolt.Tx, n int) (int, error){moveRecords, dropWholeTimeline, moveBodies} {
		for {
			moved := 0
			if err := db.Update(func(tx *bbolt.Tx) (err error) {
				moved, err = move(tx, migrateChunk)
				return err
			}); err != nil {
				return err
			}
			if moved == 0 {
				break
			}
		}
	}
	return db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("layout"), binary.BigEndian.AppendUint64(nil, layout))
	})
}

// migrateChunk is how many records one migration transaction moves at most.
var migrateChunk = 20000

// moveRecords moves at most n records of files written before items kept theirs
// beside them, deleting each old bucket once it is empty; it returns how many moved
// (0: none left).
func moveRecords(tx *bbolt.Tx, n int) (int, error) {
	items, log := tx.Bucket(bItems), tx.Bucket(bStoryLog)
	moves := []struct {
		name string
		put  func(k, v []byte) error
	}{
		{"stories", func(k, v []byte) error {
			fs, err := store.StoryFirstSeen(v)
			if err != nil {
				return fmt.Errorf("story of %s: %w", k, err)
			}
			return log.Put(storyKey(fs, string(k)), v)
		}},
		{"incluster", func(k, v []byte) error { return items.Put(clusterKey(k), v) }},
		{"hidden", func(k, v []byte) error { return items.Put(hiddenKey(k), []byte{1}) }},
	}
	moved := 0
	for _, m := range moves {
		old := tx.Bucket([]byte(m.name))
		if old == nil {
			continue
		}
		// Copied: the file may be remapped as it grows, and the old values with it.
		var recs [][2][]byte
		c := old.Cursor()
		for k, v := c.First(); k != nil && moved+len(recs) < n; k, v = c.Next() {
			recs = append(recs, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		}
		for _, r := range recs {
			if err := m.put(r[0], r[1]); err != nil {
				return moved, fmt.Errorf("move %s: %w", m.name, err)
			}
			if err := old.Delete(r[0]); err != nil {
				return moved, err
			}
		}
		moved += len(recs)
		if k, _ := old.Cursor().First(); k == nil { // all moved
			if err := tx.DeleteBucket([]byte(m.name)); err != nil {
				return moved, err
			}
		}
		if moved >= n {
			break
		}
	}
	return moved, nil
}

// dropWholeTimeline deletes at most n entries of the "all" timeline of files written
// before layout 3, filing each item of no known language under "l:" instead (items of
// a language are in its timeline already); it returns how many it deleted (0: none
// left).
func dropWholeTimeline(tx *bbolt.Tx, n int) (int, error) {
	idx, items := tx.Bucket(bIndex), tx.Bucket(bItems)
	prefix := []byte("all\x00")
	var keys [][]byte
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(keys) < n; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if len(k) < len(prefix)+8 {
			return 0, fmt.Errorf("timeline entry %q: too short", k)
		}
		at := k[len(prefix):]
		if v := bodyOf(tx, items.Get(at[8:])); v != nil {
			var lang struct {
				Language string `json:"lang"`
			}
			if err := json.Unmarshal(v, &lang); err != nil {
				return 0, fmt.Errorf("item %s: %w", at[8:], err)
			}
			if lang.Language == "" {
				if err := idx.Put(append([]byte("l:\x00"), at...), nil); err != nil {
					return 0, err
				}
			}
		}
		if err := idx.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// moveBodies moves the JSON of at most n items of files written before layout 4 from
// the items bucket to the bodies bucket; it returns how many it moved (0: none left).
func moveBodies(tx *bbolt.Tx, n int) (int, error) {
	var recs [][2][]byte
	c := tx.Bucket(bItems).Cursor()
	for k, v := c.First(); k != nil && len(recs) < n; k, v = c.Next() {
		if !isRecordKey(k) && len(v) != bodyRefLen {
			// Copied: the file may be remapped as it grows, and the old values with it.
			recs = append(recs, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	for _, r := range recs {
		if err := appendBody(tx, r[0], r[1]); err != nil {
			return 0, fmt.Errorf("move item %s: %w", r[0], err)
		}
	}
	return len(recs), nil
}

// bodyRefLen is the length of an item's value in the items bucket: its body's number.
// (An item's JSON, which files before layout 4 kept there, is always longer.)
const bodyRefLen = 8

// isRecordKey reports whether k is the key of an item's record (clusterKey,
// hiddenKey) rather than of an item.
func isRecordKey(k []byte) bool { return len(k) > 2 && k[len(k)-2] == 0 }

// putBody stores v as the JSON of item id: over its body when it has one, else as a
// new one (appendBody).
func putBody(tx *bbolt.Tx, id, v []byte) error {
	if ref := tx.Bucket(bItems).Get(id); len(ref) == bodyRefLen {
		return tx.Bucket(bBodies).Put(ref, v)
	}
	return appendBody(tx, id, v)
}

// appendBody stores v as the JSON of item id, which has no body yet: as a new body,
// numbered after the others, and the number under id in the items bucket.
func appendBody(tx *bbolt.Tx, id, v []byte) error {
	bodies := tx.Bucket(bBodies)
	// New bodies are appended: pages are filled before the next begins, instead of
	// half, as for keys that land anywhere.
	bodies.FillPercent = 1
	n, err := bodies.NextSequence()
	if err != nil {
		return err
	}
	ref := binary.BigEndian.AppendUint64(nil, n)
	if err := tx.Bucket(bItems).Put(id, ref); err != nil {
		return err
	}
	return bodies.Put(ref, v)
}

// bodyOf is the JSON of the item whose value in the items bucket is v (nil: none): the
// body numbered v, or v itself in a file before layout 4 (which kept the JSON there)
// that a migration is reading.
func bodyOf(tx *bbolt.Tx, v []byte) []byte {
	if len(v) != bodyRefLen {
		return v
	}
	return tx.Bucket(bBodies).Get(v)
}

// deleteItem deletes item id and its body (not its records).
func deleteItem(tx *bbolt.Tx, id []byte) error {
	items := tx.Bucket(bItems)
	if ref := items.Get(id); len(ref) == bodyRefLen {
		if err := tx.Bucket(bBodies).Delete(ref); err != nil {
			return err
		}
	}
	return items.Delete(id)
}

func bumpVersion(tx *bbolt.Tx) error {
	m := tx.Bucket(bMeta)
	var v uint64
	if b := m.Get([]byte("version")); len(b) == 8 {
		v = binary.BigEndian.Uint64(b)
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v+1)
	return m.Put([]byte("version"), b[:])
}

// Upsert implements store.Store. The whole batch is one transaction: it lands whole or not at all.
func (s *Store) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	wait, err := s.Stage(ctx, items)
	if err != nil {
		return news.UpsertResult{}, err
	}
	return wait()
}

// Stage is the first half of Upsert: the work done in the caller's goroutine (items
// not stored yet are encoded and signed, their cluster candidates worked out) and the
// write queued. wait waits for the write and returns Upsert's answer. The poll stages
// in one of its parsing slots, so that this work takes turns for the CPUs with the
// parsers instead of with the writer.
func (s *Store) Stage(ctx context.Context, items []news.Item) (wait func() (news.UpsertResult, error), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].ID == "" {
			return nil, fmt.Errorf("upsert %d items: item %q has no id", len(items), items[i].Title)
		}
	}
	fresh, err := s.prepareNew(items)
	if err != nil {
		return nil, fmt.Errorf("upsert %d items: %w", len(items), err)
	}
	var res news.UpsertResult
	w, err := s.queue(ctx, func() { s.plan(items, fresh) }, func(tx *bbolt.Tx) error {
		res = news.UpsertResult{}
		tombs := tx.Bucket(bTombs)
		changed := false
		for i := range items {
			in := &items[i]
			if tombs.Get([]byte(in.ID)) != nil {
				res.Unchanged++
				continue
			}
			stored, found, err := getItem(tx, []byte(in.ID))
			if err != nil {
				return err
			}
			next := *in
			if found {
				merged, diff := store.Merge(stored, *in)
				if !diff {
					res.Unchanged++
					continue
				}
				if err := deleteIndexes(tx, &stored); err != nil {
					return err
				}
				next = merged
				res.Updated++
				if err := s.restory(tx, &stored, &next); err != nil {
					return err
				}
			} else {
				res.New++
				res.NewIDs = append(res.NewIDs, in.ID)
				p := fresh[in.ID]
				if p == nil {
					p = &newItem{story: store.StoryOf(&next)}
				}
				p.story.Redate(&next)
				// Its cluster records are written beside it; its encoding (made by
				// prepareNew, outside the writer) does not depend on them.
				if err := s.joinCluster(tx, &next, p); err != nil {
					return err
				}
			}
			if p := fresh[in.ID]; !found && p != nil && p.json != nil {
				// Encoded and keyed by prepareNew: the item is as it was given.
				if err := appendBody(tx, []byte(next.ID), p.json); err != nil {
					return err
				}
				err = putIndexKeys(tx, &next, p.index, p.entries)
			} else if err = putItem(tx, &next); err == nil {
				err = putIndexes(tx, &next)
			}
			if err != nil {
				return err
			}
			if found {
				if err := s.redateCluster(tx, &next); err != nil {
					return err
				}
			}
			changed = true
		}
		if !changed {
			return nil
		}
		return bumpVersion(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("upsert %d items: %w", len(items), err)
	}
	return func() (news.UpsertResult, error) {
		if err := s.wait(w); err != nil {
			return news.UpsertResult{}, fmt.Errorf("upsert %d items: %w", len(items), err)
		}
		return res, nil
	}, nil
}

// newItem is what prepareNew works out for an item not stored yet, outside the
// single writer: its story (signing is most of a cluster decision's work), its story
// keys and its encoding.
type newItem struct {
	story store.Story
	keys  [][]byte
	// epoch, when not 0, is that of the index in which plan filed the item, having
	// worked out its candidates, cands (epochs start at 1).
	cands []store.ClusterEntry
	epoch uint64
	// json is the item's encoding (putItem's) when it came with no cluster fields;
	// then index and entries are its index keys (indexKeys, keyEntries) and encoded its
	// story's encoding.
	json           []byte
	index, entries [][]byte
	encoded        []byte
}

// prepareNew works out, in the caller's goroutine rather than the single writer, the
// stories of the items not stored yet. An item inserted meanwhile by another write
// just wastes the work; one found stored here but trimmed meanwhile is prepared in
// the write.
func (s *Store) prepareNew(items []news.Item) (map[string]*newItem, error) {
	out := map[string]*newItem{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, tombs := tx.Bucket(bItems), tx.Bucket(bTombs)
		for i := range items {
			id := []byte(items[i].ID)
			if _, dup := out[items[i].ID]; dup || b.Get(id) != nil || tombs.Get(id) != nil {
				continue // a later copy in the batch is an update of the first
			}
			p := &newItem{story: store.StoryOf(&items[i])}
			p.keys = p.story.Keys()
			if items[i].ClusterID == "" && len(items[i].AlsoBy) == 0 {
				v, err := json.Marshal(&items[i])
				if err != nil {
					return fmt.Errorf("encode item %s: %w", id, err)
				}
				p.json, p.index, p.entries = v, indexKeys(&items[i]), keyEntries(&items[i])
				p.encoded = p.story.AppendBinary(nil)
			}
			out[items[i].ID] = p
		}
		return nil
	})
	return out, err
}

// Item implements store.Store.
func (s *Store) Item(ctx context.Context, id string) (news.Item, error) {
	var it news.Item
	err := s.db.View(func(tx *bbolt.Tx) error {
		var found bool
		var err error
		if it, found, err = getItem(tx, []byte(id)); err == nil && !found {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return news.Item{}, fmt.Errorf("read item %s: %w", id, err)
	}
	return it, nil
}

// ItemsByKey implements store.Store.
func (s *Store) ItemsByKey(ctx context.Context, member string, keys []string) ([]news.Item, error) {
	var out []news.Item
	err := s.db.View(func(tx *bbolt.Tx) error {
		kb := tx.Bucket(bKeys)
		seen := map[string]bool{}
		for _, k := range keys {
			for _, sep := range []string{"\x00", "\x01"} {
				id := kb.Get([]byte(member + sep + k))
				if id == nil || seen[string(id)] {
					continue
				}
				seen[string(id)] = true
				it, found, err := getItem(tx, id)
				if err != nil {
					return err
				}
				if found {
					out = append(out, it)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up %d keys of %s: %w", len(keys), member, err)
	}
	return out, nil
}

// CarryTombstones implements store.Store.
func (s *Store) CarryTombstones(ctx context.Context, ids map[string]string) ([]string, error) {
	var found []string
	carry := 0 // found whose ID of now has no tombstone yet
	err := s.db.View(func(tx *bbolt.Tx) error {
		tombs := tx.Bucket(bTombs)
		for from, to := range ids {
			if tombs.Get([]byte(from)) != nil {
				found = append(found, from)
				if tombs.Get([]byte(to)) == nil {
					carry++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if carry == 0 {
		// None, or carried by an earlier poll (a page listing the item still asks on
		// each): no write.
		return found, nil
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		tombs := tx.Bucket(bTombs)
		for _, from := range found {
			if t := tombs.Get([]byte(from)); t != nil && tombs.Get([]byte(ids[from])) == nil {
				if err := tombs.Put([]byte(ids[from]), slices.Clone(t)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("carry %d tombstones: %w", len(found), err)
	}
	return found, nil
}

// Items implements store.Store: it walks the most selective timeline (several for several
// members, merged) from the cursor backwards and filters the rest in memory.
func (s *Store) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var sc []string
	switch {
	case len(q.Members) > 0:
		for _, m := range q.Members {
			sc = append(sc, "m:"+m)
		}
	case q.Country != "":
		sc = []string{"c:" + q.Country}
	case q.Language != "":
		sc = []string{"l:" + q.Language}
	case q.Region != "":
		sc = []string{"r:" + strings.ToLower(q.Region)}
	}
	match := store.Matcher(q)
	var out []news.Item
	err := s.db.View(func(tx *bbolt.Tx) error {
		ib := tx.Bucket(bItems)
		if sc == nil { // the whole network
			sc = languageScopes(tx.Bucket(bIndex).Cursor())
		}
		its := make([]*timeline, len(sc))
		for i, scope := range sc {
			its[i] = newTimeline(tx.Bucket(bIndex).Cursor(), scope, q.Before)
		}
		for len(out) < limit {
			if err := ctx.Err(); err != nil {
				return err
			}
			// k-way merge: take the largest current key among the timelines.
			best := -1
			for i, t := range its {
				if t.key == nil {
					continue
				}
				if best < 0 || bytes.Compare(t.suffix(), its[best].suffix()) > 0 {
					best = i
				}
			}
			if best < 0 {
				break
			}
			id := its[best].suffix()[8:]
			its[best].prev()
			r, found := readItem(ib, id)
			if !found {
				continue
			}
			if q.Clustered && r.hidden && !store.FiltersContent(q) {
				if q.Listed == nil {
					continue // another member's copy of the story is shown
				}
				es, err := loadCluster(tx, string(r.cluster))
				if err != nil {
					return err
				}
				if !store.ListedStandsIn(q.Listed, string(id), es) {
					continue // a listed member's copy of the story is shown
				}
			}
			it, err := r.decode(tx, id)
			if err != nil {
				return err
			}
			if !q.Since.IsZero() && it.SortTime().Before(q.Since) {
				// Timelines are ordered by time: nothing older can match. With several
				// timelines merged, the same holds for the merged order.
				break
			}
			if !match(&it) {
				continue
			}
			if q.Clustered && r.hidden && store.FiltersContent(q) {
				// Shown only when the filter leaves out the copies before it.
				es, err := loadCluster(tx, string(r.cluster))
				if err != nil {
					return err
				}
				in, err := store.StandsIn(q, it.ID, es, func(id string) (news.Item, bool, error) { return getItem(tx, []byte(id)) })
				if err != nil {
					return err
				}
				if !in {
					continue
				}
			}
			out = append(out, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	return out, nil
}

// timeline walks one scope's index keys backwards (newest first).
type timeline struct {
	c      *bbolt.Cursor
	prefix []byte
	key    []byte
}

func newTimeline(c *bbolt.Cursor, scope string, before news.Cursor) *timeline {
	t := &timeline{c: c, prefix: append([]byte(scope), 0)}
	var k []byte
	if before.IsZero() {
		// Seek past the end of the scope, then step back.
		end := append([]byte(scope), 1)
		k, _ = c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	} else {
		seek := indexKey(scope, before.Time, before.ID)
		k, _ = c.Seek(seek)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev() // strictly older than the cursor
		}
	}
	t.set(k)
	return t
}

func (t *timeline) set(k []byte) {
	if k != nil && bytes.HasPrefix(k, t.prefix) {
		t.key = k
	} else {
		t.key = nil
	}
}

func (t *timeline) suffix() []byte { return t.key[len(t.prefix):] }

func (t *timeline) prev() {
	k, _ := t.c.Prev()
	t.set(k)
}

// Source implements store.Store.
func (s *Store) Source(ctx context.Context, url string) (news.SourceState, error) {
	var st news.SourceState
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bSources).Get([]byte(url))
		if v == nil {
			return store.ErrNotFound
		}
		return readSource(tx, []byte(url), v, &st)
	})
	if err != nil {
		return st, fmt.Errorf("read source %s: %w", url, err)
	}
	return st, nil
}

// readSource decodes the state v of the source at url with its whole history.
func readSource(tx *bbolt.Tx, url, v []byte, st *news.SourceState) error {
	if err := json.Unmarshal(v, st); err != nil {
		return err
	}
	if h := tx.Bucket(bHistory).Get(url); h != nil {
		var hist []news.PollRecord
		if err := json.Unmarshal(h, &hist); err != nil {
			return err
		}
		store.JoinHistory(st, hist)
	}
	return nil
}

// PutSource implements store.Store: the state and its history apart (store.SplitHistory).
func (s *Store) PutSource(ctx context.Context, st news.SourceState) error {
	state, hist := store.SplitHistory(st)
	v, err := json.Marshal(&state)
	if err != nil {
		return fmt.Errorf("encode source %s: %w", st.URL, err)
	}
	var h []byte
	if hist != nil {
		if h, err = json.Marshal(hist); err != nil {
			return fmt.Errorf("encode source %s: %w", st.URL, err)
		}
	}
	if err := s.update(ctx, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bSources).Put([]byte(st.URL), v); err != nil {
			return err
		}
		if h == nil {
			return tx.Bucket(bHistory).Delete([]byte(st.URL)) // none apart (store.SplitHistory)
		}
		return tx.Bucket(bHistory).Put([]byte(st.URL), h)
	}); err != nil {
		return fmt.Errorf("write source %s: %w", st.URL, err)
	}
	return nil
}

// Sources implements store.Store.
func (s *Store) Sources(ctx context.Context) ([]news.SourceState, error) {
	return s.sources(true)
}

// SourceStates implements store.Store.
func (s *Store) SourceStates(ctx context.Context) ([]news.SourceState, error) {
	return s.sources(false)
}

// sources reads every source's state, with its whole history or (withHistory false) its
// newest poll only.
func (s *Store) sources(withHistory bool) ([]news.SourceState, error) {
	var out []news.SourceState
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bSources).ForEach(func(k, v []byte) error {
			var st news.SourceState
			var err error
			if withHistory {
				err = readSource(tx, k, v, &st)
			} else if err = json.Unmarshal(v, &st); err == nil {
				store.Brief(&st)
			}
			if err != nil {
				return fmt.Errorf("decode source %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	return out, nil
}

// Trim implements store.Store using the per-source timeline: no scan of other sources.
// What to drop is found in a read transaction, so a source with nothing to drop costs
// no write. Then, at most once a minute per process, it expires the tombstones of items
// trimmed more than maxAge before now: such an item was dated earlier still, and
// polling no longer stores items older than max_age, so the tombstone has nothing left
// to keep out (tombstones then follow what retention keeps, not every item ever trimmed).
func (s *Store) Trim(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error) {
	removed, err := s.trimSource(ctx, source, maxItems, maxAge, now)
	if err != nil {
		return removed, err
	}
	if err := s.expireTombs(ctx, maxAge, now); err != nil {
		return removed, fmt.Errorf("trim %s: %w", source, err)
	}
	return removed, nil
}

// expireTombs deletes the tombstones written more than maxAge before now (at most once
// every store.UpkeepEvery per process).
func (s *Store) expireTombs(ctx context.Context, maxAge time.Duration, now time.Time) error {
	if maxAge <= 0 || !s.upkeep.Due(now) {
		return nil
	}
	cutoff := now.Add(-maxAge).Unix()
	expired := func(v []byte) bool { return len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < cutoff }
	var old [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bTombs).ForEach(func(k, v []byte) error {
			if expired(v) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return err
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		tombs := tx.Bucket(bTombs)
		for _, id := range old {
			if expired(tombs.Get(id)) {
				if err := tombs.Delete(id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire tombstones: %w", err)
	}
	return nil
}

func (s *Store) trimSource(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error) {
	var drop [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		drop = trimmable(tx, source, maxItems, maxAge, now)
		return nil
	})
	if err != nil || len(drop) == 0 {
		return 0, err
	}
	removed := 0
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		removed = 0
		tombs := tx.Bucket(bTombs)
		for _, id := range trimmable(tx, source, maxItems, maxAge, now) {
			ok, err := s.removeItem(tx, id, "")
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			var ts [8]byte
			binary.BigEndian.PutUint64(ts[:], uint64(now.Unix()))
			if err := tombs.Put(id, ts[:]); err != nil {
				return err
			}
			removed++
		}
		if removed > 0 {
			return bumpVersion(tx)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("trim %s: %w", source, err)
	}
	return removed, nil
}

// trimmable lists the IDs of source's items beyond the newest maxItems (0: no cap) or
// older than maxAge (0: no limit).
func trimmable(tx *bbolt.Tx, source string, maxItems int, maxAge time.Duration, now time.Time) [][]byte {
	t := newTimeline(tx.Bucket(bIndex).Cursor(), "s:"+source, news.Cursor{})
	var drop [][]byte
	n := 0
	cutoff := time.Time{}
	if maxAge > 0 {
		cutoff = now.Add(-maxAge)
	}
	for t.key != nil {
		n++
		suf := t.suffix()
		ts := int64(binary.BigEndian.Uint64(suf[:8]) ^ (1 << 63))
		old := maxAge > 0 && time.Unix(0, ts).Before(cutoff)
		if (maxItems > 0 && n > maxItems) || old {
			drop = append(drop, bytes.Clone(suf[8:]))
		}
		t.prev()
	}
	return drop
}

// Version implements store.Store.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bMeta).Get([]byte("version")); len(b) == 8 {
			v = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return v, err
}

// Claim implements store.Store. In one process the lease only guards against a second
// process opening the same file, which bbolt already prevents; it is kept for parity.
func (s *Store) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ok := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		ok = false
		b := tx.Bucket(bLeases)
		now := s.now()
		if v := b.Get([]byte(name)); len(v) >= 8 {
			exp := time.Unix(0, int64(binary.BigEndian.Uint64(v[:8])))
			if string(v[8:]) != owner && now.Before(exp) {
				return nil
			}
		}
		v := make([]byte, 8, 8+len(owner))
		binary.BigEndian.PutUint64(v, uint64(now.Add(ttl).UnixNano()))
		ok = true
		return b.Put([]byte(name), append(v, owner...))
	})
	if err != nil {
		return false, fmt.Errorf("claim lease %s: %w", name, err)
	}
	return ok, nil
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, name, owner string) error {
	err := s.update(context.WithoutCancel(ctx), func(tx *bbolt.Tx) error {
		b := tx.Bucket(bLeases)
		if v := b.Get([]byte(name)); len(v) >= 8 && string(v[8:]) == owner {
			return b.Delete([]byte(name))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// getItem reads and decodes the item stored under id (readItem, then decode); ok is
// false when there is none.
func getItem(tx *bbolt.Tx, id []byte) (it news.Item, ok bool, err error) {
	r, ok := readItem(tx.Bucket(bItems), id)
	if !ok {
		return it, false, nil
	}
	it, err = r.decode(tx, id)
	return it, err == nil, err
}

// itemRecords is an item as stored, not decoded yet, with the records beside it.
type itemRecords struct {
	ref     []byte // its body's number
	cluster []byte // the ID of its cluster; nil: in none
	hidden  bool   // hidden from clustered timelines
}

// readItem reads the item stored under id and the records beside it, with one seek.
func readItem(items *bbolt.Bucket, id []byte) (r itemRecords, ok bool) {
	c := items.Cursor()
	k, v := c.Seek(id)
	if !bytes.Equal(k, id) {
		return r, false
	}
	r.ref = v
	for k, v = c.Next(); len(k) == len(id)+2 && k[len(id)] == 0 && bytes.HasPrefix(k, id); k, v = c.Next() {
		switch k[len(id)+1] {
		case 'c':
			r.cluster = v
		case 'h':
			r.hidden = true
		}
	}
	return r, true
}

// decode decodes item id; for an item in a cluster, with its ClusterID from the record
// beside it and, when it is its cluster's shown item, its AlsoBy from the cluster's
// entries.
func (r itemRecords) decode(tx *bbolt.Tx, id []byte) (it news.Item, err error) {
	v := bodyOf(tx, r.ref)
	if v == nil {
		return it, fmt.Errorf("decode item %s: body %x missing", id, r.ref)
	}
	if err := json.Unmarshal(v, &it); err != nil {
		return it, fmt.Errorf("decode item %s: %w", id, err)
	}
	if r.cluster == nil {
		return it, nil
	}
	it.ClusterID, it.AlsoBy = string(r.cluster), nil
	if !r.hidden {
		es, err := loadCluster(tx, it.ClusterID)
		if err != nil {
			return it, fmt.Errorf("read item %s: %w", id, err)
		}
		if i := slices.IndexFunc(es, func(e store.ClusterEntry) bool { return e.ID == it.ID }); i >= 0 {
			it.AlsoBy = store.AlsoBy(es, i)
		}
	}
	return it, nil
}

// putItem encodes and stores it. The ClusterID and AlsoBy of an item in a cluster are
// not encoded: they are kept beside it and in its cluster (saveCluster). Those of an
// item in none are kept as given.
func putItem(tx *bbolt.Tx, it *news.Item) error {
	enc := *it
	if tx.Bucket(bItems).Get(clusterKey([]byte(it.ID))) != nil {
		enc.ClusterID, enc.AlsoBy = "", nil
	}
	v, err := json.Marshal(&enc)
	if err != nil {
		return fmt.Errorf("encode item %s: %w", it.ID, err)
	}
	return putBody(tx, []byte(it.ID), v)
}

// removeItem removes item id, when stored (and member's, when member is not ""): its
// indexes and keys, its body, and its place in its cluster (Trim, Forget).
func (s *Store) removeItem(tx *bbolt.Tx, id []byte, member string) (bool, error) {
	it, found, err := getItem(tx, id)
	if err != nil || !found || (member != "" && it.Member != member) {
		return false, err
	}
	if err := deleteIndexes(tx, &it); err != nil {
		return false, err
	}
	if err := deleteItem(tx, id); err != nil {
		return false, err
	}
	return true, s.leaveCluster(tx, &it)
}

// Members lists the members that have items stored, one seek in the index each: what
// prune reads to find the items of a removed member no source state leads to.
func (s *Store) Members(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, sc := range scopesOf(tx.Bucket(bIndex).Cursor(), "m:") {
			out = append(out, strings.TrimPrefix(sc, "m:"))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return out, nil
}

// Forget implements store.Store: source's items of member go as Trim's do (indexes,
// keys, cluster, story), with no tombstone, and source's state with its history when it
// is member's, in one transaction.
func (s *Store) Forget(ctx context.Context, member, source string) (int, error) {
	removed := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		removed = 0
		var ids [][]byte
		for t := newTimeline(tx.Bucket(bIndex).Cursor(), "s:"+source, news.Cursor{}); t.key != nil; t.prev() {
			ids = append(ids, bytes.Clone(t.suffix()[8:]))
		}
		for _, id := range ids {
			ok, err := s.removeItem(tx, id, member)
			if err != nil {
				return err
			}
			if ok {
				removed++
			}
		}
		if v := tx.Bucket(bSources).Get([]byte(source)); v != nil {
			var st news.SourceState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode source %s: %w", source, err)
			}
			if st.Member == member {
				if err := tx.Bucket(bSources).Delete([]byte(source)); err != nil {
					return err
				}
				if err := tx.Bucket(bHistory).Delete([]byte(source)); err != nil {
					return err
				}
			}
		}
		if removed > 0 {
			return bumpVersion(tx)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget %s of %s: %w", source, member, err)
	}
	return removed, nil
}
