//go:build linux

package poll

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
)

// trimLimitStore makes the embedded store's retention trims fail as they do on a full
// disk while failing is set: during Trim, the process may not write past the file's
// first two pages, the meta pages (RLIMIT_FSIZE: the kernel refuses the commit's page
// writes with EFBIG). Items and source states are written as usual.
type trimLimitStore struct {
	Store
	failing *bool
}

func (s trimLimitStore) Trim(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error) {
	if !*s.failing {
		return s.Store.Trim(ctx, source, maxItems, maxAge, now)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		return 0, err
	}
	lim := syscall.Rlimit{Cur: 2 * 4096, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return 0, err
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	return s.Store.Trim(ctx, source, maxItems, maxAge, now)
}

// TestFailedTrimIsDoneAtTheNextPoll: a retention trim the store could not write (the
// disk filled after the poll's items) is done again at the source's next poll, though
// that poll brings no new item. It waited for the next new item or the 16th poll
// (days, for a quiet source at max_interval), the items beyond max_items_per_source
// listed meanwhile (seen with a real full disk).
func TestFailedTrimIsDoneAtTheNextPoll(t *testing.T) {
	cfg, err := config.Parse("test.yml", []byte("fetch: {interval: 30m}\nretention: {max_items_per_source: 4, max_age: 3650d}\n"+
		"members: [{id: m, name: M, homepage: \"https://m.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	db := openBolt(t)
	failing := false
	r := newTestRefresher(t, trimLimitStore{db, &failing}, cfg, nil)
	site, set := changingFeed(t, goodFeed("a"))
	j := feedJob("m", site+"/feed.xml")
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 3 {
		t.Fatalf("first poll: err %v, %d new", res.Err, res.New)
	}
	set(goodFeed("b"))
	failing = true
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 3 {
		t.Fatalf("second poll: err %v, %d new", res.Err, res.New)
	}
	if n := len(storedItems(t, db, "m")); n != 6 {
		t.Fatalf("%d items stored after the trim failed; want 6 (the test did not make it fail)", n)
	}
	failing = false
	if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != 0 {
		t.Fatalf("third poll: err %v, %d new", res.Err, res.New)
	}
	if n := len(storedItems(t, db, "m")); n != 4 {
		t.Errorf("%d items stored after the next poll; want max_items_per_source, 4: the failed trim done", n)
	}
}
