package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storyindex"
)

// The story-key index (which of the newest items are filed under each story key,
// store/cluster.go) lives in every process's memory, as in the embedded store: a
// storyindex.Index of the newest storyindex.Window filings. The write script appends
// each new item's filing (its ID and its story keys) to the network's stream "P fl"
// in the same step as it writes the item, so the stream's order is the order in which
// items were written, the same for every worker; each process applies the stream's
// new entries to its index before it plans a batch and after it writes one.
//
// A cluster decision ranks candidates in the index as it was when the batch was
// planned. Items written meanwhile by other workers (or other batches of this
// process) are the entries between that point and the item's own filing: when the
// index applies the item's filing, storyindex.Index.Between gives the IDs filed
// meanwhile under its story keys (a watch, see watchFilings), and uniteMissed puts
// the item with a copy among them (cluster.go).
//
// Before, each story key was a field of the hash "P bd" holding the newest IDs filed
// under it, read and rewritten by the write script for each of a new item's 33 keys:
// more than half of redis-server's time per new item. The stream costs one XADD. The
// stream is capped at about twice the window (XADD MAXLEN ~), so a process that falls
// behind by less than a window misses nothing. A store written by an earlier version
// (the hash "P bd" exists, the stream does not) gets the stories of its newest
// storyindex.Window items filed in the stream when it is opened.

func (s *Store) filingsKey() string { return s.p + "fl" }

// legacyBandsKey is the story-key hash of earlier versions, deleted when a store opens.
func (s *Store) legacyBandsKey() string { return s.p + "bd" }

// filingsCap is the stream's length cap (approximate: Redis trims whole nodes of
// entries, so it may hold up to a node more).
const filingsCap = 2 * storyindex.Window

// filingsPage is how many entries one read of the stream takes.
const filingsPage = 1024

// filings is a process's story-key index and how far into the stream it has read.
type filings struct {
	read   sync.Mutex  // one reader of the stream at a time
	mu     sync.Mutex  // idx, pos and watch
	loaded atomic.Bool // idx was made (loadFilings)
	idx    *storyindex.Index
	pos    streamID            // the last entry applied
	watch  map[streamID]*watch // entries whose keys' lists are wanted as they are when applied
	keys   [][]byte            // apply's buffer
}

// watch is what a writer wants to know of its item (planned as p) when the item's
// filing, seq, is applied: the IDs filed under its story keys after the planning point
// (p.since) and before its own, and, when the write did not put the item in a cluster
// and some were, the keys' lists before it (storyindex.Index.Between).
type watch struct {
	p      *clusterPlan
	done   bool
	seq    uint32
	gained [][]string
	now    [][]string
}

// look fills in w with the index as it is just after the item's filing, seq.
func (w *watch) look(idx *storyindex.Index, seq uint32) {
	w.seq, w.done = seq, true
	if seq <= w.p.since+1 {
		return // nothing filed between
	}
	w.gained = idx.Between(w.p.keys, w.p.since, seq)
	if w.gained != nil && !w.p.joined {
		w.now = idx.Between(w.p.keys, 0, seq)
	}
}

// streamID is a stream entry's ID, "ms-seq".
type streamID struct{ ms, seq uint64 }

func parseStreamID(v string) (streamID, error) {
	a, b, ok := strings.Cut(v, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("malformed stream entry ID %q", v)
	}
	return streamID{ms, seq}, nil
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

func (a streamID) less(b streamID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }

// packKeys is the stream's form of an item's story keys: the 8-byte keys one after
// the other.
func packKeys(keys [][]byte) string {
	b := make([]byte, 0, 8*len(keys))
	for _, k := range keys {
		b = append(b, k...)
	}
	return string(b)
}

// readOnly is s's bytes without a copy, for readers that neither change nor keep
// them: a reply from Redis is read in place rather than copied once more.
func readOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// unpackKeys undoes packKeys, appending to keys. The keys are read-only views of v
// (Index.File only reads them), not copies.
func unpackKeys(keys [][]byte, v string) ([][]byte, error) {
	if len(v)%8 != 0 {
		return nil, fmt.Errorf("story keys of %d bytes, not a multiple of 8", len(v))
	}
	b := readOnly(v)
	for i := 0; i < len(b); i += 8 {
		keys = append(keys, b[i:i+8:i+8])
	}
	return keys, nil
}

// upgradeFilings, when a store opens, files the stories of the newest items of a store
// written by an earlier version (the story-key hash exists, the stream does not) in the
// stream, so that copies of stories stored before the upgrade are still found, and
// deletes the hash. Without the hash it only looks for it.
func (s *Store) upgradeFilings(ctx context.Context) error {
	switch n, err := s.c.Exists(ctx, s.legacyBandsKey()).Result(); {
	case err != nil:
		return s.fail(ctx, "look for the story-key hash of earlier versions", err)
	case n == 0:
		return nil
	}
	n, err := s.c.XLen(ctx, s.filingsKey()).Result()
	if err != nil {
		return s.fail(ctx, "read story filings", err)
	}
	if n == 0 {
		if err := s.seedFilings(ctx); err != nil {
			return err
		}
	}
	if err := s.c.Unlink(ctx, s.legacyBandsKey()).Err(); err != nil {
		return s.fail(ctx, "delete the story-key hash of earlier versions", err)
	}
	return nil
}

// loadFilings makes the index from the newest storyindex.Window entries of the
// stream. It runs on the first write rather than when the store opens, so that a
// process that only serves pays nothing for it; the caller holds s.fl.read.
// The stream is read a page at a time, newest first, and only each entry's fields are
// kept until they are applied, oldest first: go-redis's form of a whole window (a map
// per entry) made a peak of about 10 MB of garbage when a worker started.
func (s *Store) loadFilings(ctx context.Context) error {
	var es []filingEntry // newest first
	for end := "+"; len(es) < storyindex.Window; {
		want := min(filingsPage, storyindex.Window-len(es))
		msgs, err := s.c.XRevRangeN(ctx, s.filingsKey(), end, "-", int64(want)).Result()
		if err != nil {
			return s.fail(ctx, "read story filings", err)
		}
		for _, m := range msgs {
			es = append(es, entryOf(m))
		}
		if len(msgs) < want {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	s.fl.mu.Lock()
	defer s.fl.mu.Unlock()
	s.fl.idx, s.fl.pos = storyindex.NewIDs(storyindex.Window), streamID{}
	for i := len(es) - 1; i >= 0; i-- {
		if err := s.apply(es[i]); err != nil {
			return err
		}
	}
	s.fl.loaded.Store(true)
	return nil
}

// filingEntry is a stream entry's ID and fields.
type filingEntry struct{ id, item, keys string }

func entryOf(m redis.XMessage) filingEntry {
	item, _ := m.Values["i"].(string)
	keys, _ := m.Values["k"].(string)
	return filingEntry{m.ID, item, keys}
}

// seedFilings files the recorded stories of the newest storyindex.Window items (by
// date), oldest first.
func (s *Store) seedFilings(ctx context.Context) error {
	ids, err := s.c.ZRevRange(ctx, s.allKey(), 0, storyindex.Window-1).Result()
	if err != nil {
		return s.fail(ctx, "read the newest items", err)
	}
	for end := len(ids); end > 0; end -= filingsPage {
		chunk := ids[max(0, end-filingsPage):end]
		vals, err := s.c.HMGet(ctx, s.storiesKey(), chunk...).Result()
		if err != nil {
			return s.fail(ctx, "read stories", err)
		}
		pipe := s.c.Pipeline()
		for i := len(chunk) - 1; i >= 0; i-- { // oldest first
			v, ok := vals[i].(string)
			if !ok {
				continue // no story recorded: no candidate either
			}
			st, err := store.ParseStory([]byte(v))
			if err != nil {
				continue // as in a cluster decision, which would not read it either
			}
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.filingsKey(), MaxLen: int64(s.filingsCap), Approx: true,
				Values: []any{"i", chunk[i], "k", packKeys(st.Keys())}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return s.fail(ctx, "file the newest stories", err)
		}
	}
	return nil
}

// apply files one stream entry in the index; the caller holds s.fl.mu or owns the
// index alone. An entry not in the form the write script writes is passed over (an
// item then found by no cluster decision), so that it cannot stop every write.
func (s *Store) apply(e filingEntry) error {
	id, err := parseStreamID(e.id)
	if err != nil {
		return err
	}
	s.fl.pos = id
	keys, err := unpackKeys(s.fl.keys[:0], e.keys)
	s.fl.keys = keys[:0]
	if err != nil || e.item == "" {
		s.badFilings.Add(1)
		return nil
	}
	s.fl.idx.File(&store.Story{ID: e.item}, keys)
	if w := s.fl.watch[id]; w != nil {
		w.look(s.fl.idx, s.fl.idx.Seq())
		delete(s.fl.watch, id)
	}
	return nil
}

// catchUp applies the stream's entries after the last one applied: all of them, or,
// when upTo is not zero, at least those up to upTo (none when the index has them).
// Asked for all of them while another goroutine reads the stream, it returns at once
// (once the index is loaded): a plan made on an index a few entries behind finds them
// after its write instead.
func (s *Store) catchUp(ctx context.Context, upTo streamID) error {
	if upTo == (streamID{}) && s.fl.loaded.Load() {
		if !s.fl.read.TryLock() {
			return nil
		}
	} else {
		s.fl.read.Lock()
	}
	defer s.fl.read.Unlock()
	if !s.fl.loaded.Load() {
		if err := s.loadFilings(ctx); err != nil {
			return err
		}
	}
	for {
		s.fl.mu.Lock()
		pos := s.fl.pos
		s.fl.mu.Unlock()
		if upTo != (streamID{}) && !pos.less(upTo) {
			return nil
		}
		msgs, err := s.c.XRangeN(ctx, s.filingsKey(), "("+pos.String(), "+", filingsPage).Result()
		if err != nil {
			return s.fail(ctx, "read story filings", err)
		}
		s.fl.mu.Lock()
		for _, m := range msgs {
			if err = s.apply(entryOf(m)); err != nil {
				break
			}
		}
		s.fl.mu.Unlock()
		if err != nil {
			return err
		}
		if len(msgs) < filingsPage {
			return nil // upTo, when past the end, was trimmed or never filed
		}
	}
}
