package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
)

// dropScript removes one item if its stored value is still what the caller read, with
// its index entries and its story, and tombstones its ID (unless given no time: Forget).
//
// It takes the item out of its cluster (see cluster.go), so that another copy of the
// story is shown when it was the shown one. Its filing stays in the stream of story
// filings (filings.go) until newer ones push it out: a cluster decision reads the
// stories of the candidates it ranks, and an item without one is none.
//
// KEYS: item, tomb, ver, key-index hash, clusters, items' cluster state, stories, then
// the sorted sets it is in.
// ARGV: id, expected value, the time (Unix seconds) for its tombstone ("": none), nF, then nF
// key-index fields pointing at it.
// Returns 1 removed, 0 changed or gone meanwhile.
var dropScript = redis.NewScript(luaClusters + `
local id = ARGV[1]
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[7], id)
for i = 8, #KEYS do redis.call('ZREM', KEYS[i], id) end
local cid = clusterOf(KEYS[6], id)
if cid then
  redis.call('HDEL', KEYS[6], id)
  local es, rest = decodeEntries(redis.call('HGET', KEYS[5], cid)), {}
  for _, e in ipairs(es) do if e.id ~= id then rest[#rest + 1] = e end end
  saveCluster(KEYS[5], KEYS[6], cid, es, rest)
end
local nF = tonumber(ARGV[4])
for i = 5, 4 + nF do
  if redis.call('HGET', KEYS[4], ARGV[i]) == id then redis.call('HDEL', KEYS[4], ARGV[i]) end
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], id) end
redis.call('INCR', KEYS[3])
return 1
`)

// Trim keeps source's newest maxItems items (0: no cap) and drops those with a SortTime
// before now-maxAge (0: no limit), tombstoning what it removes. It reads only the
// source's own sorted set; then, at most once a minute per process, it drops the
// stories of the network's items dated more than two cluster windows ago (see
// unfile.go) and expires the tombstones older than maxAge (tombs.go).
func (s *Store) Trim(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error) {
	removed, err := s.trimSource(ctx, source, maxItems, maxAge, now)
	if err != nil {
		return removed, err
	}
	if err := s.runUpkeep(ctx, maxAge, now); err != nil {
		return removed, fmt.Errorf("redis trim %s: %w", source, err)
	}
	return removed, nil
}

func (s *Store) trimSource(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error) {
	zkey := s.sourceKey(source)
	var cutoff time.Time
	if maxAge > 0 {
		cutoff = now.Add(-maxAge)
	}
	removed := 0
	for round := 0; ; round++ {
		if round == maxRounds {
			return removed, fmt.Errorf("redis trim %s: still contended after %d rounds", source, maxRounds)
		}
		ids, byCount, err := s.trimCandidates(ctx, zkey, maxItems, cutoff)
		if err != nil {
			return removed, fmt.Errorf("redis trim %s: %w", source, err)
		}
		if len(ids) == 0 {
			return removed, nil
		}
		n, again, err := s.drop(ctx, ids, func(it *news.Item) bool {
			return byCount[it.ID] || (!cutoff.IsZero() && it.SortTime().Before(cutoff))
		}, now)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("redis trim %s: %w", source, err)
		}
		if !again {
			return removed, nil
		}
	}
}

// trimCandidates lists the IDs past maxItems (also returned as a set) or possibly older
// than cutoff.
func (s *Store) trimCandidates(ctx context.Context, zkey string, maxItems int, cutoff time.Time) ([]string, map[string]bool, error) {
	pipe := s.c.Pipeline()
	var byCount, byAge *redis.StringSliceCmd
	if maxItems > 0 {
		byCount = pipe.ZRevRange(ctx, zkey, int64(maxItems), -1)
	}
	if !cutoff.IsZero() {
		// Scores are whole milliseconds: take the cutoff's millisecond too and let drop
		// compare exact times.
		byAge = pipe.ZRangeByScore(ctx, zkey, &redis.ZRangeBy{Min: "-inf", Max: scoreArg(msBound(cutoff))})
	}
	if byCount == nil && byAge == nil {
		return nil, nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, s.fail(ctx, "read source index", err)
	}
	counted := map[string]bool{}
	if byCount != nil {
		for _, id := range byCount.Val() {
			counted[id] = true
		}
	}
	seen := map[string]bool{}
	var ids []string
	for _, c := range []*redis.StringSliceCmd{byCount, byAge} {
		if c == nil {
			continue
		}
		for _, id := range c.Val() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, counted, nil
}

// drop removes the items with ids for which doomed holds, tombstoned as of now (the
// zero time: not tombstoned); again reports that some changed meanwhile and the
// candidates must be read again.
func (s *Store) drop(ctx context.Context, ids []string, doomed func(*news.Item) bool, now time.Time) (removed int, again bool, err error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.itemKey(id)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, false, s.fail(ctx, "read items", err)
	}
	type victim struct {
		key, cur string
		it       news.Item
	}
	var doomedItems []victim
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		it, err := decodeItem(str)
		if err != nil {
			return 0, false, fmt.Errorf("item %s: %w", ids[i], err)
		}
		if !doomed(&it) {
			continue
		}
		doomedItems = append(doomedItems, victim{keys[i], str, it})
	}
	if len(doomedItems) == 0 {
		return 0, false, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.Cmd, len(doomedItems))
	for i := range doomedItems {
		d := &doomedItems[i]
		cmds[i] = s.dropCmd(ctx, pipe, d.key, &d.it, d.cur, now)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReply(err) {
		return 0, false, s.fail(ctx, "remove items", err)
	}
	for _, c := range cmds {
		n, err := c.Int()
		switch {
		case err == nil && n == 1:
			removed++
		case err == nil:
			again = true
		case isNoScript(err):
			if err := dropScript.Load(ctx, s.c).Err(); err != nil {
				return removed, false, s.fail(ctx, "load script", err)
			}
			again = true
		default:
			return removed, false, s.fail(ctx, "remove item", err)
		}
	}
	return removed, again, nil
}

func (s *Store) dropCmd(ctx context.Context, pipe redis.Pipeliner, key string, it *news.Item, cur string, now time.Time) *redis.Cmd {
	ks := append([]string{key, s.tombKey(), s.verKey(), s.keysKey(), s.clustersKey(), s.clusterOfKey(), s.storiesKey()}, s.indexKeys(it)...)
	fields := lookupFields(it)
	var tomb any = ""
	if !now.IsZero() {
		tomb = now.Unix()
	}
	args := []any{it.ID, cur, tomb, len(fields)}
	for _, f := range fields {
		args = append(args, f)
	}
	return pipe.EvalSha(ctx, dropScript.Hash(), ks, args...)
}
