package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// joinBoth joins the entries in ARGV (id, member, sort ms, first-seen ms each, after
// ARGV[1]) one by one to cluster "c" twice: with join under KEYS[1..2] and with
// joinDecoded under KEYS[3..4]. The first ARGV[1] entries are stored as the cluster
// before, in their order (as clusters were written before the shown entry was kept
// first). It answers with what each join reported, "1" or "0", per entry.
var joinBoth = redis.NewScript(luaClusters + `
local out, k, es, lines = {}, tonumber(ARGV[1]), {}, {}
for i = 1, k do
  local a = 2 + 4*(i-1)
  es[i] = {id = ARGV[a], m = ARGV[a+1], t = tonumber(ARGV[a+2]), f = tonumber(ARGV[a+3])}
  lines[i] = encodeEntry(es[i])
end
if k > 0 then
  for j = 1, 3, 2 do
    saveCluster(KEYS[j], KEYS[j+1], 'c', {}, es)
    redis.call('HSET', KEYS[j], 'c', table.concat(lines, '\n'))
  end
end
for a = 2 + 4*k, #ARGV, 4 do
  local me = {id = ARGV[a], m = ARGV[a+1], t = tonumber(ARGV[a+2]), f = tonumber(ARGV[a+3])}
  local cand = {id = 'c', m = 'first', t = 101, f = 101}
  local x = join(KEYS[1], KEYS[2], 'c', cand, me)
  local y = joinDecoded(KEYS[3], KEYS[4], 'c', cand, me, redis.call('HGET', KEYS[3], 'c'))
  out[#out + 1] = (x and '1' or '0') .. (y and '1' or '0')
end
return out
`)

// join (which reads the shown item's record instead of decoding the cluster) leaves
// the cluster and its items' records as joinDecoded (the general rule) does.
func TestJoinAsDecoded(t *testing.T) {
	opt, err := redis.ParseURL(redistest.Server(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		p := fmt.Sprintf("{j%d}:", round)
		ks := []string{p + "cl1", p + "ca1", p + "cl2", p + "ca2"}
		// Members are distinct among the entries stored before.
		k := r.IntN(6)
		args := []any{k}
		for i := range k {
			args = append(args, fmt.Sprintf("old%d", i), fmt.Sprintf("o%d", i), 100+r.IntN(4), 100+r.IntN(3))
		}
		for i := range 1 + r.IntN(40) {
			// Few distinct times and members: ties and refusals are common.
			args = append(args, fmt.Sprintf("id%d", r.IntN(60)+i*100), fmt.Sprintf("m%d", r.IntN(12)),
				100+r.IntN(4), 100+r.IntN(3))
		}
		got, err := joinBoth.Run(ctx, c, ks, args...).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			if g[0] != g[1] {
				t.Fatalf("round %d entry %d: join %c, joinDecoded %c", round, i, g[0], g[1])
			}
		}
		cl1, _ := c.HGet(ctx, ks[0], "c").Result()
		cl2, _ := c.HGet(ctx, ks[2], "c").Result()
		l1, l2 := strings.Split(cl1, "\n"), strings.Split(cl2, "\n")
		slices.Sort(l1)
		slices.Sort(l2)
		if !slices.Equal(l1, l2) {
			t.Fatalf("round %d: cluster\n%q\nwant\n%q", round, cl1, cl2)
		}
		ca1, _ := c.HGetAll(ctx, ks[1]).Result()
		ca2, _ := c.HGetAll(ctx, ks[3]).Result()
		if fmt.Sprint(ca1) != fmt.Sprint(ca2) {
			t.Fatalf("round %d: records\n%v\nwant\n%v", round, ca1, ca2)
		}
		// Once join has added an entry, the shown entry is first.
		joined := slices.ContainsFunc(got, func(g string) bool { return g[0] == '1' })
		if first, _, _ := strings.Cut(cl1, "\t"); joined && !strings.HasPrefix(ca1[first], "c\n1\n") {
			t.Fatalf("round %d: first entry %s is not the shown one: %q", round, first, cl1)
		}
	}
}
