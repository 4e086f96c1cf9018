package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// redisDownStore fails item writes as the Redis store does when redis-server refuses
// connections (redisstore's fail: "…: store unavailable: dial tcp …: connection refused"),
// and accepts the source state written after it (Redis back a moment later).
type redisDownStore struct{ Store }

func (s redisDownStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	op := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6390},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	return news.UpsertResult{}, fmt.Errorf("redis upsert: %w: %w", store.ErrUnavailable, op)
}

// TestStoreOutageNotBlamedOnSource: a refresh whose store write fails because Redis is
// unreachable is a store problem, not the member's: Describe must not call it "the server
// refused the connection", and the source must not be recorded as failing (its health,
// error, failure count and backoff) when the state can still be written.
func TestStoreOutageNotBlamedOnSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, goodFeed("a"))
	}))
	defer srv.Close()
	st := redisDownStore{openBolt(t)}
	r := newTestRefresher(t, st, testConfig(t, "{interval: 30m}"), nil)
	res := r.Refresh(context.Background(), feedJob("m", srv.URL+"/feed.xml"))
	if res.Err == nil {
		t.Fatal("refresh succeeded with the store down")
	}
	if kind, words := Describe(res.Err); kind != "store" {
		t.Errorf("Describe(%v) = %q, %q; want kind \"store\" (the member's server answered fine)", res.Err, kind, words)
	}
	if s, ok := sourceState(t, st, srv.URL+"/feed.xml"); ok && (s.Health == news.HealthFailing || s.Failures > 0 || strings.Contains(s.Error, "server")) {
		t.Errorf("store outage recorded against the source: health %s, failures %d, error %q", s.Health, s.Failures, s.Error)
	}
}

// flakyClaimStore fails Claim while down is set, as Redis does when unreachable (or, with
// full set, when it refuses writes: out of memory under maxmemory).
type flakyClaimStore struct {
	Store
	down *atomic.Bool
	full bool
}

func (s flakyClaimStore) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if s.down.Load() {
		if s.full {
			oom := errors.New("OOM command not allowed when used memory > 'maxmemory'")
			return false, fmt.Errorf("redis claim %s: %w", name, &store.WriteError{Err: oom})
		}
		return false, fmt.Errorf("redis claim %s: %w: connection refused", name, store.ErrUnavailable)
	}
	return s.Store.Claim(ctx, name, owner, ttl)
}

// TestSchedulerLogsWhenPollingResumes: the scheduler logs "store unavailable: polling
// paused" when the store goes away; when it is back and polling resumes, the log must
// say so too (README: the log explains what happened), not stay silent.
func TestSchedulerLogsWhenPollingResumes(t *testing.T) {
	t.Run("unavailable", func(t *testing.T) { testPollingResumes(t, false, "store unavailable: polling paused") })
	// A store that answers but refuses writes is not "unavailable" (found by a helper:
	// Redis out of memory was logged so).
	t.Run("refusing writes", func(t *testing.T) { testPollingResumes(t, true, "store refuses writes: polling paused") })
}

func testPollingResumes(t *testing.T, full bool, paused string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, goodFeed("a"))
	}))
	defer srv.Close()
	var down atomic.Bool
	down.Store(true)
	st := flakyClaimStore{openBolt(t), &down, full}
	r := newTestRefresher(t, st, testConfig(t, "{interval: 30m}"), nil)
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	polled := make(chan Result, 4)
	s := &Scheduler{Refresher: r, Store: st, Log: log, Owner: "w1", Workers: 1, Tick: 50 * time.Millisecond,
		Spread: 50 * time.Millisecond, Progress: func(res Result) { polled <- res }}
	s.SetJobs([]Job{feedJob("m", srv.URL+"/feed.xml")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(500 * time.Millisecond)
	if s.Ready() {
		t.Fatal("ready with the store down")
	}
	down.Store(false)
	select {
	case <-polled:
	case <-time.After(15 * time.Second):
		t.Fatal("polling did not resume")
	}
	out := logBuf.String()
	if !strings.Contains(out, paused) {
		t.Fatalf("no pause logged as %q:\n%s", paused, out)
	}
	line, _, _ := strings.Cut(out[strings.Index(out, paused):], "\n")
	if n := strings.Count(line, "claim"); n != 1 {
		t.Errorf("the pause's error names the lease claim %d times, want once (the store's words): %s", n, line)
	}
	_, after, _ := strings.Cut(out, "polling paused")
	if !strings.Contains(after, "resum") && !strings.Contains(after, "available again") {
		t.Errorf("polling resumed (a source was polled) but the log never says so; log:\n%s", out)
	}
}
