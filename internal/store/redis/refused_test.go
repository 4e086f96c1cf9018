package redisstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// TestSourcesWhileRedisRefusesWrites: a Redis that answers but refuses writes (out of
// memory under maxmemory with noeviction; or a snapshot it cannot save, with
// stop-writes-on-bgsave-error) still answers Ping and reads: the sources' states, which
// the scheduler reads before each poll and the web for /sources, were read in a MULTI
// transaction, and Redis out of memory refuses every command queued in one, reads too
// (EXECABORT). A state's write it refuses is a store.ErrWrite (it was EXECABORT, which
// says nothing of why), and Ping answers (MISCONF refuses PING too: a store that
// cannot snapshot could not be opened, nor could one without tombstones of earlier
// versions to move, and /readyz said it unreachable).
func TestSourcesWhileRedisRefusesWrites(t *testing.T) {
	srv := redistest.Restartable(t) // a private server: its configuration is changed
	s := openT(t, srv.URL()+"?network=refused")
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	const url = "https://m.example.org/feed.xml"
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	st := news.SourceState{URL: url, Member: "m", Health: news.HealthOK, LastPoll: now, Polls: 3,
		History: []news.PollRecord{{At: now, HTTPCode: 200}, {At: now.Add(-time.Hour), HTTPCode: 200}}}
	if err := s.PutSource(ctx, st); err != nil {
		t.Fatal(err)
	}
	set := func(kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if err := c.ConfigSet(ctx, kv[i], kv[i+1]).Err(); err != nil {
				t.Fatalf("config set %s %s: %v", kv[i], kv[i+1], err)
			}
		}
	}
	check := func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v; want nil (Redis answers)", err)
		}
		if s2, err := Open(ctx, srv.URL()+"?network=refused"); err != nil {
			t.Errorf("Open: %v; want a process to start (and serve what is stored)", err)
		} else {
			s2.Close()
		}
		got, err := s.Source(ctx, url)
		if err != nil || got.Polls != 3 || len(got.History) != 2 {
			t.Errorf("Source: %d polls, %d in history, err %v; want 3, 2, nil", got.Polls, len(got.History), err)
		}
		all, err := s.Sources(ctx)
		if err != nil || len(all) != 1 || len(all[0].History) != 2 {
			t.Errorf("Sources: %d states, err %v; want the one with its history", len(all), err)
		}
		if _, err := s.Source(ctx, "https://other.example.org/"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Source of an unknown URL: %v; want ErrNotFound", err)
		}
		st.Polls = 4
		err = s.PutSource(ctx, st)
		if !errors.Is(err, store.ErrWrite) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("PutSource: %v; want a store.ErrWrite", err)
		}
	}

	t.Run("out of memory", func(t *testing.T) {
		set("maxmemory-policy", "noeviction", "maxmemory", "1")
		defer set("maxmemory", "0")
		check(t)
	})
	t.Run("snapshot failing", func(t *testing.T) {
		// A snapshot cannot be renamed over a directory of its file's name.
		dir, err := c.ConfigGet(ctx, "dir").Result()
		if err != nil {
			t.Fatal(err)
		}
		dump := filepath.Join(dir["dir"], "dump.rdb")
		if err := os.Mkdir(dump, 0o755); err != nil {
			t.Fatal(err)
		}
		set("save", "3600 1", "stop-writes-on-bgsave-error", "yes")
		defer func() {
			// Without save points a failed snapshot refuses no writes.
			set("save", "")
			os.Remove(dump)
		}()
		if err := c.BgSave(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for range 100 { // until the snapshot has failed
			if info, _ := c.Info(ctx, "persistence").Result(); containsAny(info, "rdb_last_bgsave_status:err") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := c.Set(ctx, "probe", "x", 0).Err(); !redis.HasErrorPrefix(err, "MISCONF") {
			t.Fatalf("a write with the snapshot failing: %v; want MISCONF", err)
		}
		check(t)
	})
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}
