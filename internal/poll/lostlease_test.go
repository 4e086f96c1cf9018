package poll

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// TestLostLeaseAbandonsPoll: a worker whose lease on a source was taken by another
// process while it polled (it expired while Redis was unreachable or hung for longer
// than -lease-ttl, and another worker, or `networkfeed poll`, claimed it) stops that
// poll when its renewal finds the lease gone, and records nothing: the other process
// is fetching the source at that moment, and its state is the one to keep. The
// worker used to poll on and write its state over the other's (found with the real
// binary: a lease taken during a worker's fetch of a slow feed gave two fetches of it
// at once).
func TestLostLeaseAbandonsPoll(t *testing.T) {
	db, err := redisstore.Open(context.Background(), redistest.Server(t)+"?network=lostlease")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site := newSlowSite(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", site.srv.URL+"/feed")
	results := make(chan Result, 1)
	s := &Scheduler{Refresher: ref, Store: db, Owner: "worker", Workers: 1, Tick: time.Millisecond, Spread: time.Millisecond,
		LeaseTTL: 300 * time.Millisecond, Grace: time.Hour, Log: ref.Log, Progress: func(r Result) { results <- r }}
	s.SetJobs([]Job{j})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-site.started

	// The lease expires and another process takes it.
	bg := context.Background()
	lease := LeaseName(j.URL())
	if err := db.Release(bg, lease, "worker"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Claim(bg, lease, "other", time.Minute); err != nil || !ok {
		t.Fatalf("claim the freed lease: %v %v", ok, err)
	}
	var res Result
	select {
	case res = <-results: // the poll ended while the site still held its answer: abandoned
	case <-time.After(10 * time.Second): // not abandoned: let it finish, and fail below
		close(site.release)
		res = <-results
	}
	cancel()
	<-done
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("poll result %v: want it abandoned (context canceled)", res.Err)
	}
	if st, ok := sourceState(t, db, j.URL()); ok {
		t.Errorf("the poll whose lease was taken recorded state %+v", st)
	}
	if ok, err := db.Claim(bg, lease, "other", time.Minute); err != nil || !ok {
		t.Errorf("the other process's lease was released: %v %v", ok, err)
	}
}

// takenOnRenewal is a shared store whose leases are taken by another process as soon
// as they are claimed: their first renewal finds them held by someone else.
type takenOnRenewal struct {
	*redisstore.Store
	mu      sync.Mutex
	claimed map[string]bool
}

func (s *takenOnRenewal) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	again := s.claimed[name]
	s.claimed[name] = true
	s.mu.Unlock()
	if again {
		return false, nil
	}
	return s.Store.Claim(ctx, name, owner, ttl)
}

// TestPollLostLeaseLeftToOther: `networkfeed poll` whose lease on a source another
// process took while it polled gives the poll up, records nothing and lists the source
// as left to that process (BUSY), rather than polling on beside it.
func TestPollLostLeaseLeftToOther(t *testing.T) {
	rs, err := redisstore.Open(context.Background(), redistest.Server(t)+"?network=lostpoll")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	db := &takenOnRenewal{Store: rs, claimed: map[string]bool{}}
	defer func(d time.Duration) { pollLeaseTTL = d }(pollLeaseTTL)
	pollLeaseTTL = 300 * time.Millisecond
	site := newSlowSite(t) // holds its answer until the request ends (the fetch timeout, unfixed)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", site.srv.URL+"/feed")
	res := PollAll(context.Background(), ref, []Job{j}, 1, nil)
	if !errors.Is(res[0].Err, ErrBusy) {
		t.Errorf("poll result %v: want %v", res[0].Err, ErrBusy)
	}
	if st, ok := sourceState(t, db, j.URL()); ok {
		t.Errorf("the poll whose lease was taken recorded state %+v", st)
	}
}
