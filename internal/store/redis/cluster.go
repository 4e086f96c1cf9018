package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Clusters across members (rules in store/cluster.go) live in two hashes under the
// network's hash tag, changed only inside the write, unite and trim scripts, so two
// workers can never split a cluster:
//
//	P cl   cluster ID -> its entries, "id\tmember\tsortms\tfirstseenms" lines, the shown
//	       item's first (in clusters written since that rule: the scripts check it)
//	P ca   item ID -> "clusterID\n1\nalso,by" for the shown item, "clusterID\n0\n" for a hidden one
//	P sy   item ID -> its store.Story (binary): what deciding another item's cluster reads of it
//
// Go ranks a new item's candidates in the process's story-key index (filings.go),
// reads their stories, confirms them with identity.SameStory and passes them, best
// first, to the write script. The script joins the first candidate (not trimmed
// meanwhile) whose cluster has no item of the member yet, recomputes the shown item and
// AlsoBy, and appends the item's filing to the stream. Once the index has caught up
// past the item, Go finds the IDs filed under its story keys between planning and
// writing it: items written meanwhile by other workers, which this decision did not
// see and which did not see this item. It ranks the candidates again over the lists
// as they were at the write and confirms those of the most promising
// (store.RankCandidates) that are new (for an item that joined a cluster, only the IDs
// filed meanwhile that are in none: it reads their cluster records first, and ranks
// them only when there are more than store.MaxCandidates); when one tells the same
// story, uniteScript puts the two in one cluster: the item joins the copy's cluster
// when it is in none, else the copy joins the item's when the copy is in none (two
// clusters already formed stay apart). Of two copies written at the same time, the
// later one's filing always comes after the earlier one's, so they end up together
// without retrying the write.
// Items, Item and ItemsByKey take ClusterID and AlsoBy from "P ca" when it has the item;
// clustered reads skip hidden items.

func (s *Store) clustersKey() string { return s.p + "cl" }
func (s *Store) clusterOfKey() string {
	return s.p + "ca"
}
func (s *Store) storiesKey() string { return s.p + "sy" }

// luaClusters is shared by the write and trim scripts: decoding and saving a cluster.
var luaClusters = `
local function decodeEntries(v)
  local es = {}
  if not v or v == '' then return es end
  for id, m, t, f in string.gmatch(v, '([^\t\n]*)\t([^\t\n]*)\t([^\t\n]*)\t([^\t\n]*)') do
    es[#es + 1] = {id = id, m = m, t = tonumber(t), f = tonumber(f)}
  end
  return es
end
local function encodeEntry(e)
  return e.id .. '\t' .. e.m .. '\t' .. string.format('%d', e.t) .. '\t' .. string.format('%d', e.f)
end
-- hasMember reports whether the encoded entries v have an entry of member m, decoding
-- them only when m appears between two tabs (where members are written).
local function hasMember(v, m)
  if not v or not string.find(v, '\t' .. m .. '\t', 1, true) then return false end
  for _, e in ipairs(decodeEntries(v)) do if e.m == m then return true end end
  return false
end
local function earlier(a, b)
  if a.t ~= b.t then return a.t < b.t end
  if a.f ~= b.f then return a.f < b.f end
  return a.id < b.id
end
-- shownOf returns the index of the shown entry of es and its AlsoBy, joined by ",".
local function shownOf(es)
  local shown = 1
  for i = 2, #es do if earlier(es[i], es[shown]) then shown = i end end
  local also, seen = {}, {}
  for i, e in ipairs(es) do
    if i ~= shown and e.m ~= es[shown].m and not seen[e.m] then seen[e.m] = true; also[#also + 1] = e.m end
  end
  table.sort(also)
  return shown, table.concat(also, ',')
end
-- saveCluster stores es (encoded: enc, when the caller has it) as cluster cid, replacing
-- old (the entries before the change, {} for a new cluster), and writes the state of the items whose place in it changed:
-- items not in old, and the shown item before and after when the shown item or AlsoBy
-- changed (the rule of the bolt backend's saveCluster).
local function saveCluster(kcl, kca, cid, old, es, enc)
  if #es == 0 then redis.call('HDEL', kcl, cid); return end
  local shown, also = shownOf(es)
  if not enc or shown ~= 1 then
    local lines = {encodeEntry(es[shown])}
    for i, e in ipairs(es) do if i ~= shown then lines[#lines + 1] = encodeEntry(e) end end
    enc = table.concat(lines, '\n')
  end
  redis.call('HSET', kcl, cid, enc)
  local wasIn, oldShown, oldAlso = {}, nil, nil
  if #old > 0 then
    local i
    i, oldAlso = shownOf(old)
    oldShown = old[i].id
    for _, e in ipairs(old) do wasIn[e.id] = true end
  end
  local sets = {}
  for i, e in ipairs(es) do
    local isShown = i == shown
    if not wasIn[e.id] or (e.id == oldShown) ~= isShown or (isShown and also ~= oldAlso) then
      sets[#sets + 1] = e.id
      if isShown then sets[#sets + 1] = cid .. '\n1\n' .. also else sets[#sets + 1] = cid .. '\n0\n' end
    end
  end
  if #sets > 0 then redis.call('HSET', kca, unpack(sets)) end
end
-- joinDecoded is join decoding the cluster's entries: the general case, and what join
-- falls back to when the cluster's record or its shown item's is not in the form
-- join reads.
local function joinDecoded(kcl, kca, cid, cand, me, v)
  if hasMember(v, me.m) then return false, 'member' end
  local old = decodeEntries(v)
  if #old >= ` + maxClusterLua + ` then return false, 'full' end
  if #old == 0 and cand.m == me.m then return false end
  local es, enc = {}, nil
  for i, e in ipairs(old) do es[i] = e end
  if #old == 0 then
    es[1] = cand
    enc = encodeEntry(cand) .. '\n' .. encodeEntry(me)
  else
    enc = v .. '\n' .. encodeEntry(me)
  end
  es[#es + 1] = me
  saveCluster(kcl, kca, cid, old, es, enc)
  return true
end
-- entryAt reads the entry line of the encoded entries v that starts at at: where the
-- line ends (the newline or one past v), where its first two tabs are, and its sort
-- and first-seen times; nil when the line is not in the form encodeEntry writes.
local function entryAt(v, at)
  local e = string.find(v, '\n', at, true) or (#v + 1)
  local p1 = string.find(v, '\t', at, true)
  local p2 = p1 and string.find(v, '\t', p1 + 1, true)
  local p3 = p2 and string.find(v, '\t', p2 + 1, true)
  if not p3 or p3 >= e then return nil end
  local p4 = string.find(v, '\t', p3 + 1, true)
  if p4 and p4 < e then return nil end
  local t, f = tonumber(string.sub(v, p2 + 1, p3 - 1)), tonumber(string.sub(v, p3 + 1, e - 1))
  if not t or not f then return nil end
  return e, p1, p2, t, f
end
-- scanEntries walks the encoded entries v without decoding them. It returns their
-- number, whether one is of member m (m may be nil: not looked for), the shown entry's
-- ID, member, sort and first-seen times, and where its line starts and ends in v; nil
-- when v is not in the form encodeEntry writes.
local function scanEntries(v, m)
  local n, at, len, has = 0, 1, #v, false
  local sa, sp, sq, st, sf, se
  while at <= len do
    local e, p1, p2, t, f = entryAt(v, at)
    if not e then return nil end
    if m and p2 - p1 - 1 == #m and string.sub(v, p1 + 1, p2 - 1) == m then has = true end
    if not sa or t < st or (t == st and (f < sf or (f == sf and string.sub(v, at, p1 - 1) < string.sub(v, sa, sp - 1)))) then
      sa, sp, sq, st, sf, se = at, p1, p2, t, f, e - 1
    end
    n = n + 1
    at = e + 1
  end
  if n == 0 then return nil end
  return n, has, string.sub(v, sa, sp - 1), string.sub(v, sp + 1, sq - 1), st, sf, sa, se
end
-- addMember returns the sorted, comma-separated member list also with m put in its
-- place (once).
local function addMember(also, m)
  if also == '' then return m end
  local out, at, done = {}, 1, false
  while true do
    local j = string.find(also, ',', at, true)
    local x = string.sub(also, at, (j or 0) - 1)
    if not done then
      if x == m then done = true elseif m < x then out[#out + 1] = m; done = true end
    end
    out[#out + 1] = x
    if not j then break end
    at = j + 1
  end
  if not done then out[#out + 1] = m end
  return table.concat(out, ',')
end
-- firstEntry returns the ID, member, sort and first-seen times of the first entry of
-- the encoded entries v, nil when it is not in the form encodeEntry writes.
local function firstEntry(v)
  local e, p1, p2, t, f = entryAt(v, 1)
  if not e then return nil end
  return string.sub(v, 1, p1 - 1), string.sub(v, p1 + 1, p2 - 1), t, f
end
-- join adds entry me to cluster cid (cand alone when the cluster does not exist yet)
-- unless the cluster has an item of me's member or is full; it reports whether it did
-- and, when it did not, why ('member', 'full' or nil).
-- It writes what saveCluster would without decoding the cluster. The shown item's
-- record in kca holds the cluster's AlsoBy, and me joining changes only me's record
-- and the shown item's (or, when me is earlier, makes me the shown item). The shown
-- entry is written first (join and saveCluster put it there): when the first entry's
-- record says it is shown, the entries are not even scanned.
local function join(kcl, kca, cid, cand, me)
  local v = redis.call('HGET', kcl, cid)
  if not v or v == '' then return joinDecoded(kcl, kca, cid, cand, me, v) end
  local n, at = 1, 0
  while true do
    at = string.find(v, '\n', at + 1, true)
    if not at then break end
    n = n + 1
  end
  if n >= ` + maxClusterLua + ` then return false, 'full' end
  if string.find(v, '\t' .. me.m .. '\t', 1, true) then
    local n, has = scanEntries(v, me.m)
    if not n then return joinDecoded(kcl, kca, cid, cand, me, v) end
    if has then return false, 'member' end
  end
  local pre = cid .. '\n1\n'
  local sid, sm, st, sf = firstEntry(v)
  local rec = sid and redis.call('HGET', kca, sid)
  if not rec or string.sub(rec, 1, #pre) ~= pre then
    local _, a, b
    _, _, sid, sm, st, sf, a, b = scanEntries(v)
    rec = sid and redis.call('HGET', kca, sid)
    if not rec or string.sub(rec, 1, #pre) ~= pre then return joinDecoded(kcl, kca, cid, cand, me, v) end
    -- Written before the shown entry was kept first: it is moved there.
    local before, after = a > 1 and string.sub(v, 1, a - 2) or '', string.sub(v, b + 2)
    v = string.sub(v, a, b) .. (before ~= '' and '\n' .. before or '') .. (after ~= '' and '\n' .. after or '')
  end
  local also = string.sub(rec, #pre + 1)
  if earlier(me, {id = sid, t = st, f = sf}) then
    redis.call('HSET', kcl, cid, encodeEntry(me) .. '\n' .. v)
    redis.call('HSET', kca, me.id, pre .. addMember(also, sm), sid, cid .. '\n0\n')
  else
    redis.call('HSET', kcl, cid, v .. '\n' .. encodeEntry(me))
    redis.call('HSET', kca, me.id, cid .. '\n0\n', sid, pre .. addMember(also, me.m))
  end
  return true
end
local function clusterOf(kca, id)
  local v = redis.call('HGET', kca, id)
  if not v then return nil end
  local j = string.find(v, '\n', 1, true)
  if not j then return v end
  return string.sub(v, 1, j - 1)
end
`

// clusterPlan is what the write script needs to decide one new item's cluster.
type clusterPlan struct {
	story store.Story          // the item's story
	keys  [][]byte             // its story keys
	cands []store.ClusterEntry // confirmed candidates, best first
	// since is the index's newest filing when the candidates were ranked, and ranked
	// the candidates ranked then: what the filings found at the write are compared with.
	since  uint32
	ranked []string
	joined bool // the write put the item in a cluster
}

// planClusters ranks the candidates of the new items in the story-key index, brought
// up to date first, reads their stories and confirms them: two round trips for any
// number of items (one when the index is up to date).
func (s *Store) planClusters(ctx context.Context, items []*news.Item) ([]clusterPlan, error) {
	if err := s.catchUp(ctx, streamID{}); err != nil {
		return nil, err
	}
	plans := make([]clusterPlan, len(items))
	var ids []string
	seen := map[string]bool{}
	for i, it := range items {
		plans[i].story = store.StoryOf(it)
		plans[i].keys = plans[i].story.Keys()
	}
	s.fl.mu.Lock()
	for i := range plans {
		p := &plans[i]
		s.lookups.Add(uint64(len(p.keys)))
		p.since = s.fl.idx.Seq()
		for _, c := range s.fl.idx.Rank(p.keys, p.story.Link != "") {
			p.ranked = append(p.ranked, c.ID)
			if !seen[c.ID] {
				seen[c.ID] = true
				ids = append(ids, c.ID)
			}
		}
	}
	s.fl.mu.Unlock()
	if len(ids) == 0 {
		return plans, nil
	}
	s.lookups.Add(uint64(len(ids)))
	byID, err := s.fetchStories(ctx, ids)
	if err != nil {
		return nil, err
	}
	defer byID.release()
	var mine []*store.Story // reused: Confirm keeps none
	for i := range plans {
		mine = mine[:0]
		for _, id := range plans[i].ranked {
			if c, ok := byID.get(id); ok {
				mine = append(mine, c)
			}
		}
		if len(mine) > 0 {
			plans[i].cands = store.Confirm(&plans[i].story, mine)
		}
	}
	return plans, nil
}

// storySet is the stories fetchStories read, by item ID. Sets are reused (a batch's
// candidates' stories are a few hundred KB, read for every batch): release gives one
// back once nothing points into it.
type storySet struct {
	list []store.Story
	at   map[string]int32 // ID -> index in list
}

var storySets = sync.Pool{New: func() any { return &storySet{at: map[string]int32{}} }}

func (c *storySet) release() {
	if cap(c.list) > 4096 {
		return // an unusually large batch: not kept
	}
	clear(c.list) // drop the strings
	c.list = c.list[:0]
	clear(c.at)
	storySets.Put(c)
}

func (c *storySet) get(id string) (*store.Story, bool) {
	i, ok := c.at[id]
	if !ok {
		return nil, false
	}
	return &c.list[i], true
}

func (c *storySet) add(st store.Story) {
	c.at[st.ID] = int32(len(c.list))
	c.list = append(c.list, st)
}

// fetchStories reads the stories of the items with ids, leaving out those that no
// longer exist; an item stored without a story (written before stories were kept) is
// read and signed instead.
func (s *Store) fetchStories(ctx context.Context, ids []string) (*storySet, error) {
	vals, err := s.c.HMGet(ctx, s.storiesKey(), ids...).Result()
	if err != nil {
		return nil, s.fail(ctx, "read stories", err)
	}
	out := storySets.Get().(*storySet)
	var missing []string
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			missing = append(missing, ids[i])
			continue
		}
		st, err := store.ParseStory(readOnly(str)) // it copies the strings it keeps
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", ids[i], err)
		}
		out.add(st)
	}
	if len(missing) > 0 {
		raw, err := s.fetchRaw(ctx, missing)
		if err != nil {
			return nil, err
		}
		for i := range raw {
			out.add(store.StoryOf(&raw[i]))
		}
	}
	return out, nil
}

// uniteScript puts new items together with copies of their story written while their
// cluster was being decided (see the comment at the top).
//
// KEYS: tomb, clusters, items' cluster state.
// ARGV per item: its entry (id, member, sort ms, first-seen ms), n, then n entries of
// the copies, best first. Returns how many items it put in a cluster with a copy.
var uniteScript = redis.NewScript(luaClusters + `
local n, a = 0, 1
while a <= #ARGV do
  local me = {id = ARGV[a], m = ARGV[a+1], t = tonumber(ARGV[a+2]), f = tonumber(ARGV[a+3])}
  local nX = tonumber(ARGV[a+4])
  if not redis.call('ZSCORE', KEYS[1], me.id) then
    for i = 1, nX do
      local p = a + 5 + 4*(i-1)
      local x = {id = ARGV[p], m = ARGV[p+1], t = tonumber(ARGV[p+2]), f = tonumber(ARGV[p+3])}
      if not redis.call('ZSCORE', KEYS[1], x.id) then
        local cm, cx = clusterOf(KEYS[3], me.id), clusterOf(KEYS[3], x.id)
        if cm and cm == cx then break end
        if not cm then
          if join(KEYS[2], KEYS[3], cx or x.id, x, me) then n = n + 1; break end
        elseif not cx then
          if join(KEYS[2], KEYS[3], cm, me, x) then n = n + 1; break end
        end
      end
    end
  end
  a = a + 5 + 4*nX
end
return n
`)

// missedCopies is a new item written and the IDs filed under its story keys between
// planning and writing it (perKey[i] under plan.keys[i]); seq is its filing in the
// index, and now, when not nil, holds the lists of its story keys as the write found
// them (newest first, the first len(perKey[i]) filed meanwhile).
type missedCopies struct {
	plan   *clusterPlan
	perKey [][]string
	now    [][]string
	seq    uint32
}

// uniteMissed ranks the candidates of each item written again, as if its story keys had
// been read when it was written, confirms those of them filed meanwhile, and puts the
// item in one cluster with the best copy of its story among them: up to three round
// trips for any number of items (cluster records of the IDs filed meanwhile, when an
// item joined a cluster; stories; the unite script), none of the last two when no new
// candidate could be united.
func (s *Store) uniteMissed(ctx context.Context, missed []missedCopies) error {
	// An item in a cluster is united only with copies in none (two clusters stay
	// apart, and an item never leaves its cluster): for a clustered item, the IDs filed
	// meanwhile that are in a cluster already are not ranked nor read, and when all
	// are, nothing is.
	var check []string
	seen := map[string]bool{}
	for _, m := range missed {
		if !m.plan.joined {
			continue
		}
		for _, gained := range m.perKey {
			for _, id := range gained {
				if !seen[id] && id != m.plan.story.ID {
					seen[id] = true
					check = append(check, id)
				}
			}
		}
	}
	alone := map[string]bool{}
	if len(check) > 0 {
		s.lookups.Add(uint64(len(check)))
		vals, err := s.c.HMGet(ctx, s.clusterOfKey(), check...).Result()
		if err != nil {
			return s.fail(ctx, "read cluster records", err)
		}
		for i, v := range vals {
			if v == nil {
				alone[check[i]] = true
			}
		}
	}
	ranked := make([][]string, len(missed))
	var ids []string
	clear(seen)
	for i, m := range missed {
		if m.plan.joined {
			// Few IDs filed meanwhile are in no cluster: all of them are confirmed
			// (ranking would only bound their number).
			var mine []string
			for _, gained := range m.perKey {
				for _, id := range gained {
					if alone[id] && !slices.Contains(mine, id) && !slices.Contains(m.plan.ranked, id) {
						mine = append(mine, id)
					}
				}
			}
			if len(mine) <= store.MaxCandidates {
				ranked[i] = mine
				for _, id := range mine {
					if !seen[id] {
						seen[id] = true
						ids = append(ids, id)
					}
				}
				continue
			}
		}
		if m.now == nil { // an item in a cluster with many new candidates: rare
			s.fl.mu.Lock()
			m.now = s.fl.idx.Between(m.plan.keys, 0, m.seq)
			s.fl.mu.Unlock()
		}
		for _, id := range store.RankCandidates(&m.plan.story, m.now) {
			if !slices.Contains(m.plan.ranked, id) && (!m.plan.joined || alone[id]) {
				ranked[i] = append(ranked[i], id)
			}
		}
		for _, id := range ranked[i] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	s.lookups.Add(uint64(len(ids)))
	byID, err := s.fetchStories(ctx, ids)
	if err != nil {
		return err
	}
	defer byID.release()
	var args []any
	var mine []*store.Story // reused: Confirm keeps none
	for i, m := range missed {
		mine = mine[:0]
		for _, id := range ranked[i] {
			if c, ok := byID.get(id); ok {
				mine = append(mine, c)
			}
		}
		copies := store.Confirm(&m.plan.story, mine)
		if len(copies) == 0 {
			continue
		}
		e := m.plan.story.Entry()
		args = append(args, e.ID, e.Member, strconv.FormatInt(e.Time, 10), strconv.FormatInt(e.FirstSeen, 10), len(copies))
		for _, c := range copies {
			args = append(args, c.ID, c.Member, strconv.FormatInt(c.Time, 10), strconv.FormatInt(c.FirstSeen, 10))
		}
	}
	if len(args) == 0 {
		return nil
	}
	ks := []string{s.tombKey(), s.clustersKey(), s.clusterOfKey()}
	n, err := uniteScript.EvalSha(ctx, s.c, ks, args...).Int64()
	if isNoScript(err) {
		if err := uniteScript.Load(ctx, s.c).Err(); err != nil {
			return s.fail(ctx, "load script", err)
		}
		n, err = uniteScript.EvalSha(ctx, s.c, ks, args...).Int64()
	}
	if err != nil {
		return s.fail(ctx, "cluster copies written meanwhile", err)
	}
	s.united.Add(uint64(n))
	return nil
}

// clusterArgs appends an item's cluster arguments for the write script: its entry,
// then its story keys (packKeys), then its candidates.
func clusterArgs(args []any, it *news.Item, p *clusterPlan) []any {
	e := store.EntryOf(it)
	args = append(args, e.Member, strconv.FormatInt(e.Time, 10), strconv.FormatInt(e.FirstSeen, 10), packKeys(p.keys))
	args = append(args, len(p.cands))
	for _, c := range p.cands {
		args = append(args, c.ID, c.Member, strconv.FormatInt(c.Time, 10), strconv.FormatInt(c.FirstSeen, 10))
	}
	return args
}

// clusterState is an item's record in "P ca".
type clusterState struct {
	id     string
	hidden bool
	also   []string
}

func parseClusterState(v string) (clusterState, error) {
	p := strings.SplitN(v, "\n", 3)
	if len(p) != 3 {
		return clusterState{}, fmt.Errorf("malformed cluster record %q", v)
	}
	st := clusterState{id: p[0], hidden: p[1] != "1"}
	if p[2] != "" {
		st.also = strings.Split(p[2], ",")
	}
	return st, nil
}

// apply gives it the cluster fields of st.
func (st clusterState) apply(it *news.Item) {
	it.ClusterID, it.AlsoBy = st.id, nil
	if !st.hidden {
		it.AlsoBy = st.also
	}
}
