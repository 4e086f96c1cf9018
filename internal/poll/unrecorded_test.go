package poll

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// lostState is a store that drops the source states written while lose is set, as when
// the process is killed (SIGKILL, the OOM killer, a power cut) between a refresh's item
// write and its state write: two commits on the embedded store, and on Redis the items'
// script and the state's HSET.
type lostState struct {
	Store
	lose atomic.Bool
}

func (l *lostState) PutSource(ctx context.Context, st news.SourceState) error {
	if l.lose.Load() {
		return nil
	}
	return l.Store.PutSource(ctx, st)
}

// TestItemsOfAnUnrecordedPollAreCounted: the items a refresh stored without recording
// the source's state come back unchanged at the next poll; the source's item count and
// last new item must still include them (the dashboard showed 0 items and no last new
// item for a source of 20 items after a first poll was killed).
func TestItemsOfAnUnrecordedPollAreCounted(t *testing.T) {
	site, set := changingFeed(t, goodFeed("a"))
	db := openBolt(t)
	st := &lostState{Store: db}
	ref := newTestRefresher(t, st, testConfig(t, ""), nil)
	clock := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	ref.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	j := feedJob("m", site+"/feed")
	ctx := context.Background()

	refresh := func(lose bool) time.Time {
		t.Helper()
		st.lose.Store(lose)
		defer st.lose.Store(false)
		at := clock.Add(time.Second)
		if res := ref.Refresh(ctx, j); res.Err != nil {
			t.Fatal(res.Err)
		}
		return at
	}
	want := func(when string, items int, lastNew time.Time) {
		t.Helper()
		s, ok := sourceState(t, db, j.URL())
		if !ok || s.Items != items || !s.LastNewItem.Equal(lastNew) {
			t.Errorf("%s: state recorded %v, %d items, last new item %v; want %d items, last new item %v",
				when, ok, s.Items, s.LastNewItem, items, lastNew)
		}
	}

	first := refresh(true) // the first poll's state is lost
	refresh(false)
	want("after a first poll whose state was lost", 3, first)

	set(rss(
		"a-4|Fourth a|https://m.example.org/a/4|Tue, 03 Mar 2026 08:00:00 GMT",
		"a-1|First a|https://m.example.org/a/1|Mon, 02 Mar 2026 10:00:00 GMT",
		"a-2|Second a|https://m.example.org/a/2|Sun, 01 Mar 2026 10:00:00 GMT",
		"a-3|Third a|https://m.example.org/a/3|Sat, 28 Feb 2026 10:00:00 GMT",
	))
	fourth := refresh(true) // a later poll's new item stored, its state lost
	refresh(false)
	want("after a later poll whose state was lost", 4, fourth)
	refresh(false)
	want("a poll after that", 4, fourth) // counted once
	if n := len(storedItems(t, db, "m")); n != 4 {
		t.Errorf("%d items stored, want 4", n)
	}
}
