package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
)

// forgetBatch is how many items Forget reads and removes at a time, so that a source of
// many items never holds a shared Redis in one long command.
const forgetBatch = 500

// forgetSourceScript removes the state KEYS[1][ARGV[1]] and its history KEYS[2][ARGV[1]]
// when the state is member ARGV[2]'s; it returns 1 when it did.
var forgetSourceScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local ok, st = pcall(cjson.decode, v)
if not ok or st.member ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`)

// Forget implements store.Store: source's items of member go as Trim's do (each by the
// drop script, compared with what was read, so an item written meanwhile is read
// again), with no tombstone; then source's state and history, when it is member's.
func (s *Store) Forget(ctx context.Context, member, source string) (int, error) {
	removed := 0
	for round := 0; ; round++ {
		if round == maxRounds {
			return removed, fmt.Errorf("redis forget %s of %s: still contended after %d rounds", source, member, maxRounds)
		}
		ids, err := s.c.ZRange(ctx, s.sourceKey(source), 0, -1).Result()
		if err != nil {
			return removed, s.fail(ctx, "redis forget "+source, err)
		}
		again := false
		for len(ids) > 0 {
			batch := ids[:min(forgetBatch, len(ids))]
			ids = ids[len(batch):]
			n, changed, err := s.drop(ctx, batch, func(it *news.Item) bool { return it.Member == member }, time.Time{})
			removed += n
			if err != nil {
				return removed, fmt.Errorf("redis forget %s of %s: %w", source, member, err)
			}
			again = again || changed
		}
		if !again {
			break
		}
	}
	if err := forgetSourceScript.Run(ctx, s.c, []string{s.srcKey(), s.histKey()}, source, member).Err(); err != nil {
		return removed, s.fail(ctx, "redis forget source "+source, err)
	}
	return removed, nil
}
