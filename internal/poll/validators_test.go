package poll

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestFailedPollKeepsNoValidators: a poll that fails after its source answered (a feed
// that does not parse) must not keep that answer's ETag and Last-Modified: the next
// conditional request would get a 304 for the same broken document and count it a
// success, turning the source "ok" while it is still broken.
func TestFailedPollKeepsNoValidators(t *testing.T) {
	var body atomic.Value
	body.Store("<html><body><p>We moved our news.</p></body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := body.Load().(string)
		etag := fmt.Sprintf("\"%x\"", len(b))
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(b))
	}))
	defer srv.Close()
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed")
	ctx := context.Background()

	for poll := 1; poll <= 2; poll++ {
		res := ref.Refresh(ctx, j)
		st, _ := sourceState(t, db, j.URL())
		if res.Err == nil || st.Health != news.HealthFailing {
			t.Fatalf("poll %d of a broken feed: err %v, health %q (not modified %v); want failing", poll, res.Err, st.Health, res.NotMod)
		}
	}
	body.Store(goodFeed("fixed"))
	if res := ref.Refresh(ctx, j); res.Err != nil || res.New != 3 {
		t.Fatalf("poll of the mended feed: err %v, %d new; want 3 new", res.Err, res.New)
	}
}

// failingUpsert is a store whose item writes fail while fail is set (not as an outage:
// the source's state is still recorded).
type failingUpsert struct {
	Store
	fail atomic.Bool
}

func (f *failingUpsert) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	if f.fail.Load() {
		return news.UpsertResult{}, errors.New("write items: disk full")
	}
	return f.Store.Upsert(ctx, items)
}

// TestItemsAStoreRefusedAreFetchedAgain: when the store refuses a poll's items, the next
// poll must not be conditional on that poll's answer, whose 304 would leave the items
// out for good.
func TestItemsAStoreRefusedAreFetchedAgain(t *testing.T) {
	srv := etagFeedServer(t)
	db := openBolt(t)
	st := &failingUpsert{Store: db}
	st.fail.Store(true)
	ref := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed")
	if res := ref.Refresh(context.Background(), j); res.Err == nil {
		t.Fatal("the refused write was not reported")
	}
	st.fail.Store(false)
	res := ref.Refresh(context.Background(), j)
	if res.Err != nil || res.NotMod || len(storedItems(t, db, "m")) != 3 {
		t.Fatalf("next poll: err %v, not modified %v, %d items stored; want the 3 items", res.Err, res.NotMod, len(storedItems(t, db, "m")))
	}
}

// TestRenamedMemberPollsAfresh: a member whose id changed is one removed and one added
// (ids are part of item ids and URLs). Its source's state, kept by URL, is the old
// member's: the new one's first poll must not be conditional on it (its 304 would store
// nothing under the new id, while the old id's items are no longer shown) nor take over
// its history; it is a first poll.
func TestRenamedMemberPollsAfresh(t *testing.T) {
	srv := etagFeedServer(t)
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	if res := ref.Refresh(context.Background(), feedJob("iss-old", srv.URL+"/feed")); res.Err != nil || res.New != 3 {
		t.Fatalf("first poll: %+v", res)
	}
	res := ref.Refresh(context.Background(), feedJob("iss-new", srv.URL+"/feed"))
	if res.Err != nil || res.NotMod || res.New != 3 || len(storedItems(t, db, "iss-new")) != 3 {
		t.Fatalf("renamed member's poll: err %v, not modified %v, %d new; want the 3 items stored under the new id", res.Err, res.NotMod, res.New)
	}
	if st, _ := sourceState(t, db, srv.URL+"/feed"); st.Member != "iss-new" || st.Polls != 1 || len(st.History) != 1 {
		t.Errorf("state after the renamed member's poll: member %q, %d polls, %d in history; want the new member's first", st.Member, st.Polls, len(st.History))
	}
}

// etagFeedServer serves a feed of 3 items with an ETag, and 304 to a request that sends it.
func etagFeedServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("kept")))
	}))
	t.Cleanup(srv.Close)
	return srv
}
