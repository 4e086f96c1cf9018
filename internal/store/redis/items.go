package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// DefaultLimit is how many items Items returns when the query sets no Limit.
const DefaultLimit = 50

// maxFetch bounds one read of an index.
const maxFetch = 1000

// Item returns one item by ID, or store.ErrNotFound.
func (s *Store) Item(ctx context.Context, id string) (news.Item, error) {
	items, _, err := s.fetch(ctx, []string{id})
	if err != nil {
		return news.Item{}, fmt.Errorf("redis item %s: %w", id, err)
	}
	if len(items) == 0 {
		return news.Item{}, fmt.Errorf("redis item %s: %w", id, store.ErrNotFound)
	}
	return items[0], nil
}

// ItemsByKey returns member's items whose Key or canonical link is one of keys.
func (s *Store) ItemsByKey(ctx context.Context, member string, keys []string) ([]news.Item, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	fields := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		fields = append(fields, keyField(member, k), canonField(member, k))
	}
	vals, err := s.c.HMGet(ctx, s.keysKey(), fields...).Result()
	if err != nil {
		return nil, s.fail(ctx, "redis items by key", err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, v := range vals {
		if id, ok := v.(string); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	items, _, err := s.fetch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("redis items by key: %w", err)
	}
	out := items[:0]
	for _, it := range items {
		if it.Member == member {
			out = append(out, it)
		}
	}
	return out, nil
}

// fetch reads the items with ids, in order, leaving out those that no longer exist,
// with their cluster fields; hidden reports, for each item returned, whether clustered
// reads skip it.
func (s *Store) fetch(ctx context.Context, ids []string) (items []news.Item, hidden []bool, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.itemKey(id)
	}
	pipe := s.c.Pipeline()
	mget := pipe.MGet(ctx, keys...)
	cas := pipe.HMGet(ctx, s.clusterOfKey(), ids...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, s.fail(ctx, "read items", err)
	}
	vals, cvals := mget.Val(), cas.Val()
	items = make([]news.Item, 0, len(ids))
	hidden = make([]bool, 0, len(ids))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // removed between the index read and now
		}
		it, err := decodeItem(str)
		if err != nil {
			return nil, nil, fmt.Errorf("item %s: %w", ids[i], err)
		}
		h := false
		if cv, ok := cvals[i].(string); ok {
			st, err := parseClusterState(cv)
			if err != nil {
				return nil, nil, fmt.Errorf("item %s: %w", ids[i], err)
			}
			st.apply(&it)
			h = st.hidden
		}
		items = append(items, it)
		hidden = append(hidden, h)
	}
	return items, hidden, nil
}

// fetchRaw reads the items with ids as stored, leaving out those that no longer exist.
func (s *Store) fetchRaw(ctx context.Context, ids []string) ([]news.Item, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.itemKey(id)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail(ctx, "read items", err)
	}
	out := make([]news.Item, 0, len(ids))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // removed between the index read and now
		}
		it, err := decodeItem(str)
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", ids[i], err)
		}
		out = append(out, it)
	}
	return out, nil
}

// Items returns the newest items matching q, newest first (SortTime in milliseconds
// descending, then ID descending). It walks the smallest sorted set that q restricts
// to, reading items in batches and checking the remaining conditions in Go, until Limit
// items match (DefaultLimit when q.Limit <= 0).
func (s *Store) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	src, err := s.plan(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("redis items: %w", err)
	}
	if src == nil {
		return []news.Item{}, nil
	}
	m := newMatcher(q)
	// Room for what a usual page finds, not for the limit: the dashboard asks for up to
	// 1000 items of each member (alerts.ItemsQuery) and most have a few.
	out := make([]news.Item, 0, min(limit, DefaultLimit))
	var ids []string
	// Read as many items as are missing, more each time the Go-side conditions reject some.
	for factor := 1; len(out) < limit; factor = min(2*factor, maxFetch) {
		ids = ids[:0]
		want := min((limit-len(out))*factor, maxFetch)
		for len(ids) < want {
			e, ok, err := src.next(ctx)
			if err != nil {
				return nil, fmt.Errorf("redis items: %w", err)
			}
			if !ok {
				break
			}
			if !q.Before.IsZero() && !before(e, q.Before) {
				continue
			}
			ids = append(ids, e.id)
		}
		if len(ids) == 0 {
			break
		}
		items, hidden, err := s.fetch(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("redis items: %w", err)
		}
		for i, it := range items {
			if q.Clustered && hidden[i] && !store.FiltersContent(q) && q.Listed == nil {
				continue // another member's copy of the story is shown
			}
			if !m.match(&it) {
				continue
			}
			if q.Clustered && hidden[i] {
				// Shown only when the filter leaves out the copies before it.
				in, err := s.standsIn(ctx, q, &it)
				if err != nil {
					return nil, fmt.Errorf("redis items: %w", err)
				}
				if !in {
					continue
				}
			}
			out = append(out, it)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// standsIn reports whether it, a hidden copy that q matches, stands in for its story in
// a clustered read (store.StandsIn), reading its cluster's entries and copies.
func (s *Store) standsIn(ctx context.Context, q news.Query, it *news.Item) (bool, error) {
	v, err := s.c.HGet(ctx, s.clustersKey(), it.ClusterID).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, s.fail(ctx, "read cluster", err)
	}
	es, err := parseEntries(v)
	if err != nil {
		return false, fmt.Errorf("cluster %s: %w", it.ClusterID, err)
	}
	if !store.FiltersContent(q) {
		// Only q.Listed filters copies: the entries say it all (no copy is read).
		return store.ListedStandsIn(q.Listed, it.ID, es), nil
	}
	// The copies in one read: a story has a few.
	ids := make([]string, 0, len(es))
	for _, e := range es {
		if e.ID != it.ID {
			ids = append(ids, e.ID)
		}
	}
	copies, err := s.fetchRaw(ctx, ids)
	if err != nil {
		return false, err
	}
	byID := make(map[string]*news.Item, len(copies))
	for i := range copies {
		byID[copies[i].ID] = &copies[i]
	}
	return store.StandsIn(q, it.ID, es, func(id string) (news.Item, bool, error) {
		if c := byID[id]; c != nil {
			return *c, true, nil
		}
		return news.Item{}, false, nil
	})
}

// parseEntries decodes a cluster's entries as the scripts write them: a line
// "id\tmember\tsortms\tfirstseenms" each.
func parseEntries(v string) ([]store.ClusterEntry, error) {
	var es []store.ClusterEntry
	for line := range strings.SplitSeq(strings.TrimRight(v, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("malformed cluster entry %q", line)
		}
		t, err1 := strconv.ParseInt(f[2], 10, 64)
		fs, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed cluster entry %q", line)
		}
		es = append(es, store.ClusterEntry{ID: f[0], Member: f[1], Time: t, FirstSeen: fs})
	}
	return es, nil
}

// before reports whether e is strictly older than the cursor c.
func before(e entry, c news.Cursor) bool {
	cs := msBound(c.Time)
	return e.score < cs || (e.score == cs && e.id < c.ID)
}

// plan picks the smallest sorted set that q restricts to and returns an iterator over
// it, or nil when q can match nothing.
func (s *Store) plan(ctx context.Context, q news.Query, limit int) (source, error) {
	type cand struct {
		keys []string
		card int64
	}
	var cands []cand
	if len(q.Members) > 0 {
		var ks []string
		seen := map[string]bool{}
		for _, m := range q.Members {
			if !seen[m] {
				seen[m] = true
				ks = append(ks, s.memberKey(m))
			}
		}
		cands = append(cands, cand{keys: ks})
	}
	if q.Country != "" {
		cands = append(cands, cand{keys: []string{s.countryKey(q.Country)}})
	}
	if q.Region != "" {
		cands = append(cands, cand{keys: []string{s.regionKey(q.Region)}})
	}
	if q.Language != "" {
		cands = append(cands, cand{keys: []string{s.langKey(q.Language)}})
	}
	best := cand{keys: []string{s.allKey()}}
	if len(cands) > 0 {
		pipe := s.c.Pipeline()
		var cmds [][]*redis.IntCmd
		for _, c := range cands {
			var cs []*redis.IntCmd
			for _, k := range c.keys {
				cs = append(cs, pipe.ZCard(ctx, k))
			}
			cmds = append(cmds, cs)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.fail(ctx, "count index", err)
		}
		for i := range cands {
			for _, c := range cmds[i] {
				cands[i].card += c.Val()
			}
			if cands[i].card == 0 {
				return nil, nil
			}
		}
		best = cands[0]
		for _, c := range cands[1:] {
			if c.card < best.card {
				best = c
			}
		}
	}
	maxB, minB := "+inf", "-inf"
	if !q.Before.IsZero() {
		maxB = scoreArg(msBound(q.Before.Time))
	}
	if !q.Since.IsZero() {
		minB = scoreArg(msBound(q.Since))
	}
	batch := int64(min(max(limit+1, 16), maxFetch))
	var its []source
	for _, k := range best.keys {
		its = append(its, &zIter{s: s, key: k, max: maxB, min: minB, batch: batch})
	}
	if len(its) == 1 {
		return its[0], nil
	}
	return newMerge(its), nil
}

// entry is one sorted-set member.
type entry struct {
	id    string
	score float64
}

// newer reports whether a sorts before b (score descending, then ID descending).
func (a entry) newer(b entry) bool {
	return a.score > b.score || (a.score == b.score && a.id > b.id)
}

// source yields entries newest first.
type source interface {
	next(ctx context.Context) (entry, bool, error)
}

// zIter walks one sorted set from max down to min in batches, keyed on the last
// (score, offset among equal scores) so each batch costs O(log n + batch).
type zIter struct {
	s        *Store
	key      string
	max, min string
	offset   int64
	batch    int64
	buf      []redis.Z
	done     bool
}

func (z *zIter) next(ctx context.Context) (entry, bool, error) {
	if len(z.buf) == 0 {
		if z.done {
			return entry{}, false, nil
		}
		got, err := z.s.c.ZRevRangeByScoreWithScores(ctx, z.key, &redis.ZRangeBy{
			Max: z.max, Min: z.min, Offset: z.offset, Count: z.batch}).Result()
		if err != nil {
			return entry{}, false, z.s.fail(ctx, "read index", err)
		}
		if int64(len(got)) < z.batch {
			z.done = true
		}
		if len(got) == 0 {
			return entry{}, false, nil
		}
		// Next batch: from the last score (inclusive), skipping the entries with that
		// score already read.
		last := got[len(got)-1].Score
		ties := int64(0)
		for i := len(got) - 1; i >= 0 && got[i].Score == last; i-- {
			ties++
		}
		lastB := scoreArg(last)
		if lastB == z.max {
			z.offset += ties
		} else {
			z.offset = ties
		}
		z.max = lastB
		z.buf = got
		if z.batch < maxFetch {
			z.batch = min(2*z.batch, maxFetch)
		}
	}
	m := z.buf[0]
	z.buf = z.buf[1:]
	id, _ := m.Member.(string)
	return entry{id: id, score: m.Score}, true, nil
}

// merge interleaves several sources (the sorted sets of several members).
type merge struct {
	its   []source
	heads []entry
	ok    []bool
	init  bool
}

func newMerge(its []source) *merge {
	return &merge{its: its, heads: make([]entry, len(its)), ok: make([]bool, len(its))}
}

func (m *merge) next(ctx context.Context) (entry, bool, error) {
	if !m.init {
		for i, it := range m.its {
			e, ok, err := it.next(ctx)
			if err != nil {
				return entry{}, false, err
			}
			m.heads[i], m.ok[i] = e, ok
		}
		m.init = true
	}
	best := -1
	for i := range m.its {
		if m.ok[i] && (best < 0 || m.heads[i].newer(m.heads[best])) {
			best = i
		}
	}
	if best < 0 {
		return entry{}, false, nil
	}
	e := m.heads[best]
	n, ok, err := m.its[best].next(ctx)
	if err != nil {
		return entry{}, false, err
	}
	m.heads[best], m.ok[best] = n, ok
	return e, true, nil
}

// matcher checks every condition of a query on a decoded item: the filters every
// backend shares (store.Matcher) and the paging position.
type matcher struct {
	q       news.Query
	filters func(*news.Item) bool
}

func newMatcher(q news.Query) *matcher {
	return &matcher{q: q, filters: store.Matcher(q)}
}

func (m *matcher) match(it *news.Item) bool {
	if !m.q.Before.IsZero() && !before(entry{id: it.ID, score: score(it)}, m.q.Before) {
		return false
	}
	return m.filters(it)
}
