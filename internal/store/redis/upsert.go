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

// putScript writes a batch of items, each only if its stored value is still what the
// caller read (or is still absent) and its ID is not tombstoned; it moves the item's
// index entries and, for a new item, decides its cluster (see cluster.go) and appends
// its filing to the stream of story filings (filings.go) in the same step (for an
// update whose story keys changed, only the filing). The whole
// batch runs as one script, so each item's write is atomic (the batch is too, which
// nothing relies on).
//
// KEYS: tomb, ver, key-index hash, story filings, clusters, items' cluster state,
// stories, then per item: item key, nOld sorted sets to leave, nNew sorted sets to join.
// ARGV: the stream's length cap, then per item: id, expected, expect-present ("1" or
// "0"), new value, story, score, nOld, nNew, nOldF, nNewF, then nOldF key-index fields
// to drop, then nNewF fields to set, then member, sort ms, first-seen ms, story keys
// (packKeys; for an update, "" unless they changed, when it is filed again), nCands,
// nCands quadruples (id, member, sort ms, first-seen ms).
// Returns one element per item: 1 written (an update), 0 stored value changed
// meanwhile, 2 tombstoned; for a new item written, an array instead: 1, 1 when the
// item joined a cluster (else 0), the ID of its filing in the stream.
var putScript = redis.NewScript(luaClusters + `
local out, k, a, written, full, hasM = {}, 8, 2, 0, {}, {}
local KFL, KCL, KCA, KSY = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
while a <= #ARGV do
  local id, exp, flag, val, story, sc = ARGV[a], ARGV[a+1], ARGV[a+2], ARGV[a+3], ARGV[a+4], ARGV[a+5]
  local nOld, nNew = tonumber(ARGV[a+6]), tonumber(ARGV[a+7])
  local nOF, nNF = tonumber(ARGV[a+8]), tonumber(ARGV[a+9])
  local c = a + 10 + nOF + nNF
  local me = {id = id, m = ARGV[c], t = tonumber(ARGV[c+1]), f = tonumber(ARGV[c+2])}
  local nC = tonumber(ARGV[c+4])
  local key = KEYS[k]
  local r = 1
  if redis.call('ZSCORE', KEYS[1], id) then
    r = 2
  elseif flag == '1' then
    if redis.call('GET', key) ~= exp then r = 0 else redis.call('SET', key, val) end
  elseif not redis.call('SET', key, val, 'NX') then
    r = 0
  end
  if r == 1 then
    redis.call('HSET', KSY, id, story)
    for i = 1, nOld do redis.call('ZREM', KEYS[k + i], id) end
    for i = 1, nNew do redis.call('ZADD', KEYS[k + nOld + i], sc, id) end
    for i = 1, nOF do
      local f = ARGV[a + 9 + i]
      if redis.call('HGET', KEYS[3], f) == id then redis.call('HDEL', KEYS[3], f) end
    end
    if nNF > 0 then
      local fv = {}
      for i = 1, nNF do fv[2*i - 1] = ARGV[a + 9 + nOF + i]; fv[2*i] = id end
      redis.call('HSET', KEYS[3], unpack(fv))
    end
    if flag == '1' then
      -- An update: filed again when its story keys changed (given only then), and
      -- its new date recorded in its cluster.
      if ARGV[c+3] ~= '' then redis.call('XADD', KFL, 'MAXLEN', '~', ARGV[1], '*', 'i', id, 'k', ARGV[c+3]) end
      local cid = clusterOf(KCA, id)
      if cid then
        local old = decodeEntries(redis.call('HGET', KCL, cid))
        local es = {}
        for i, e in ipairs(old) do
          if e.id == id then es[i] = {id = e.id, m = e.m, t = me.t, f = me.f} else es[i] = e end
        end
        saveCluster(KCL, KCA, cid, old, es)
      end
    else
      -- Candidates are often in the same cluster: one that could not take the item is
      -- not read again, nor, for the rest of the batch, one that was full or had an
      -- item of the member (a script only adds entries to clusters).
      local tried, joined = {}, 0
      for i = 1, nC do
        local p = c + 5 + 4*(i-1)
        local cand = {id = ARGV[p], m = ARGV[p+1], t = tonumber(ARGV[p+2]), f = tonumber(ARGV[p+3])}
        if not redis.call('ZSCORE', KEYS[1], cand.id) then
          local cid = clusterOf(KCA, cand.id) or cand.id
          if not tried[cid] and not full[cid] and hasM[cid] ~= me.m then
            local ok, why = join(KCL, KCA, cid, cand, me)
            if ok then joined = 1; break end
            tried[cid] = true
            if why == 'full' then full[cid] = true elseif why == 'member' then hasM[cid] = me.m end
          end
        end
      end
      r = {1, joined, redis.call('XADD', KFL, 'MAXLEN', '~', ARGV[1], '*', 'i', id, 'k', ARGV[c+3])}
    end
    written = written + 1
  end
  out[#out + 1] = r
  k = k + 1 + nOld + nNew
  a = c + 5 + 4*nC
end
if written > 0 then redis.call('INCRBY', KEYS[2], written) end
return out
`)

// maxClusterLua is store.MaxClusterSize for the write script.
var maxClusterLua = strconv.Itoa(store.MaxClusterSize)

// upsertChunk bounds how many items go into one MGET and one script call (a script
// blocks Redis while it runs: about 150µs an item on a small machine when most new
// items have cluster candidates, as in the loopback fleet).
const upsertChunk = 256

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
// script that also moves the item's index entries and decides a new item's cluster;
// items whose stored value changed meanwhile are read and merged again. Tombstoned items are skipped and not counted.
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

func (s *Store) upsertChunk(ctx context.Context, items []news.Item, out []outcome, now time.Time) error {
	todo := make([]int, 0, len(items))
	for i := range items {
		if items[i].ID == "" {
			return fmt.Errorf("item %d of member %s has no ID", i, items[i].Member)
		}
		todo = append(todo, i)
	}
	for contended := 0; len(todo) > 0; {
		if contended == maxRounds {
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
		if len(retry) > 0 {
			contended++
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
	// New items: read their story keys and candidates first.
	var fresh []*news.Item
	freshAt := map[int]int{}
	for j, i := range idx {
		if _, present := vals[j].(string); !present {
			freshAt[j] = len(fresh)
			fresh = append(fresh, &items[i])
		}
	}
	var plans []clusterPlan
	if len(fresh) > 0 {
		if plans, err = s.planClusters(ctx, fresh); err != nil {
			return nil, err
		}
	}
	var (
		ks           = []string{s.tombKey(), s.verKey(), s.keysKey(), s.filingsKey(), s.clustersKey(), s.clusterOfKey(), s.storiesKey()}
		args         = []any{s.filingsCap}
		planned      []int          // chunk index of each item in the script
		results      []outcome      // its outcome if written
		plannedPlans []*clusterPlan // its cluster plan (story only for an update)
	)
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
		ks = append(ks, keys[j])
		ks = append(ks, oldZ...)
		ks = append(ks, newZ...)
		flag := "0"
		if present {
			flag = "1"
		}
		var st store.Story
		if present {
			st = store.StoryOf(&m) // an update: signed again (rare; a new item was signed when planned)
		} else {
			st = plans[freshAt[j]].story
			st.Redate(&m)
		}
		args = append(args, m.ID, old, flag, v, st.AppendBinary(nil), scoreArg(score(&m)),
			len(oldZ), len(newZ), len(oldF), len(newF))
		for _, f := range oldF {
			args = append(args, f)
		}
		for _, f := range newF {
			args = append(args, f)
		}
		var plan *clusterPlan
		if !present {
			plan = &plans[freshAt[j]]
		} else {
			plan = &clusterPlan{}
			if refiled(&oldIt, &m, &st) {
				// Its words or link changed: filed again under its new story keys, so
				// that later copies of the story it now tells find it (as they find it
				// under its old keys, with its new story).
				plan.keys = st.Keys()
			}
		}
		args = clusterArgs(args, &m, plan)
		planned = append(planned, i)
		results = append(results, result)
		plan.story = st
		plannedPlans = append(plannedPlans, plan)
	}
	if len(planned) == 0 {
		return nil, nil
	}
	if s.beforeWrite != nil {
		s.beforeWrite()
	}
	rs, err := putScript.EvalSha(ctx, s.c, ks, args...).Slice()
	if isNoScript(err) {
		if err := putScript.Load(ctx, s.c).Err(); err != nil {
			return nil, s.fail(ctx, "load script", err)
		}
		rs, err = putScript.EvalSha(ctx, s.c, ks, args...).Slice()
	}
	if err != nil {
		return nil, s.fail(ctx, "write items", err)
	}
	if len(rs) != len(planned) {
		return nil, fmt.Errorf("write items: script answered %d results for %d items", len(rs), len(planned))
	}
	var (
		retry  []int
		filed  []int      // positions in planned of the new items written
		fids   []streamID // their filings
		newest streamID
	)
	for j, i := range planned {
		r, fid, joined, err := putResult(rs[j])
		if err != nil {
			return nil, fmt.Errorf("write item %s: %w", items[i].ID, err)
		}
		switch r {
		case 1:
			out[i] = results[j]
			if fid != (streamID{}) {
				plannedPlans[j].joined = joined
				filed, fids = append(filed, j), append(fids, fid)
				if newest.less(fid) {
					newest = fid
				}
			}
		case 2:
			out[i] = isTombstoned
		case 0:
			retry = append(retry, i)
		default:
			return nil, fmt.Errorf("write item %s: unexpected script result %d", items[i].ID, r)
		}
	}
	if len(filed) > 0 {
		ws := s.watchFilings(plannedPlans, filed, fids)
		err := s.catchUp(ctx, newest)
		missed := s.missed(plannedPlans, filed, fids, ws)
		if err != nil {
			return nil, err
		}
		if len(missed) > 0 {
			if err := s.uniteMissed(ctx, missed); err != nil {
				return nil, err
			}
		}
	}
	return retry, nil
}

// watchFilings asks the index, for each new item written (plans[j] for j in filed,
// filed as fids[i]), for the IDs filed under its story keys between planning and
// writing it, found when its filing is applied, unless it was applied already: the
// walk is shortest then, before later filings under the same keys must be passed over.
func (s *Store) watchFilings(plans []*clusterPlan, filed []int, fids []streamID) []*watch {
	s.fl.mu.Lock()
	defer s.fl.mu.Unlock()
	ws := make([]*watch, len(filed))
	for i, j := range filed {
		ws[i] = &watch{p: plans[j]}
		if s.fl.pos.less(fids[i]) && !s.unwatched {
			s.fl.watch[fids[i]] = ws[i]
		}
	}
	return ws
}

// missed returns the new items written (plans[j] for j in filed, watched as ws[i] by
// watchFilings) whose story keys gained filings between planning and writing them: the
// filings of the stream between the index's newest when the item was planned and the
// item's own. The index must have caught up past the items' filings; an item whose
// filing is not in the index (it left the window, or the stream was trimmed past it)
// is passed over.
func (s *Store) missed(plans []*clusterPlan, filed []int, fids []streamID, ws []*watch) []missedCopies {
	s.fl.mu.Lock()
	defer s.fl.mu.Unlock()
	var out []missedCopies
	for i, j := range filed {
		w := ws[i]
		if !w.done {
			if s.fl.watch[fids[i]] == w {
				delete(s.fl.watch, fids[i]) // not applied: nothing to compare with
				continue
			}
			// Applied before it could be watched.
			seq, ok := s.fl.idx.Latest(plans[j].story.ID)
			if !ok {
				continue
			}
			w.look(s.fl.idx, seq)
		}
		if w.gained != nil {
			out = append(out, missedCopies{plan: plans[j], perKey: w.gained, now: w.now, seq: w.seq})
		}
	}
	return out
}

// refiled reports whether an update from old to next, whose story is st, changes the
// item's story keys: those of its words (title, summary, language) and of its link.
func refiled(old, next *news.Item, st *store.Story) bool {
	if old.Title == next.Title && old.Summary == next.Summary && old.Language == next.Language &&
		old.Link == next.Link && old.Canonical == next.Canonical {
		return false
	}
	was := store.StoryOf(old)
	return packKeys(was.Keys()) != packKeys(st.Keys())
}

// putResult decodes one item's answer from putScript: its result and, for a new item
// written, its filing's ID and whether it joined a cluster.
func putResult(v any) (int64, streamID, bool, error) {
	switch v := v.(type) {
	case int64:
		return v, streamID{}, false, nil
	case []any:
		if len(v) != 3 {
			return 0, streamID{}, false, fmt.Errorf("script answered %d elements for a new item, want 3", len(v))
		}
		r, ok := v[0].(int64)
		joined, ok2 := v[1].(int64)
		fid, ok3 := v[2].(string)
		if !ok || !ok2 || !ok3 {
			return 0, streamID{}, false, fmt.Errorf("unexpected script result %v", v)
		}
		id, err := parseStreamID(fid)
		if err != nil {
			return 0, streamID{}, false, err
		}
		return r, id, joined == 1, nil
	}
	return 0, streamID{}, false, fmt.Errorf("unexpected script result %v", v)
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
