package poll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

func TestAdapt(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	every := func(gap time.Duration, n int, newest time.Time) []time.Time {
		var out []time.Time
		for i := range n {
			out = append(out, newest.Add(-time.Duration(i)*gap))
		}
		return out
	}
	const (
		def  = 30 * time.Minute
		minI = 10 * time.Minute
		maxI = 6 * time.Hour
	)
	u := "https://m.example.org/feed"
	okPrev := news.SourceState{Polls: 3, LastPoll: now.Add(-2 * time.Hour), NextPoll: now.Add(-2 * time.Hour).Add(jitter(u, 90*time.Minute, minI, maxI))}
	quiet6h := news.SourceState{Polls: 9, LastPoll: now.Add(-6 * time.Hour), NextPoll: now.Add(-6 * time.Hour).Add(jitter(u, maxI, minI, maxI)), LastNewItem: now.Add(-6 * time.Hour)}
	quiet6h3 := quiet6h
	quiet6h3.LastNewItem = now.Add(-3 * time.Hour)
	tests := []struct {
		name      string
		prev      news.SourceState
		published []time.Time
		fresh     int
		want      time.Duration
	}{
		{"first poll, no dates", news.SourceState{}, nil, 0, def},
		{"hourly publisher: half an hour", news.SourceState{}, every(time.Hour, 20, now.Add(-10*time.Minute)), 0, 30 * time.Minute},
		{"every 4 hours: two hours", news.SourceState{}, every(4*time.Hour, 20, now.Add(-time.Hour)), 0, 2 * time.Hour},
		{"every minute: clamped to min_interval", news.SourceState{}, every(time.Minute, 20, now), 0, minI},
		{"weekly: clamped to max_interval", news.SourceState{}, every(7*24*time.Hour, 20, now.Add(-time.Hour)), 0, maxI},
		{"hourly once, quiet for 4 hours: polled less", news.SourceState{}, every(time.Hour, 20, now.Add(-4*time.Hour)), 0, 2 * time.Hour},
		{"one outlier gap does not move the median", news.SourceState{}, append(every(time.Hour, 10, now), now.Add(-30*24*time.Hour)), 0, 30 * time.Minute},
		{"too few dates: previous interval kept", okPrev, every(time.Hour, 2, now), 0, 90 * time.Minute},
		{"304: previous interval kept", okPrev, nil, 0, 90 * time.Minute},
		{"304s for 8 hours: stretched", news.SourceState{Polls: 3, LastPoll: okPrev.LastPoll, NextPoll: okPrev.NextPoll, LastNewItem: now.Add(-8 * time.Hour)}, nil, 0, 4 * time.Hour},
		{"undated, 6 new items 6 hours after the last: one an hour, polled every half hour", quiet6h, nil, 6, 30 * time.Minute},
		{"undated, 1 new item 3 hours after the last: 90 minutes", quiet6h3, nil, 1, 90 * time.Minute},
		{"every item stamped with one time: the dates say nothing, previous interval kept", okPrev, every(0, 20, now.Add(-time.Minute)), 0, 90 * time.Minute},
		{"every item stamped with one time, first poll: default", news.SourceState{}, every(0, 20, now.Add(-time.Minute)), 0, def},
		{"three items a day, dated by the day: one every eight hours", news.SourceState{}, slices.Concat(every(24*time.Hour, 7, now.Add(-time.Hour)), every(24*time.Hour, 7, now.Add(-time.Hour)), every(24*time.Hour, 7, now.Add(-time.Hour))), 0, 4 * time.Hour},
		{"dates a century apart: clamped to max_interval (gap times items overflowed)", news.SourceState{}, every(100*365*24*time.Hour, 3, now.Add(-time.Hour)), 0, maxI},
		{"after failures: default", news.SourceState{Polls: 3, Failures: 2, LastPoll: okPrev.LastPoll, NextPoll: okPrev.NextPoll}, nil, 0, def},
		{"after Retry-After: default", news.SourceState{Polls: 3, RetryAfter: now, LastPoll: okPrev.LastPoll, NextPoll: okPrev.NextPoll}, nil, 0, def},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Adapt(u, tc.prev, tc.published, tc.fresh, now, def, minI, maxI)
			if d := got - tc.want; d < -time.Second || d > time.Second {
				t.Errorf("Adapt = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestJitterRoundTrip(t *testing.T) {
	const lo, hi = 10 * time.Minute, 6 * time.Hour
	for _, u := range []string{"https://a.example/feed", "https://b.example/rss", "http://c.example/news.html"} {
		for _, d := range []time.Duration{time.Minute, 30 * time.Minute, 6 * time.Hour} {
			j := jitter(u, d, 0, 0)
			if j < d || j > d+d/10 {
				t.Errorf("jitter(%s, %s) = %s: want within 10%%", u, d, j)
			}
			if back := unjitter(u, j); back != d {
				t.Errorf("unjitter(jitter(%s)) = %s", d, back)
			}
		}
		// Within bounds: never past hi; an interval near hi is taken as hi/1.1, which
		// unjitter gives back.
		for _, d := range []time.Duration{lo, 30 * time.Minute, 5 * time.Hour, 5*time.Hour + 50*time.Minute, hi} {
			j := jitter(u, d, lo, hi)
			if j < lo || j > hi {
				t.Errorf("jitter(%s, %s) = %s: want within [%s, %s]", u, d, j, lo, hi)
			}
			if again := jitter(u, unjitter(u, j), lo, hi); again-j > time.Microsecond || j-again > time.Microsecond {
				t.Errorf("jitter(unjitter(jitter(%s))) = %s, want %s", d, again, j)
			}
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{{1, 30 * time.Minute}, {2, time.Hour}, {3, 2 * time.Hour}, {6, 16 * time.Hour}, {7, 24 * time.Hour}, {1000, 24 * time.Hour}}
	for _, tc := range tests {
		if got := Backoff(30*time.Minute, 6*time.Hour, tc.n); got != tc.want {
			t.Errorf("Backoff(30m, %d) = %s, want %s", tc.n, got, tc.want)
		}
	}
	// Durations as long as the config allows (106751d) must not overflow into a negative
	// wait, which would have a failing source polled at every tick.
	const day = 24 * time.Hour
	for _, n := range []int{2, 3, 4, 64, 1000} {
		if got := Backoff(40000*day, 106751*day, n); got < 40000*day || got > 106751*day {
			t.Errorf("Backoff(40000d, 106751d, %d) = %s, want within [40000d, 106751d]", n, got)
		}
	}
}

// TestSchedulerSeedsFromStore: after a restart, a source under backoff or Retry-After
// waits for its stored time; a source without stored state is due within the spread.
func TestSchedulerSeedsFromStore(t *testing.T) {
	db := openBolt(t)
	ctx := context.Background()
	now := time.Now()
	backoff := feedJob("a", "https://a.example/feed")
	refused := feedJob("b", "https://b.example/feed")
	overdue := feedJob("c", "https://c.example/feed")
	fresh := feedJob("d", "https://d.example/feed")
	for _, st := range []news.SourceState{
		{URL: backoff.URL(), NextPoll: now.Add(time.Hour), Failures: 2},
		{URL: refused.URL(), NextPoll: now.Add(time.Minute), RetryAfter: now.Add(3 * time.Hour)},
		{URL: overdue.URL(), NextPoll: now.Add(-time.Hour)},
	} {
		if err := db.PutSource(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	s := &Scheduler{Store: db, Spread: time.Minute}
	s.defaults()
	s.next, s.refused, s.busy = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}
	s.seed(ctx, now)
	s.SetJobs([]Job{backoff, refused, overdue, fresh})

	got := map[string]bool{}
	for _, j := range append(s.due(now, now), s.due(now.Add(2*time.Minute), now)...) {
		got[j.Member.ID] = true
	}
	if got["a"] || got["b"] || !got["c"] || !got["d"] {
		t.Errorf("due two minutes after start: %v; want c and d only", got)
	}
	if n := s.next[refused.URL()]; !n.Equal(now.Add(3 * time.Hour)) {
		t.Errorf("refused source next poll %s, want its Retry-After", n)
	}
}

// The sources a reload adds after the start window have their first polls spread over
// the window from when they are first seen, not all polled at once; those seen within
// the start window keep the start's spread.
func TestReloadSpreadsNewSources(t *testing.T) {
	start := time.Now()
	s := &Scheduler{Spread: time.Minute}
	s.defaults()
	s.next, s.refused, s.busy = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}
	var jobs []Job
	for i := range 100 {
		jobs = append(jobs, feedJob(fmt.Sprint("m", i), fmt.Sprintf("https://m%d.example/feed", i)))
	}
	s.SetJobs(jobs[:50])
	atStart := len(s.due(start, start))
	if n := len(s.due(start.Add(2*time.Minute), start)); n+atStart != 50 {
		t.Fatalf("due %d of the 50 sources of the start two minutes later, want all", n)
	}
	s.SetJobs(jobs) // a reload adds 50
	reload := start.Add(time.Hour)
	first := s.due(reload, start)
	if len(first) > 10 {
		t.Errorf("%d of the 50 sources a reload added polled at once, want them spread over a minute", len(first))
	}
	for _, j := range jobs[50:] {
		n := s.next[j.URL()]
		if n.Before(reload) || n.After(reload.Add(time.Minute)) {
			t.Errorf("%s first poll at reload+%s, want within the minute after the reload", j.URL(), n.Sub(reload))
		}
	}
	if n := len(s.due(reload.Add(time.Minute), start)); n+len(first) != 50 {
		t.Errorf("a minute after the reload %d+%d of its 50 sources polled, want all", len(first), n)
	}
}

// TestHostBlockedOnlyWhenAllRefused: one rate-limited path does not stall its host.
func TestHostBlockedOnlyWhenAllRefused(t *testing.T) {
	now := time.Now()
	s := &Scheduler{}
	s.defaults()
	s.next, s.refused, s.busy = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}
	a1, a2 := feedJob("a", "https://A.example/one"), feedJob("a", "https://a.example/two")
	b := feedJob("b", "https://b.example/feed")
	s.SetJobs([]Job{a1, a2, b})
	for _, j := range []Job{a1, a2, b} {
		s.next[j.URL()] = now
	}
	s.noteState(a1.URL(), now.Add(time.Hour), now.Add(time.Hour), now)
	if _, blocked := s.HostBlocked("a.example", now); blocked {
		t.Fatal("host blocked with one of its two sources refused")
	}
	if due := s.due(now.Add(time.Minute), now.Add(-time.Hour)); len(due) != 2 {
		t.Errorf("due %d sources, want the two not refused", len(due))
	}
	s.busy = map[string]bool{}
	s.noteState(a2.URL(), now.Add(2*time.Hour), now.Add(2*time.Hour), now)
	until, blocked := s.HostBlocked("a.example", now)
	if !blocked || !until.Equal(now.Add(time.Hour)) {
		t.Errorf("HostBlocked = %s, %v; want blocked until the first Retry-After", until, blocked)
	}
	if _, blocked := s.HostBlocked("b.example", now); blocked {
		t.Error("another host blocked")
	}
}

// slowSite holds each request until released.
type slowSite struct {
	srv     *httptest.Server
	started chan struct{}
	release chan struct{}
}

func newSlowSite(t *testing.T) *slowSite {
	s := &slowSite{started: make(chan struct{}, 10), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed" {
			http.NotFound(w, r)
			return
		}
		s.started <- struct{}{}
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(goodFeed("slow")))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// TestShutdownFinishesInFlight: a poll in flight when Run's context ends finishes
// within the grace period and records its state and items.
func TestShutdownFinishesInFlight(t *testing.T) {
	site := newSlowSite(t)
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", site.srv.URL+"/feed")
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 2, Tick: time.Millisecond, Spread: time.Millisecond, Grace: time.Hour}
	s.SetJobs([]Job{j})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-site.started
	cancel()
	close(site.release)
	<-done
	st, ok := sourceState(t, db, j.URL())
	if !ok || st.Health != news.HealthOK || len(storedItems(t, db, "m")) != 3 {
		t.Fatalf("state %+v recorded %v, %d items: want the finished poll stored", st, ok, len(storedItems(t, db, "m")))
	}
}

// TestShutdownAbandonsWithoutWriting: a poll still in flight when the grace period
// ends is cancelled and leaves nothing behind: no items, no state, lease released.
func TestShutdownAbandonsWithoutWriting(t *testing.T) {
	site := newSlowSite(t)
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	j := feedJob("m", site.srv.URL+"/feed")
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 2, Tick: time.Millisecond, Spread: time.Millisecond, Grace: -1, Log: ref.Log}
	s.SetJobs([]Job{j})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-site.started
	cancel()
	<-done
	if st, ok := sourceState(t, db, j.URL()); ok {
		t.Errorf("abandoned poll recorded state %+v", st)
	}
	if n := len(storedItems(t, db, "m")); n != 0 {
		t.Errorf("abandoned poll stored %d items", n)
	}
	if ok, err := db.Claim(context.Background(), "poll:"+j.URL(), "other", time.Minute); err != nil || !ok {
		t.Errorf("lease still held after shutdown: %v %v", ok, err)
	}
}

// steppedStore writes a batch the way Redis does, in steps (here one item at a time,
// each whole), and tells when its first write began, then waits for go before the rest.
type steppedStore struct {
	Store
	began chan struct{}
	goOn  chan struct{}
}

func (s *steppedStore) Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	var res news.UpsertResult
	for i := range items {
		r, err := s.Store.Upsert(ctx, items[i:i+1])
		if err != nil {
			return res, err
		}
		res.New += r.New
		if i == 0 {
			close(s.began)
			<-s.goOn
		}
		if err := ctx.Err(); err != nil {
			return res, err // the rest of the batch abandoned: part of it written
		}
	}
	return res, nil
}

// TestShutdownLetsABegunWriteFinish: a refresh whose store write has begun when the poll
// is shut down finishes it and records the source, rather than leaving part of its items
// written and no state (a store that writes a batch in steps, as Redis does).
func TestShutdownLetsABegunWriteFinish(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("m")))
	}))
	defer srv.Close()
	db := openBolt(t)
	st := &steppedStore{Store: db, began: make(chan struct{}), goOn: make(chan struct{})}
	ref := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := feedJob("m", srv.URL+"/feed")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- ref.Refresh(ctx, j) }()
	<-st.began
	cancel() // the shutdown, while the write is under way
	close(st.goOn)
	res := <-done
	if res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %d new, %v; want its 3 items written", res.New, res.Err)
	}
	if n := len(storedItems(t, db, "m")); n != 3 {
		t.Errorf("%d items stored, want 3", n)
	}
	if s, ok := sourceState(t, db, j.URL()); !ok || s.Health != news.HealthOK {
		t.Errorf("source state after the finished write: %+v, %v", s, ok)
	}
}

// countingServer serves h and counts the requests for each path (hits).
func countingServer(t *testing.T, h http.HandlerFunc) (srv *httptest.Server, hits func(path string) int) {
	var mu sync.Mutex
	n := map[string]int{}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n[r.URL.Path]++
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return n[path]
	}
}

// TestSchedulerPollsAndReschedules: the scheduler polls due sources once and takes the
// next time from what the refresh recorded, reporting each through Progress.
func TestSchedulerPollsAndReschedules(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(goodFeed("ok")))
		case "/limited":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
		default:
			http.NotFound(w, r)
		}
	})
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	jobs := []Job{feedJob("a", srv.URL+"/ok"), feedJob("b", srv.URL+"/limited")}
	results := make(chan Result, 10)
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 2, Tick: time.Millisecond, Spread: time.Millisecond,
		Progress: func(r Result) { results <- r }}
	s.SetJobs(jobs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	got := map[string]Result{}
	for len(got) < 2 {
		r := <-results
		got[r.Member] = r
	}
	// Let the loop tick many times: nothing is due again for half an hour or more.
	for range 50 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if hits("/ok") != 1 || hits("/limited") != 1 {
		t.Errorf("requests: %d to /ok, %d to /limited; want one each", hits("/ok"), hits("/limited"))
	}
	if got["a"].New != 3 || got["b"].RetryAfter.IsZero() || !strings.Contains(got["b"].Err.Error(), "429") {
		t.Errorf("results %+v", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.next[jobs[1].URL()].Equal(got["b"].RetryAfter) {
		t.Errorf("rate-limited source next %s, want its Retry-After %s", s.next[jobs[1].URL()], got["b"].RetryAfter)
	}
}

// TestPollAllHonoursRetryAfter: a poll of every source (the `poll` command) does not
// fetch a source whose server asked, with Retry-After, not to be polled yet; it says so
// in the source's result and leaves its recorded state as it was.
func TestPollAllHonoursRetryAfter(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(goodFeed(r.URL.Path[1:])))
	})
	db := openBolt(t)
	now := time.Now()
	tests := []struct {
		path       string
		retryAfter time.Time
		wantHits   int
	}{
		{"/refused", now.Add(time.Hour), 0},
		{"/lapsed", now.Add(-time.Minute), 1},
		{"/fresh", time.Time{}, 1},
	}
	var jobs []Job
	for _, tc := range tests {
		j := feedJob(tc.path[1:], srv.URL+tc.path)
		jobs = append(jobs, j)
		if !tc.retryAfter.IsZero() {
			st := news.SourceState{URL: j.URL(), Health: news.HealthFailing, Polls: 1, Failures: 1, HTTPCode: 429, RetryAfter: tc.retryAfter, NextPoll: tc.retryAfter}
			if err := db.PutSource(context.Background(), st); err != nil {
				t.Fatal(err)
			}
		}
	}
	results := PollAll(context.Background(), newTestRefresher(t, db, testConfig(t, ""), nil), jobs, 2, nil)
	for i, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got := hits(tc.path)
			if got != tc.wantHits {
				t.Errorf("fetched %d times, want %d", got, tc.wantHits)
			}
			res := results[i]
			if tc.wantHits > 0 {
				if res.Err != nil || res.New != 3 {
					t.Errorf("result %+v, want 3 new items", res)
				}
				return
			}
			if !errors.Is(res.Err, ErrRetryAfter) || !res.RetryAfter.Equal(tc.retryAfter) {
				t.Errorf("result err %v, Retry-After %s; want ErrRetryAfter until %s", res.Err, res.RetryAfter, tc.retryAfter)
			}
			if kind, _ := Describe(res.Err); kind != "retry_after" {
				t.Errorf("Describe kind %q", kind)
			}
			if st, _ := sourceState(t, db, jobs[i].URL()); st.Polls != 1 || st.HTTPCode != 429 || !st.RetryAfter.Equal(tc.retryAfter) {
				t.Errorf("recorded state changed: %+v", st)
			}
		})
	}
}

// TestReloadShorterIntervalTakesEffect: a reload that shortens a source's interval (1h
// -> 1s) while its poll is in flight has it polled within the new interval. Before,
// found by a helper's audit, the next poll stayed where the old interval put it (in the
// scheduler and in the stored state), so an operator who shortened an interval waited
// up to the old one (or a 24h backoff) for it to apply.
func TestReloadShorterIntervalTakesEffect(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(goodFeed("iv")))
	})
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	job := feedJob("a", srv.URL+"/feed")
	job.Source.Interval = config.Duration(time.Hour)
	s, results := runScheduler(t, ref, db, job)
	<-results
	reloaded := job
	reloaded.Source.Interval = config.Duration(time.Second)
	s.SetJobs([]Job{reloaded}) // what serve's reload does
	select {
	case <-results:
	case <-time.After(4 * time.Second):
		t.Errorf("interval reloaded from 1h to 1s: %d fetches in the 4 s after the reload, want at least one more", hits("/feed")-1)
	}
}

// TestReloadRenamedMemberPolledAtOnce: a reload that changes a member's id (or moves a
// source to another member) has the source polled under its new member within the
// spread of added sources. Before, found by an end-to-end check, it waited out the old
// member's next poll (its interval, up to max_interval or a week), while the old id's
// items were no longer shown: the member's news was gone until then.
func TestReloadRenamedMemberPolledAtOnce(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(goodFeed("rn")))
	})
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	job := feedJob("iss-old", srv.URL+"/feed")
	job.Source.Interval = config.Duration(time.Hour)
	s, results := runScheduler(t, ref, db, job)
	<-results
	renamed := feedJob("iss-new", job.URL())
	renamed.Source.Interval = job.Source.Interval
	s.SetJobs([]Job{renamed}) // what serve's reload does
	select {
	case res := <-results:
		if res.Member != "iss-new" || res.New != 3 {
			t.Errorf("poll after the rename: member %q, %d new; want iss-new's first poll, 3 new", res.Member, res.New)
		}
	case <-time.After(4 * time.Second):
		t.Errorf("member renamed: %d fetches in the 4 s after the reload, want its first poll under the new id", hits("/feed")-1)
	}
}

// TestReloadShorterIntervalPolledOnceAcrossProcesses: when every process sharing a store
// reloads a config that shortens a source's interval, the first of them to poll it
// polls it; the others, finding the lease free afterwards, take the next poll it
// recorded by the new interval. Before, each process's reload let it poll the source
// once whatever the store said, so with three `serve` workers on Redis every source
// whose interval a SIGHUP shortened was fetched three times within seconds.
func TestReloadShorterIntervalPolledOnceAcrossProcesses(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(goodFeed("iv")))
	})
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	job := feedJob("a", srv.URL+"/feed")
	job.Source.Interval = config.Duration(time.Hour)
	var procs []*Scheduler
	for _, owner := range []string{"a", "b", "c"} {
		s := &Scheduler{Refresher: ref, Store: db, Owner: owner, Log: ref.Log}
		s.defaults()
		s.storeOK.Store(true)
		s.next, s.refused, s.busy, s.sooner = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]reloaded{}
		s.SetJobs([]Job{job})
		procs = append(procs, s)
	}
	ctx := context.Background()
	procs[0].pollOne(ctx, job)
	if hits("/feed") != 1 {
		t.Fatalf("first poll: %d fetches", hits("/feed"))
	}
	// That poll was an hour ago: due by the new interval (a reload polls a source when a
	// start would: its last poll plus the new interval).
	first, err := db.Source(ctx, job.URL())
	if err != nil {
		t.Fatal(err)
	}
	first.LastPoll, first.NextPoll = first.LastPoll.Add(-time.Hour), first.NextPoll.Add(-time.Hour)
	if err := db.PutSource(ctx, first); err != nil {
		t.Fatal(err)
	}
	shorter := job
	shorter.Source.Interval = config.Duration(time.Minute)
	for _, s := range procs {
		s.SetJobs([]Job{shorter}) // SIGHUP to every worker
	}
	for _, s := range procs {
		s.pollOne(ctx, shorter) // each in turn finds the lease free
	}
	if got := hits("/feed") - 1; got != 1 {
		t.Errorf("after the reload: %d fetches by 3 processes, want 1", got)
	}
	st, err := db.Source(ctx, job.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range procs[1:] {
		s.mu.Lock()
		next := s.next[job.URL()]
		s.mu.Unlock()
		if !next.Equal(st.NextPoll) || st.NextPoll.Sub(st.LastPoll) > 2*time.Minute {
			t.Errorf("process %s: next poll %s, want the stored %s (last poll %s)", s.Owner, next, st.NextPoll, st.LastPoll)
		}
	}
}

// TestUndatedSourceFollowsAFasterRate: a source whose items carry no dates (many news
// pages), quiet long enough to be polled every max_interval, that starts publishing
// hourly is polled more often again. Before, found by a helper's scheduling audit, the
// interval of an undated source could only grow: with no dates to learn from, a poll
// kept the previous interval (stretched when quiet), so after one quiet weekend such a
// source stayed at 6h36m for good, however much it published (six new items a poll).
func TestUndatedSourceFollowsAFasterRate(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	hourlyFrom := t0.Add(3 * 24 * time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var items []string
		for p := clock().Truncate(time.Hour); !p.Before(hourlyFrom) && len(items) < 10; p = p.Add(-time.Hour) {
			items = append(items, fmt.Sprintf("h%d|News %d|https://m.example.org/%d|", p.Unix(), p.Unix(), p.Unix()))
		}
		for i := len(items); i < 10; i++ { // the old, undated news
			items = append(items, fmt.Sprintf("old%d|Old %d|https://m.example.org/old/%d|", i, i, i))
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(rss(items...)))
	}))
	defer srv.Close()
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, "{interval: 30m, min_interval: 10m, max_interval: 6h}"), nil)
	ref.Now = clock
	j := feedJob("u", srv.URL+"/news")
	var intervals []time.Duration
	for next := t0; next.Before(t0.Add(5 * 24 * time.Hour)); {
		mu.Lock()
		now = next
		mu.Unlock()
		res := ref.Refresh(context.Background(), j)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		next = res.NextPoll
		if !now.Before(hourlyFrom) {
			intervals = append(intervals, next.Sub(now))
		}
	}
	if len(intervals) < 10 {
		t.Fatalf("%d polls in the two days it published hourly: intervals %v", len(intervals), intervals)
	}
	// The last day's polls: at most an hour apart (and no closer than min_interval).
	for _, d := range intervals[len(intervals)-10:] {
		if d > time.Hour+6*time.Minute || d < 10*time.Minute {
			t.Errorf("intervals once it published hourly: %v; want the last ones between 10m and an hour", intervals)
			break
		}
	}
}

// TestRetryAfterCountsFromTheAnswer: a server's Retry-After counts from its answer, not
// from when the request was sent. Before, found by a helper's scheduling audit, it was
// added to the refresh's start, so an overloaded server that took 20 s to answer "503,
// Retry-After: 30" was asked again 10 s after its answer: the slower the server, the
// less of its wait was honoured.
func TestRetryAfterCountsFromTheAnswer(t *testing.T) {
	var mu sync.Mutex
	var answered time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond) // overloaded
		mu.Lock()
		answered = time.Now()
		mu.Unlock()
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, "{interval: 1s, min_interval: 1s}"), nil)
	res := ref.Refresh(context.Background(), feedJob("a", srv.URL+"/feed"))
	mu.Lock()
	defer mu.Unlock()
	if want := answered.Add(2 * time.Second); res.RetryAfter.Before(want.Add(-100 * time.Millisecond)) {
		t.Errorf("Retry-After recorded until %s after the answer; want 2s", res.RetryAfter.Sub(answered))
	}
	if st, _ := sourceState(t, db, feedJob("a", srv.URL+"/feed").URL()); st.NextPoll.Before(res.RetryAfter) {
		t.Errorf("next poll %s before the Retry-After %s", st.NextPoll, res.RetryAfter)
	}
}

// TestRobotsRetryAfter (found by a helper's audit): a robots.txt answering 429 let the
// feed be fetched at once (the 429 was taken as "no robots.txt"). It now refuses the
// source, and a Retry-After on robots.txt is the source's own, as on its feed: it is
// not polled before it has passed.
func TestRobotsRetryAfter(t *testing.T) {
	var feedHits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		feedHits.Add(1)
		serveBody("application/rss+xml", goodFeed("robots"))(w, r)
	}))
	defer srv.Close()
	db := openBolt(t)
	f := fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1, RespectRobots: true})
	ref := newTestRefresher(t, db, testConfig(t, "{interval: 10m, min_interval: 10m}"), f)
	j := feedJob("a", srv.URL+"/feed")
	res := ref.Refresh(context.Background(), j)
	if n := feedHits.Load(); n != 0 {
		t.Fatalf("feed requested %d times after robots.txt answered 429, want none", n)
	}
	st, _ := sourceState(t, db, j.URL())
	if st.ErrorKind != "robots" || !strings.Contains(st.Error, "HTTP 429") || !strings.Contains(st.Error, "retry after 1h0m0s") {
		t.Errorf("recorded error %s: %q; want robots, naming the 429 and its Retry-After", st.ErrorKind, st.Error)
	}
	if got := st.RetryAfter.Sub(st.LastPoll); got < time.Hour || st.NextPoll.Before(st.RetryAfter) || !res.RetryAfter.Equal(st.RetryAfter) {
		t.Errorf("retry after %s, next poll %s: want an hour after the answer, and not before it", got, st.NextPoll.Sub(st.LastPoll))
	}
}

// TestNextPollWithinBounds: a healthy source's next poll is never later than
// max_interval (a source of its own interval: that interval) after its poll, nor sooner
// than min_interval, and sources of one interval still spread. Before, found by a
// helper's scheduling audit, up to a tenth of the interval was added after the clamp to
// max_interval, so with max_interval 6h a quiet source waited up to 6h36m.
func TestNextPollWithinBounds(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	every := func(gap time.Duration) string {
		var items []string
		for i := range 10 {
			p := now.Add(-time.Duration(i) * gap)
			items = append(items, fmt.Sprintf("g%d|News %d|https://m.example.org/%d|%s", i, i, i, p.Format(time.RFC1123)))
		}
		return rss(items...)
	}
	tests := []struct {
		name     string
		fetch    string
		interval time.Duration // the source's own
		body     string
		lo, hi   time.Duration
	}{
		{"quiet source: at most max_interval", "{interval: 30m, min_interval: 10m, max_interval: 6h}", 0, goodFeed("q"), 10 * time.Minute, 6 * time.Hour},
		{"weekly publisher: at most max_interval", "{interval: 30m, min_interval: 10m, max_interval: 6h}", 0, every(7 * 24 * time.Hour), 10 * time.Minute, 6 * time.Hour},
		{"busy publisher: at least min_interval", "{interval: 30m, min_interval: 10m, max_interval: 6h}", 0, every(time.Minute), 10 * time.Minute, 6 * time.Hour},
		{"own interval: at most it", "{interval: 30m}", 2 * time.Hour, goodFeed("o"), 10 * time.Minute, 2 * time.Hour},
		{"own interval of min_interval: not sooner", "{interval: 30m, min_interval: 10m}", 10 * time.Minute, goodFeed("m"), 10 * time.Minute, 10 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			ref := newTestRefresher(t, openBolt(t), testConfig(t, tc.fetch), nil)
			ref.Now = func() time.Time { return now }
			waits := map[time.Duration]bool{}
			for i := range 20 {
				j := feedJob(fmt.Sprint("m", i), fmt.Sprintf("%s/feed%d", srv.URL, i))
				j.Source.Interval = config.Duration(tc.interval)
				res := ref.Refresh(context.Background(), j)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				wait := res.NextPoll.Sub(now)
				if wait < tc.lo || wait > tc.hi {
					t.Errorf("%s: next poll %s after its poll, want within [%s, %s]", j.URL(), wait, tc.lo, tc.hi)
				}
				waits[wait] = true
			}
			if tc.lo < tc.hi && len(waits) < 10 {
				t.Errorf("20 sources of one interval wait %d different times, want them spread", len(waits))
			}
		})
	}
}

// TestBackoffNeverBelowHealthyInterval: the backoff limit does not make a failing source
// polled more often than a healthy one: a source polled weekly when healthy is retried
// weekly at most, not daily. Before, found by a helper's scheduling audit, backoff was
// capped at 24 h whatever the source's interval (or max_interval).
func TestBackoffNeverBelowHealthyInterval(t *testing.T) {
	const week = 7 * 24 * time.Hour
	tests := []struct {
		name     string
		fetch    string
		interval time.Duration
		failures int // before this poll
		status   int // the answer; 500 if 0
		want     time.Duration
	}{
		{"weekly source, first failure", "{interval: 30m}", week, 0, 0, week},
		{"weekly source, tenth failure", "{interval: 30m}", week, 9, 0, week},
		{"max_interval a week, tenth failure", "{interval: 30m, max_interval: 7d}", 0, 9, 0, week},
		{"usual bounds, tenth failure: a day", "{interval: 30m}", 0, 9, 0, 24 * time.Hour},
		{"hourly source, tenth failure: a day", "{interval: 30m}", time.Hour, 9, 0, 24 * time.Hour},
		{"two-day source, second failure", "{interval: 30m}", 48 * time.Hour, 1, 0, 48 * time.Hour},
		{"weekly source gone: checked weekly", "{interval: 30m}", week, 0, 410, week},
		{"hourly source gone: checked daily", "{interval: 30m}", time.Hour, 0, 410, 24 * time.Hour},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.URL.Query().Get("status"), &code)
		w.WriteHeader(code)
	}))
	defer srv.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openBolt(t)
			ref := newTestRefresher(t, db, testConfig(t, tc.fetch), nil)
			ref.Now = func() time.Time { return now }
			if tc.status == 0 {
				tc.status = http.StatusInternalServerError
			}
			j := feedJob("m", fmt.Sprintf("%s/feed?status=%d", srv.URL, tc.status))
			j.Source.Interval = config.Duration(tc.interval)
			if tc.failures > 0 {
				st := news.SourceState{URL: j.URL(), Health: news.HealthFailing, Polls: tc.failures, Failures: tc.failures, HTTPCode: 500,
					LastPoll: now.Add(-time.Hour), NextPoll: now}
				if err := db.PutSource(context.Background(), st); err != nil {
					t.Fatal(err)
				}
			}
			res := ref.Refresh(context.Background(), j)
			if res.Err == nil {
				t.Fatal("refresh of a 500 succeeded")
			}
			if got := res.NextPoll.Sub(now); got != tc.want {
				t.Errorf("next poll %s after failure %d (%s), want %s", got, tc.failures+1, res.Err, tc.want)
			}
		})
	}
}

// TestRestartHoldsStoredScheduleToConfig: at a start, a source's stored next poll, set
// under an earlier config, waits no longer than the config in use would have it wait
// after that poll (its own interval shortened, max_interval lowered), while a
// Retry-After and a backoff still hold. Before, found by a helper's scheduling audit, a
// source whose interval was shortened from a week to 2 hours, and the service
// restarted, waited out the week (a SIGHUP reload already applied it).
func TestRestartHoldsStoredScheduleToConfig(t *testing.T) {
	const day = 24 * time.Hour
	now := time.Now()
	tests := []struct {
		name     string
		fetch    string
		interval time.Duration // the source's own, in the config now
		st       news.SourceState
		want     time.Time // zero: due at the start (spread)
	}{
		{"own interval shortened from a week to 2h", "{interval: 30m}", 2 * time.Hour,
			news.SourceState{Polls: 3, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(-time.Hour + 7*day), Health: news.HealthOK}, now.Add(time.Hour)},
		{"own interval shortened, overdue by the new one", "{interval: 30m}", 2 * time.Hour,
			news.SourceState{Polls: 3, LastPoll: now.Add(-3 * time.Hour), NextPoll: now.Add(-3*time.Hour + 7*day), Health: news.HealthOK}, time.Time{}},
		{"max_interval lowered from a day to 6h", "{interval: 30m, max_interval: 6h}", 0,
			news.SourceState{Polls: 3, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(-time.Hour + day), Health: news.HealthOK}, now.Add(5 * time.Hour)},
		{"backoff of an interval shortened from a week to an hour", "{interval: 30m}", time.Hour,
			news.SourceState{Polls: 3, Failures: 2, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(-time.Hour + 7*day), Health: news.HealthFailing}, now.Add(time.Hour)},
		{"backoff holds", "{interval: 30m}", time.Hour,
			news.SourceState{Polls: 3, Failures: 3, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(3 * time.Hour), Health: news.HealthFailing}, now.Add(3 * time.Hour)},
		{"Retry-After holds", "{interval: 30m}", time.Hour,
			news.SourceState{Polls: 3, Failures: 1, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(5 * time.Hour), RetryAfter: now.Add(5 * time.Hour), Health: news.HealthFailing}, now.Add(5 * time.Hour)},
		{"a disabled source is checked again daily", "{interval: 30m}", time.Hour,
			news.SourceState{Polls: 3, Failures: 1, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(-time.Hour + day), Health: news.HealthDisabled}, now.Add(-time.Hour + day)},
		{"a healthy poll's next time holds", "{interval: 30m}", 2 * time.Hour,
			news.SourceState{Polls: 3, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(30 * time.Minute), Health: news.HealthOK}, now.Add(30 * time.Minute)},
		// The member's id changed while the service was down: its first poll under the
		// new id comes at the start, not at the old id's next poll (its items were
		// hidden until then: a week for a weekly source).
		{"the state of the member's old id", "{interval: 30m}", 7 * day,
			news.SourceState{Member: "m-old", Polls: 3, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(-time.Hour + 7*day), Health: news.HealthOK}, time.Time{}},
		{"the state of the member's old id: Retry-After holds", "{interval: 30m}", 7 * day,
			news.SourceState{Member: "m-old", Polls: 3, Failures: 1, LastPoll: now.Add(-time.Hour), NextPoll: now.Add(5 * time.Hour), RetryAfter: now.Add(5 * time.Hour), Health: news.HealthFailing}, now.Add(5 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(goodFeed("r")))
			})
			db := openBolt(t)
			ctx := context.Background()
			j := feedJob("m", srv.URL+"/feed")
			j.Source.Interval = config.Duration(tc.interval)
			tc.st.URL = j.URL()
			if err := db.PutSource(ctx, tc.st); err != nil {
				t.Fatal(err)
			}
			ref := newTestRefresher(t, db, testConfig(t, tc.fetch), nil)
			s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Log: ref.Log}
			s.defaults()
			s.storeOK.Store(true)
			s.next, s.refused, s.busy, s.sooner = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]reloaded{}
			s.SetJobs([]Job{j}) // as serve does, before Run seeds
			s.seed(ctx, now)
			next, seeded := s.next[j.URL()]
			if tc.want.IsZero() {
				if seeded {
					t.Fatalf("next poll at start+%s, want it due at the start", next.Sub(now))
				}
				// Due: the poll fetches it, rather than taking the stored time again.
				s.pollOne(ctx, j)
				if hits("/feed") != 1 {
					t.Errorf("poll of a source due at the start fetched it %d times, want once", hits("/feed"))
				}
				return
			}
			if !next.Equal(tc.want) {
				t.Errorf("next poll at start+%s, want start+%s", next.Sub(now), tc.want.Sub(now))
			}
		})
	}
}

// TestReloadShorterLongestWaitTakesEffect: a reload that lowers max_interval, or removes
// a source's own interval longer than max_interval, has the sources it concerns polled
// within the new bound of the reload; one that raises it leaves the next poll where it
// was. Before, found by a helper's scheduling audit, only a source's own interval set or
// shortened applied at once: after max_interval went from 24h to 6h, quiet sources still
// waited up to a day.
func TestReloadShorterLongestWaitTakesEffect(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name              string
		before, after     string // fetch settings
		ivBefore, ivAfter time.Duration
		wantWithin        time.Duration // of the reload; 0: the next poll stays
	}{
		{"max_interval lowered from a day to 6h", "{interval: 30m, max_interval: 24h}", "{interval: 30m, max_interval: 6h}", 0, 0, 6 * time.Hour},
		{"own weekly interval removed", "{interval: 30m, max_interval: 6h}", "{interval: 30m, max_interval: 6h}", 7 * day, 0, 6 * time.Hour},
		{"max_interval raised", "{interval: 30m, max_interval: 6h}", "{interval: 30m, max_interval: 24h}", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(goodFeed("q"))) // quiet since March: waits as long as allowed
			}))
			defer srv.Close()
			db := openBolt(t)
			cfg := testConfig(t, tc.before)
			ref := newTestRefresher(t, db, cfg, nil)
			ref.Config = func() *config.Config { return cfg }
			s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Log: ref.Log}
			s.defaults()
			s.storeOK.Store(true)
			s.next, s.refused, s.busy, s.sooner = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]reloaded{}
			j := feedJob("m", srv.URL+"/feed")
			j.Source.Interval = config.Duration(tc.ivBefore)
			s.SetJobs([]Job{j})
			s.pollOne(context.Background(), j)
			before := s.next[j.URL()]
			cfg = testConfig(t, tc.after) // what serve's reload does: the config, then the jobs
			j.Source.Interval = config.Duration(tc.ivAfter)
			reload := time.Now()
			s.SetJobs([]Job{j})
			after := s.next[j.URL()]
			switch {
			case tc.wantWithin == 0 && !after.Equal(before):
				t.Errorf("next poll moved from reload+%s to reload+%s, want it kept", before.Sub(reload), after.Sub(reload))
			case tc.wantWithin > 0 && after.After(reload.Add(tc.wantWithin+time.Second)): // SetJobs reads the clock after reload
				t.Errorf("next poll at reload+%s, want within %s", after.Sub(reload), tc.wantWithin)
			}
		})
	}
}

// unreadableState is a store whose source states cannot be read after the first read
// (pollOne's), as with a state record that no longer decodes: the refresh then records
// nothing.
type unreadableState struct {
	Store
	reads atomic.Int32
}

func (s *unreadableState) Source(ctx context.Context, u string) (news.SourceState, error) {
	if s.reads.Add(1) > 1 {
		return news.SourceState{}, errors.New("decode source state: unexpected end of JSON input")
	}
	return s.Store.Source(ctx, u)
}

// TestUnrecordedRefreshRetriedAtTheSourcesInterval: a refresh that records nothing, for
// another reason than a store outage (its state unreadable), is tried again after the
// source's own interval, not fetch.interval. Before, found by a helper's scheduling
// audit, a source of its own 10-minute interval waited 30 minutes, and a weekly one was
// tried every 30 minutes.
func TestUnrecordedRefreshRetriedAtTheSourcesInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration // the source's own
		want     time.Duration
	}{
		{"own interval shorter than fetch.interval", 10 * time.Minute, 10 * time.Minute},
		{"weekly", 7 * 24 * time.Hour, 7 * 24 * time.Hour},
		{"no own interval", 0, 30 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(goodFeed("u")))
			})
			db := &unreadableState{Store: openBolt(t)}
			ref := newTestRefresher(t, db, testConfig(t, "{interval: 30m}"), nil)
			s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Log: ref.Log}
			s.defaults()
			s.storeOK.Store(true)
			s.next, s.refused, s.busy, s.sooner = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]reloaded{}
			j := feedJob("m", srv.URL+"/feed")
			j.Source.Interval = config.Duration(tc.interval)
			s.SetJobs([]Job{j})
			before := time.Now()
			s.pollOne(context.Background(), j)
			after := time.Now()
			if hits("/feed") != 0 {
				t.Fatalf("a refresh whose state could not be read fetched the source %d times", hits("/feed"))
			}
			next := s.next[j.URL()]
			if next.Before(before.Add(tc.want)) || next.After(after.Add(tc.want)) {
				t.Errorf("tried again %s after the refresh, want %s", next.Sub(before).Round(time.Second), tc.want)
			}
		})
	}
}

// runScheduler runs a scheduler of one worker polling job until the test ends, and
// returns it and the results of its polls.
func runScheduler(t *testing.T, ref *Refresher, db Store, job Job) (*Scheduler, chan Result) {
	t.Helper()
	results := make(chan Result, 10)
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 1, Tick: 10 * time.Millisecond, Spread: time.Millisecond,
		Progress: func(r Result) { results <- r }}
	s.SetJobs([]Job{job})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, results
}

// TestReloadNextPollAsShown: after a reload that lowers max_interval from 24h to 6h, the
// scheduler polls a source when the dashboard (NextPoll) says, as a restart would: two
// hours after its last poll, four hours from now; its backoff and Retry-After hold; and
// the sources already overdue by the new bound are spread over the window of added
// sources. Before, found by a helper's scheduling audit, every quiet source the reload
// concerned fell due at once, six hours after the reload, while the dashboard showed
// each one's last poll plus six hours; backing-off sources were brought forward past
// their backoff.
func TestReloadNextPollAsShown(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		st     news.SourceState // relative to now, recorded under max_interval 24h
		spread bool             // overdue by the new bound: due within the spread
		about  time.Duration    // from the reload, when checked
	}{
		{"quiet source polled two hours ago",
			news.SourceState{Polls: 5, LastPoll: now.Add(-2 * time.Hour), NextPoll: now.Add(20 * time.Hour), Health: news.HealthOK}, false, 4 * time.Hour},
		{"backing off: its backoff holds",
			news.SourceState{Polls: 9, Failures: 6, LastPoll: now.Add(-2 * time.Hour), NextPoll: now.Add(14 * time.Hour), Health: news.HealthFailing}, false, 14 * time.Hour},
		{"under a Retry-After",
			news.SourceState{Polls: 5, Failures: 1, LastPoll: now.Add(-10 * time.Hour), NextPoll: now.Add(3 * time.Hour),
				RetryAfter: now.Add(3 * time.Hour), Health: news.HealthFailing}, false, 3 * time.Hour},
		{"overdue by the new bound",
			news.SourceState{Polls: 5, LastPoll: now.Add(-10 * time.Hour), NextPoll: now.Add(12 * time.Hour), Health: news.HealthOK}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openBolt(t)
			ctx := context.Background()
			cfg := testConfig(t, "{interval: 30m, max_interval: 24h}")
			ref := newTestRefresher(t, db, cfg, nil)
			ref.Config = func() *config.Config { return cfg }
			var jobs []Job
			for i := range 20 { // overdue ones: not all at once
				j := feedJob("m", fmt.Sprintf("https://m%d.example.org/feed", i))
				st := tc.st
				st.URL, st.Member = j.URL(), "m"
				if err := db.PutSource(ctx, st); err != nil {
					t.Fatal(err)
				}
				jobs = append(jobs, j)
			}
			s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Log: ref.Log}
			s.defaults()
			s.storeOK.Store(true)
			s.next, s.refused, s.busy, s.sooner = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]reloaded{}
			s.SetJobs(jobs)
			s.seed(ctx, now)
			cfg = testConfig(t, "{interval: 30m, max_interval: 6h}") // SIGHUP: the config, then the jobs
			reload := time.Now()
			s.SetJobs(jobs)
			after := time.Now()
			seen := map[time.Time]bool{}
			for _, j := range jobs {
				st, err := db.Source(ctx, j.URL())
				if err != nil {
					t.Fatal(err)
				}
				shown := NextPoll(cfg, j.Source, st) // what /sources.json shows
				next := s.next[j.URL()]
				seen[next] = true
				switch {
				case tc.spread && (next.Before(reload) || !next.Before(after.Add(s.Spread))):
					t.Fatalf("%s: next poll at reload+%s, want within the spread (%s)", j.URL(), next.Sub(reload), s.Spread)
				case !tc.spread && !next.Equal(shown):
					t.Fatalf("%s: next poll at reload+%s, the dashboard shows reload+%s", j.URL(), next.Sub(reload), shown.Sub(reload))
				}
			}
			if tc.spread && len(seen) < len(jobs)/2 {
				t.Errorf("%d overdue sources due at %d times, want them spread", len(jobs), len(seen))
			}
			if d := s.next[jobs[0].URL()].Sub(reload); tc.about > 0 && (d < tc.about-time.Minute || d > tc.about) {
				t.Errorf("next poll at reload+%s, want about %s", d, tc.about)
			}
		})
	}
}

// TestShutdownStartsNoNewPolls: once Run's context has ended, sources that are due are
// left for the next start, even with workers free to take them: a shutdown lets polls in
// flight finish, it does not begin new ones (here every source is due at once, as at a
// start, and the context has ended before Run looks).
func TestShutdownStartsNoNewPolls(t *testing.T) {
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("m")))
	}))
	defer srv.Close()
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	var jobs []Job
	for i := range 20000 {
		jobs = append(jobs, feedJob(fmt.Sprintf("m%d", i), fmt.Sprintf("%s/%d.xml", srv.URL, i)))
	}
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 32, Tick: time.Millisecond, Spread: time.Nanosecond, Log: ref.Log}
	s.SetJobs(jobs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx)
	if n := fetched.Load(); n != 0 {
		t.Errorf("%d sources fetched after the shutdown began, want none", n)
	}
	states, err := db.SourceStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 0 {
		t.Errorf("%d sources recorded after the shutdown began, want none", len(states))
	}
}

// otherHostPolled runs a scheduler of two workers with per_host 1 over the sources
// slowJobs gives (given the store and the slow site: sources whose polls wait on that
// site) and a source on another host (localhost), and fails with stuck unless that
// source is polled while the slow site's first poll hangs.
func otherHostPolled(t *testing.T, slowJobs func(db *boltstore.Store, slowURL string) []Job, stuck string) {
	t.Helper()
	slow := newSlowSite(t)
	defer close(slow.release)
	fast, fastPolled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("fast")))
	})), make(chan struct{}, 10)
	defer fast.Close()
	db := openBolt(t)
	cfg := testConfig(t, "{interval: 30m, per_host: 1}")
	f := fetch.New(fetch.Options{Timeout: time.Minute, AllowPrivate: true, PerHost: 1})
	ref := newTestRefresher(t, db, cfg, f)
	ref.Observe = func(_, _ news.SourceState, r Result) {
		if strings.HasPrefix(r.URL, "http://localhost:") {
			fastPolled <- struct{}{}
		}
	}
	jobs := slowJobs(db, slow.srv.URL)
	// The same loopback server under another host name: a host of its own for the limits.
	jobs = append(jobs, feedJob("fast", strings.Replace(fast.URL, "127.0.0.1", "localhost", 1)+"/feed"))
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 2, Tick: time.Millisecond, Spread: time.Nanosecond, Log: ref.Log, Grace: -1}
	s.SetJobs(jobs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-slow.started
	select {
	case <-fastPolled:
	case <-time.After(20 * time.Second):
		t.Fatal(stuck)
	}
}

// TestSlowHostLeavesWorkersForOtherHosts: a host with more sources due than there are
// workers, slow to answer, does not hold every worker while its sources wait for its
// per-host slots: another host's source is polled meanwhile.
func TestSlowHostLeavesWorkersForOtherHosts(t *testing.T) {
	otherHostPolled(t, func(_ *boltstore.Store, slowURL string) []Job {
		var jobs []Job
		for i := range 4 { // the slow site serves /feed only: the query tells the sources apart
			jobs = append(jobs, feedJob(fmt.Sprintf("slow%d", i), fmt.Sprintf("%s/feed?s=%d", slowURL, i)))
		}
		return jobs
	}, "the other host's source was not polled while the slow host's first poll hung: its sources hold every worker")
}

// TestHeldBackSourceTakenWhenItsHostFrees: a due source held back because its host had
// per_host polls in flight is handed out as soon as one of them ends, not at the next
// tick: otherwise a host served at most per_host polls per tick (2 a second by
// default), however fast it answered. The tick here never comes.
func TestHeldBackSourceTakenWhenItsHostFrees(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(goodFeed("m")))
	}))
	defer srv.Close()
	db := openBolt(t)
	cfg := testConfig(t, "{interval: 30m, per_host: 1}")
	f := fetch.New(fetch.Options{Timeout: time.Minute, AllowPrivate: true, PerHost: 1})
	ref := newTestRefresher(t, db, cfg, f)
	polled := make(chan string, 10)
	ref.Observe = func(_, _ news.SourceState, r Result) { polled <- r.URL }
	var jobs []Job
	for i := range 3 {
		jobs = append(jobs, feedJob(fmt.Sprintf("m%d", i), fmt.Sprintf("%s/%d.xml", srv.URL, i)))
	}
	s := &Scheduler{Refresher: ref, Store: db, Owner: "test", Workers: 3, Tick: time.Hour, Spread: time.Nanosecond, Log: ref.Log, Grace: -1}
	s.SetJobs(jobs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range len(jobs) {
		select {
		case <-polled:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of the host's %d due sources polled: the others wait for the next tick", i, len(jobs))
		}
	}
}

// TestSlowFeedHostOfPagesLeavesWorkersForOtherHosts: pages on hosts of their own whose
// advertised feeds are all on one slow host (a shared feed host) are polled through
// those feeds, so they are handed out no more than per_host at a time for the feeds'
// host, not their pages': otherwise they held every worker, each waiting for one of the
// feed host's request slots, as a slow host's own sources did.
func TestSlowFeedHostOfPagesLeavesWorkersForOtherHosts(t *testing.T) {
	otherHostPolled(t, func(db *boltstore.Store, slowURL string) []Job {
		var jobs []Job
		for i := range 4 {
			// Pages on 127.0.0.2 to 127.0.0.5 (never asked: the feed each advertised is
			// known), whose feeds are on the slow 127.0.0.1.
			id := fmt.Sprintf("page%d", i)
			j := pageJob(id, fmt.Sprintf("http://127.0.0.%d:9/news", i+2), nil)
			if err := db.PutSource(t.Context(), news.SourceState{URL: j.URL(), Member: id, Kind: "page",
				FeedURL: fmt.Sprintf("%s/feed?s=%d", slowURL, i)}); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, j)
		}
		return jobs
	}, "the other host's source was not polled while the feed host's first poll hung: the pages hold every worker")
}

// TestSlowRedirectHostLeavesWorkersForOtherHosts: feeds on hosts of their own that moved
// (301) to one slow host wait there for its request slots, so they are handed out no
// more than per_host at a time for the host they moved to: otherwise they held every
// worker, as a slow host's own sources did.
func TestSlowRedirectHostLeavesWorkersForOtherHosts(t *testing.T) {
	otherHostPolled(t, func(db *boltstore.Store, slowURL string) []Job {
		var jobs []Job
		for i := range 4 {
			// Feeds on 127.0.0.2 to 127.0.0.5 that moved to the slow 127.0.0.1, as their
			// last poll saw.
			moved := fmt.Sprintf("%s/feed?s=%d", slowURL, i)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, moved, http.StatusMovedPermanently)
			}))
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+2))
			if err != nil {
				t.Skip("no loopback address of its own:", err)
			}
			srv.Listener.Close()
			srv.Listener = l
			srv.Start()
			t.Cleanup(srv.Close)
			id := fmt.Sprintf("moved%d", i)
			j := feedJob(id, srv.URL+"/feed")
			if err := db.PutSource(t.Context(), news.SourceState{URL: j.URL(), Member: id, Kind: "feed", Redirect: moved}); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, j)
		}
		return jobs
	}, "the other host's source was not polled while the host the feeds moved to hung: they hold every worker")
}

// oneHostScheduler is a scheduler, set up as Run sets it up but not running, over n feeds
// on one host, every one due, under fetch.per_host perHost; it has had its first look
// (a tick's), which handed the host's first perHost sources out, and holds the others back.
// It returns the sources handed out.
func oneHostScheduler(t testing.TB, n, perHost int) (s *Scheduler, out []Job, now time.Time) {
	t.Helper()
	cfg := testConfig(t, fmt.Sprintf("{interval: 30m, per_host: %d}", perHost))
	ref := newTestRefresher(t, nil, cfg, nil)
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = feedJob(fmt.Sprintf("m%d", i), fmt.Sprintf("https://members.example.org/%d/feed.xml", i))
	}
	s = &Scheduler{Refresher: ref, Owner: "test", Spread: time.Nanosecond, Log: ref.Log}
	s.SetJobs(jobs)
	s.defaults()
	s.next, s.refused, s.busy, s.busyHost = map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]string{}
	s.wake = make(chan struct{}, 1)
	start := time.Now()
	now = start.Add(time.Second)
	out = s.due(now, start)
	if len(out) != perHost {
		t.Fatalf("the first look handed out %d sources, want per_host's %d", len(out), perHost)
	}
	return s, out, now
}

// TestFreedHostLooksAtItsHeldSourcesOnly: when a poll ends on a host whose due sources
// were held back (per_host), its next source is handed out without looking at every due
// source again: a look parses each one's URL, and a host of n due sources would cost n
// looks of n sources a round. Counted in allocations (a URL parse makes one), not time.
func TestFreedHostLooksAtItsHeldSourcesOnly(t *testing.T) {
	const n = 10000
	s, out, now := oneHostScheduler(t, n, 1)
	start, later := now.Add(-time.Second), now.Add(time.Hour)
	polling, next := out[0].URL(), 1
	allocs := testing.AllocsPerRun(50, func() {
		s.setNext(polling, later) // its poll ended: Run wakes
		got := s.freedDue(now, start)
		want := fmt.Sprintf("https://members.example.org/%d/feed.xml", next)
		if len(got) != 1 || got[0].URL() != want {
			t.Fatalf("after a poll's end the host's sources handed out are %v, want %s alone", jobURLs(got), want)
		}
		polling, next = want, next+1
	})
	if allocs > 100 {
		t.Errorf("handing out a freed host's next source made %.0f allocations with %d sources held back: it looks at them all", allocs, n)
	}
}

// TestFreedHostAfterReload: after a reload that removed the source held back next for its
// host, and listed the others in another order, the host's next source when it frees is
// the one still due, not the removed one, nor the one just polled.
func TestFreedHostAfterReload(t *testing.T) {
	s, out, now := oneHostScheduler(t, 3, 1)
	jobs := *s.jobs.Load()
	s.SetJobs([]Job{jobs[2], jobs[0]})          // jobs[1], held back next, removed
	s.setNext(out[0].URL(), now.Add(time.Hour)) // jobs[0]'s poll ended: due in an hour
	got := s.freedDue(now, now.Add(-time.Second))
	if len(got) != 1 || got[0].URL() != jobs[2].URL() {
		t.Errorf("after the reload the freed host's sources handed out are %v, want %s alone", jobURLs(got), jobs[2].URL())
	}
}

// jobURLs lists the jobs' sources.
func jobURLs(jobs []Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.URL()
	}
	return out
}
