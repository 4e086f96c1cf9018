package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/store"
)

// Stories age out. A cluster decision confirms only candidates dated within
// store.ClusterWindow of the new item, so an item dated more than two windows ago can
// only be the candidate of an item dated more than a window ago: the stories hash need
// not hold its story (without one, it is no candidate). Trim (which polling runs after
// new items) therefore also drops the stories of such items, at most once every
// store.UpkeepEvery per process: oldest first along the network's timeline,
// remembering in "P uf" the timeline score it got to. The stories hash then holds
// about two windows of items, not all that retention keeps.
// An item already older than that point when it arrives (a backfilled archive) keeps
// its story until retention trims it.

// unfileBatch is how many items one sweep step takes (a variable for tests).
var unfileBatch int64 = 512

func (s *Store) unfiledKey() string { return s.p + "uf" }

// unfileScript drops the stories of items (only cluster decisions read them, and
// those no longer take the items) and moves the sweep's mark forward (never back: two
// workers may sweep at once).
//
// KEYS: stories, the sweep's mark. ARGV: the new mark, then the items' IDs.
var unfileScript = redis.NewScript(`
for i = 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
local cur = redis.call('GET', KEYS[2])
if not cur or tonumber(cur) < tonumber(ARGV[1]) then redis.call('SET', KEYS[2], ARGV[1]) end
return 0
`)

// unfileOld drops the stories of the items dated more than two cluster windows before
// now, and not swept yet; it returns how many it swept.
func (s *Store) unfileOld(ctx context.Context, now time.Time) (int, error) {
	cutoff := scoreArg(msBound(now.Add(-2 * store.ClusterWindow)))
	from := "-inf"
	switch v, err := s.c.Get(ctx, s.unfiledKey()).Result(); {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return 0, s.fail(ctx, "read story sweep mark", err)
	default:
		from = "(" + v
	}
	swept := 0
	for {
		zs, err := s.c.ZRangeByScoreWithScores(ctx, s.allKey(), &redis.ZRangeBy{Min: from, Max: cutoff, Count: unfileBatch}).Result()
		if err != nil {
			return swept, s.fail(ctx, "read old items", err)
		}
		if len(zs) == 0 {
			return swept, nil
		}
		last := zs[len(zs)-1].Score
		if int64(len(zs)) == unfileBatch {
			// The batch may end inside a run of equal scores: take the whole run, since
			// the next step starts after this score.
			tie, err := s.c.ZRangeByScoreWithScores(ctx, s.allKey(), &redis.ZRangeBy{Min: scoreArg(last), Max: scoreArg(last)}).Result()
			if err != nil {
				return swept, s.fail(ctx, "read old items", err)
			}
			zs = append(zs, tie...)
		}
		ids, seen := make([]string, 0, len(zs)), map[string]bool{}
		for _, z := range zs {
			if id, _ := z.Member.(string); !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		args := []any{scoreArg(last)}
		for _, id := range ids {
			args = append(args, id)
		}
		if err := unfileScript.Run(ctx, s.c, []string{s.storiesKey(), s.unfiledKey()}, args...).Err(); err != nil {
			return swept, s.fail(ctx, "drop old stories", err)
		}
		swept += len(ids)
		from = "(" + scoreArg(last)
	}
}
