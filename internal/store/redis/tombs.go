package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tombstones. A trimmed item's ID goes into "P tz" with the time it was trimmed, and the
// write script refuses IDs found there, so a source that still lists an item retention
// removed does not bring it back. The item was dated no later than that time, so once
// the time is older than retention's max_age the item is too, and polling no longer
// stores it anyway (poll drops items older than max_age): the tombstone expires then,
// and tombstones follow what retention keeps instead of every item ever trimmed.
// Earlier versions kept tombstones in the set "P tomb", without times; Open and the
// upkeep move them into "P tz", timed as of the move.

func (s *Store) legacyTombKey() string { return s.p + "tomb" }

// tombMoveBatch is how many legacy tombstones one script call moves.
const tombMoveBatch = 1000

// moveTombsScript moves up to ARGV[2] IDs from the legacy set KEYS[1] into the sorted
// set KEYS[2] with score ARGV[1] (keeping an earlier score); it returns how many.
// It writes nothing when there are none: Redis unable to save its snapshot (MISCONF)
// refuses any write, SPOP of an empty set too, and a process would not start.
var moveTombsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ids = redis.call('SPOP', KEYS[1], ARGV[2])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], 'NX', ARGV[1], id) end
return #ids
`)

// moveLegacyTombs moves the tombstones earlier versions wrote into "P tz".
func (s *Store) moveLegacyTombs(ctx context.Context, now time.Time) error {
	for {
		n, err := moveTombsScript.Run(ctx, s.c, []string{s.legacyTombKey(), s.tombKey()}, now.Unix(), tombMoveBatch).Int()
		if err != nil {
			return s.fail(ctx, "move tombstones", err)
		}
		if n < tombMoveBatch {
			return nil
		}
	}
}

// expireTombs drops the tombstones of items trimmed more than maxAge before now.
func (s *Store) expireTombs(ctx context.Context, maxAge time.Duration, now time.Time) error {
	if maxAge <= 0 {
		return nil
	}
	cutoff := "(" + strconv.FormatInt(now.Add(-maxAge).Unix(), 10)
	if err := s.c.ZRemRangeByScore(ctx, s.tombKey(), "-inf", cutoff).Err(); err != nil {
		return s.fail(ctx, "expire tombstones", err)
	}
	return nil
}

// runUpkeep runs, at most once every store.UpkeepEvery per process, the sweeps that
// keep the store to what retention keeps: old filings out of the story-key lists
// (unfile.go), tombstones moved from the legacy set and expired.
func (s *Store) runUpkeep(ctx context.Context, maxAge time.Duration, now time.Time) error {
	if !s.upkeep.Due(now) {
		return nil
	}
	if _, err := s.unfileOld(ctx, now); err != nil {
		return err
	}
	if err := s.moveLegacyTombs(ctx, now); err != nil {
		return err
	}
	return s.expireTombs(ctx, maxAge, now)
}

// carryTombsScript: for each pair (ARGV[i], ARGV[i+1]) whose first ID is in the
// sorted set KEYS[1], adds the second with the same score (keeping one it has); it
// returns the first IDs found.
var carryTombsScript = redis.NewScript(`
local out = {}
for i = 1, #ARGV, 2 do
  local t = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if t then
    redis.call('ZADD', KEYS[1], 'NX', t, ARGV[i+1])
    out[#out+1] = ARGV[i]
  end
end
return out
`)

// CarryTombstones implements store.Store.
func (s *Store) CarryTombstones(ctx context.Context, ids map[string]string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2*len(ids))
	for from, to := range ids {
		args = append(args, from, to)
	}
	found, err := carryTombsScript.Run(ctx, s.c, []string{s.tombKey()}, args...).StringSlice()
	if err != nil {
		return nil, s.fail(ctx, "redis carry tombstones", err)
	}
	return found, nil
}
