package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// TestAbandonedDuringDiscoveryRecordsNothing: a refresh whose context ends while it
// probes the feed a page advertises (a lease lost to another process, or a shutdown
// past its grace) records nothing and ends with context.Canceled. The probe cut short
// reads as "no feed", and the refresh used to go on (when the processing and parsing
// slots were free, which select picks at random beside the ended context) to read the
// page, find no news list and record that as the source's failure: the other process's
// state written over, a failure counted and alerted on, `poll` listing it failed
// rather than BUSY.
func TestAbandonedDuringDiscoveryRecordsNothing(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><title>P</title><link rel="alternate" type="application/rss+xml" href="/feed?%s"></head><body><p>Nothing here.</p></body></html>`, r.URL.RawQuery)
		case "/feed":
			started <- struct{}{}
			<-r.Context().Done() // answers only when the refresh gives up
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	// Each round goes on past the ended context with a chance of about one in four.
	for i := range 24 {
		j := pageJob("m", fmt.Sprintf("%s/page?n=%d", srv.URL, i), nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		res := ref.Refresh(ctx, j)
		cancel()
		if !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("round %d: refresh abandoned during discovery ended with %v: want context.Canceled", i, res.Err)
		}
		if st, ok := sourceState(t, db, j.URL()); ok {
			t.Fatalf("round %d: the abandoned refresh recorded state %+v", i, st)
		}
	}
}

// renewalInFlight is a store whose lease renewals (every Claim after the first) reach
// the store only after their context has ended, as a command already sent does: the
// server runs it whether or not its caller still waits.
type renewalInFlight struct {
	*boltstore.Store
	mu       sync.Mutex
	claims   int
	inflight bool
	overlap  bool          // Release was called while a renewal was in flight
	entered  chan struct{} // a renewal is in flight
	released chan struct{} // Release was called
	returned chan struct{} // the renewal reached the store
}

func (s *renewalInFlight) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	s.claims++
	renewal := s.claims == 2
	s.inflight = s.inflight || renewal
	s.mu.Unlock()
	if !renewal {
		return s.Store.Claim(ctx, name, owner, ttl)
	}
	defer close(s.returned)
	close(s.entered)
	<-ctx.Done()
	select {
	case <-s.released:
	case <-time.After(time.Second): // a release that waits for the renewal (not ordering)
	}
	s.mu.Lock()
	s.inflight = false
	s.mu.Unlock()
	return s.Store.Claim(context.WithoutCancel(ctx), name, owner, ttl)
}

func (s *renewalInFlight) Release(ctx context.Context, name, owner string) error {
	s.mu.Lock()
	s.overlap = s.overlap || s.inflight
	s.mu.Unlock()
	err := s.Store.Release(ctx, name, owner)
	select {
	case <-s.released:
	default:
		close(s.released)
	}
	return err
}

// TestReleaseWaitsForRenewal: a lease's release waits for a renewal in flight, which
// would otherwise take the released lease again (a Claim of a free lease takes it): the
// source was then left held for a TTL by a process no longer polling it, other
// processes finding it busy.
func TestReleaseWaitsForRenewal(t *testing.T) {
	db := &renewalInFlight{Store: openBolt(t), entered: make(chan struct{}), released: make(chan struct{}), returned: make(chan struct{})}
	l := sourceLease{st: db, url: "https://m.example.org/feed", owner: "worker", ttl: 3 * time.Millisecond}
	bg := context.Background()
	if ok, err := l.claim(bg); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	_, release := l.hold(bg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	<-db.entered
	release()
	<-db.returned
	db.mu.Lock()
	overlap := db.overlap
	db.mu.Unlock()
	if overlap {
		t.Error("the lease was released while its renewal was in flight")
	}
	if ok, err := db.Store.Claim(bg, l.name(), "other", time.Minute); err != nil || !ok {
		t.Errorf("the released lease is held still (taken again by the renewal): %v %v", ok, err)
	}
}
