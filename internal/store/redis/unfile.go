package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/store"
)

// Story-key filings age out. A cluster decision confirms only candidates dated within
// store.ClusterWindow of the new item, so an item dated more than two windows ago can
// only be the candidate of an item dated more than a window ago: the story-key lists
// need not hold it, nor the stories hash its story. Trim (which polling runs after new
// items) therefore also takes such items out of their lists and drops their stories, at
// most once every store.UpkeepEvery per process: oldest first along the network's timeline,
// remembering in "P uf" the timeline score it got to. The story-key and story hashes
// then hold about two windows of items, not all that retention keeps.
// An item already older than that point when it arrives (a backfilled archive) stays
// filed until retention trims it.

// unfileBatch is how many items one sweep step takes (a variable for tests).
var unfileBatch int64 = 512

func (s *Store) unfiledKey() string { return s.p + "uf" }

// luaUnfile is shared by the drop and unfile scripts: unfile takes ID id out of the
// list of story key k in the story-key hash kbd, deleting the list when it is left empty.
var luaUnfile = `
local function unfile(kbd, k, id)
  local v = redis.call('HGET', kbd, k)
  if not v then return end
  local kept, gone = {}, false
  for x in string.gmatch(v, '[^\n]+') do
    if x == id then gone = true else kept[#kept + 1] = x end
  end
  if not gone then return end
  if #kept == 0 then
    redis.call('HDEL', kbd, k)
  else
    redis.call('HSET', kbd, k, table.concat(kept, '\n'))
  end
end
`

// unfileScript takes items out of their story-key lists, drops their stories (only
// cluster decisions read them, and those no longer find the items), and moves the
// sweep's mark forward (never back: two workers may sweep at once).
//
// KEYS: story index, stories, the sweep's mark. ARGV: the new mark, then per item: id,
// nK, then its nK story keys.
var unfileScript = redis.NewScript(luaUnfile + `
local a = 2
while a <= #ARGV do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  for i = a + 2, a + 1 + n do unfile(KEYS[1], ARGV[i], id) end
  redis.call('HDEL', KEYS[2], id)
  a = a + 2 + n
end
local cur = redis.call('GET', KEYS[3])
if not cur or tonumber(cur) < tonumber(ARGV[1]) then redis.call('SET', KEYS[3], ARGV[1]) end
return 0
`)

// unfileOld takes the items dated more than two cluster windows before now, and not
// swept yet, out of their story-key lists; it returns how many it swept.
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
		// An item with no story recorded (written before stories were) is left filed.
		keys, err := s.filedUnder(ctx, ids, nil)
		if err != nil {
			return swept, err
		}
		args := []any{scoreArg(last)}
		for i, id := range ids {
			args = append(args, id, len(keys[i]))
			for _, k := range keys[i] {
				args = append(args, k)
			}
		}
		if err := unfileScript.Run(ctx, s.c, []string{s.bandsKey(), s.storiesKey(), s.unfiledKey()}, args...).Err(); err != nil {
			return swept, s.fail(ctx, "unfile old stories", err)
		}
		swept += len(ids)
		from = "(" + scoreArg(last)
	}
}
