package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// putScript writes one item if its stored value is still what the caller read (or is
// still absent) and its ID is not tombstoned, moving its index entries in the same step.
//
// KEYS: item, tomb, ver, key-index hash, then nOld sorted sets to leave, then nNew to join.
// ARGV: id, expected, expect-present ("1"/"0"), new value, score, nOld, nNew, nOldF, nNewF,
// then nOldF key-index fields to drop, then nNewF fields to set.
// Returns 1 written, 0 stored value changed meanwhile, 2 tombstoned.
var putScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 2 end
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if cur ~= ARGV[2] then return 0 end
elseif cur then
  return 0
end
redis.call('SET', KEYS[1], ARGV[4])
local nOld, nNew = tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 1, nOld do redis.call('ZREM', KEYS[4 + i], ARGV[1]) end
for i = 1, nNew do redis.call('ZADD', KEYS[4 + nOld + i], ARGV[5], ARGV[1]) end
local nOF, nNF = tonumber(ARGV[8]), tonumber(ARGV[9])
for i = 1, nOF do
  local f = ARGV[9 + i]
  if redis.call('HGET', KEYS[4], f) == ARGV[1] then redis.call('HDEL', KEYS[4], f) end
end
for i = 1, nNF do redis.call('HSET', KEYS[4], ARGV[9 + nOF + i], ARGV[1]) end
redis.call('INCR', KEYS[3])
return 1
`)

// upsertChunk bounds how many items go into one MGET and one pipeline.
const upsertChunk = 500

// maxRounds bounds the compare-and-set retries of one item under contention.
const maxRounds = 50

type outcome int

const (
	pending outcome = iota
	isNew
	isUpdated
	isUnchanged
	isTombstoned
)

// Upsert writes items, each atomically: read, store.Merge in Go, then a compare-and-set
// script that also moves the item's index entries; items whose stored value changed
// meanwhile are read and merged again. Tombstoned items are skipped and not counted.
// An item without FirstSeen gets the current time.
func (s *Store) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	var res news.UpsertResult
	out := make([]outcome, len(items))
	now := time.Now().UTC()
	var err error
	for start := 0; start < len(items) && err == nil; start += upsertChunk {
		end := min(start+upsertChunk, len(items))
		err = s.upsertChunk(ctx, items[start:end], out[start:end], now)
	}
	for i, o := range out {
		switch o {
		case isNew:
			res.New++
			res.NewIDs = append(res.NewIDs, items[i].ID)
		case isUpdated:
			res.Updated++
		case isUnchanged:
			res.Unchanged++
		}
	}
	if err != nil {
		return res, fmt.Errorf("redis upsert: %w", err)
	}
	return res, nil
}

// write is one planned compare-and-set.
type write struct {
	i   int // index in the chunk
	cmd *redis.Cmd
	res outcome // outcome if the script writes
}

func (s *Store) upsertChunk(ctx context.Context, items []news.Item, out []outcome, now time.Time) error {
	todo := make([]int, 0, len(items))
	for i := range items {
		if items[i].ID == "" {
			return fmt.Errorf("item %d of member %s has no ID", i, items[i].Member)
		}
		todo = append(todo, i)
	}
	for round := 0; len(todo) > 0; round++ {
		if round == maxRounds {
			return fmt.Errorf("%d items still contended after %d rounds", len(todo), maxRounds)
		}
		// An ID given twice is written in a later round, merged over the first copy.
		seen := make(map[string]bool, len(todo))
		var now1, later []int
		for _, i := range todo {
			if seen[items[i].ID] {
				later = append(later, i)
				continue
			}
			seen[items[i].ID] = true
			now1 = append(now1, i)
		}
		retry, err := s.upsertRound(ctx, items, now1, out, now)
		if err != nil {
			return err
		}
		todo = append(retry, later...)
	}
	return nil
}

// upsertRound reads, merges and writes the items at idx (distinct IDs); it returns those
// that lost a race and must be tried again.
func (s *Store) upsertRound(ctx context.Context, items []news.Item, idx []int, out []outcome, now time.Time) ([]int, error) {
	keys := make([]string, len(idx))
	for j, i := range idx {
		keys[j] = s.itemKey(items[i].ID)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail(ctx, "read items", err)
	}
	pipe := s.c.Pipeline()
	var writes []write
	for j, i := range idx {
		in := items[i]
		if in.FirstSeen.IsZero() {
			in.FirstSeen = now
		}
		old, present := vals[j].(string)
		var (
			m      news.Item
			oldIt  news.Item
			result = isNew
		)
		if present {
			oldIt, err = decodeItem(old)
			if err != nil {
				return nil, fmt.Errorf("item %s: %w", in.ID, err)
			}
			var changed bool
			m, changed = store.Merge(oldIt, in)
			if !changed {
				out[i] = isUnchanged
				continue
			}
			result = isUpdated
		} else {
			m = in
		}
		v, err := encodeItem(&m)
		if err != nil {
			return nil, err
		}
		newZ := s.indexKeys(&m)
		newF := lookupFields(&m)
		var oldZ, oldF []string
		if present {
			oldZ = minus(s.indexKeys(&oldIt), newZ)
			oldF = minus(lookupFields(&oldIt), newF)
		}
		ks := make([]string, 0, 4+len(oldZ)+len(newZ))
		ks = append(ks, keys[j], s.tombKey(), s.verKey(), s.keysKey())
		ks = append(ks, oldZ...)
		ks = append(ks, newZ...)
		args := make([]any, 0, 9+len(oldF)+len(newF))
		flag := "0"
		if present {
			flag = "1"
		}
		args = append(args, m.ID, old, flag, v, scoreArg(score(&m)),
			len(oldZ), len(newZ), len(oldF), len(newF))
		for _, f := range oldF {
			args = append(args, f)
		}
		for _, f := range newF {
			args = append(args, f)
		}
		writes = append(writes, write{i: i, res: result, cmd: pipe.EvalSha(ctx, putScript.Hash(), ks, args...)})
	}
	if len(writes) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReply(err) {
		return nil, s.fail(ctx, "write items", err)
	}
	var retry []int
	loaded := false
	for _, w := range writes {
		n, err := w.cmd.Int()
		switch {
		case err == nil && n == 1:
			out[w.i] = w.res
		case err == nil && n == 2:
			out[w.i] = isTombstoned
		case err == nil && n == 0:
			retry = append(retry, w.i)
		case isNoScript(err):
			if !loaded {
				if err := putScript.Load(ctx, s.c).Err(); err != nil {
					return nil, s.fail(ctx, "load script", err)
				}
				loaded = true
			}
			retry = append(retry, w.i)
		default:
			if err == nil {
				err = errors.New("unexpected script result " + strconv.Itoa(n))
			}
			return nil, s.fail(ctx, "write item "+items[w.i].ID, err)
		}
	}
	return retry, nil
}

// isReply reports whether err is a reply from Redis (one command failed) rather than a
// failure to talk to it; pipelines return the first command's error.
func isReply(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && !unavailable(err)
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}
