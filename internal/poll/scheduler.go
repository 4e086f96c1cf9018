package poll

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Scheduler polls every source when it is due. Several processes may share one store:
// a source is polled by whichever process claims its lease, and a process re-reads the
// source's state after claiming it, so a source is polled once per interval network-wide.
//
// When it starts, it takes each source's next poll time (and Retry-After) from the
// store, so backoff and rate limits survive a restart; sources due already are spread
// over Spread, as are the first polls of sources a reload adds. A host is skipped as a
// whole only while every one of its sources is under a Retry-After: one rate-limited
// path does not stall the host's other feeds.
type Scheduler struct {
	Refresher *Refresher
	Store     Store
	Log       *slog.Logger
	Owner     string        // this process's lease owner id
	Workers   int           // concurrent refreshes
	LeaseTTL  time.Duration // how long a lease lives without renewal (default 2 minutes)
	Tick      time.Duration // how often due sources are looked for (default 1s)
	// Spread is the window over which first polls after a start, or of the sources a
	// reload adds, are spread (default 30s).
	Spread time.Duration
	// Grace is how long in-flight refreshes may go on after Run's context ends before
	// they are cancelled (abandoned without recording anything). Default 10s; negative: none.
	Grace time.Duration
	// Progress, when set, is called after every refresh the scheduler runs.
	Progress func(Result)

	jobs    atomic.Pointer[[]Job]
	mu      sync.Mutex
	next    map[string]time.Time
	refused map[string]time.Time // source URL -> its Retry-After
	busy    map[string]bool
	// heldBack holds, for each host of which due held back due sources, their per_host
	// polls being in flight, those sources (indexes into heldFrom, the jobs due looked at),
	// in the order of the jobs. The end of one of the host's polls marks the host freed
	// (freedHosts) and wakes Run (wake) to hand its next source out then (freedDue), not
	// at the next tick, which would let a host be polled no more than per_host times a
	// tick however fast it answers.
	heldBack   map[string][]int
	heldFrom   *[]Job
	freedHosts map[string]bool
	wake       chan struct{}
	// busyHost is the host each busy source's poll was counted against (pollHost).
	busyHost map[string]string
	// sooner holds, for a source a reload moved to another member, when the reload was
	// and the latest its next poll may be, until that poll starts: a poll in flight at the
	// reload sets the next poll by the old member's state when it finishes, and the
	// stored state is the old member's.
	sooner map[string]reloaded
	// known holds what NextPoll needs of each source's state as this process last saw it
	// (at start, or at its poll), for a reload to put its next poll where a start would.
	known map[string]news.SourceState
	// longest holds each source's longest wait when the jobs were last set
	// (longestWaits), for a reload to tell which it shortens.
	longest map[string]time.Duration
	storeOK atomic.Bool
}

// SourceLister is implemented by stores that can list every source's state (with the
// newest poll of its history only); the scheduler uses it to seed next poll times at
// start, and a poll of every source to order them (slowestFirst).
type SourceLister interface {
	SourceStates(ctx context.Context) ([]news.SourceState, error)
}

// SetJobs replaces the set of sources (config reload: the config first, then the jobs);
// in-flight refreshes go on. A source whose own interval the reload set, or whose
// longest wait it shortened (its own interval, or max_interval for a source without
// one), is next polled when a start under the new config would poll it, and the
// dashboard shows (reloadedNext); other changes apply from the source's next poll.
func (s *Scheduler) SetJobs(jobs []Job) {
	longest := s.longestWaits(jobs)
	old := s.jobs.Swap(&jobs)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.longest
	s.longest = longest
	if old == nil || s.sooner == nil {
		return // not running yet: the first polls come from the store and the spread
	}
	own := make(map[string]bool, len(*old))
	member := make(map[string]string, len(*old))
	for _, j := range *old {
		own[j.URL()] = j.Source.Interval > 0
		member[j.URL()] = memberID(j)
	}
	for _, j := range jobs {
		u := j.URL()
		if m, ok := member[u]; ok && m != memberID(j) {
			// Its member's id changed (or the source moved to another member): one
			// member removed and one added, whose first poll is spread as an added
			// source's is, not left to the old member's schedule (its items are no
			// longer shown meanwhile). Kept until that poll, as a shortened interval is.
			by := now.Add(spreadOffset(u, s.Spread))
			s.sooner[u] = reloaded{at: now, by: by}
			s.bringForward(u, by)
			continue
		}
		prev, known := was[u]
		d := longest[u]
		set := j.Source.Interval > 0 && !own[u]
		if !known || d <= 0 || !(set || d < prev) {
			continue
		}
		// A poll in flight, finishing, and the stored state, which has the old wait, are
		// held to the new one as this is (finished, pollOne).
		s.bringForward(u, s.reloadedNext(j, d, now))
	}
}

// reloadedNext is the next poll of a source whose longest wait a reload shortened to d
// (mu held): the one NextPoll gives for the state this process last saw of it, as a start
// under the new config would have it and the dashboard shows (its last poll plus the
// wait now allowed; a Retry-After and the backoff hold). One already past is due within
// the spread of added sources, so that a reload does not poll every overdue source at
// once. Of a source whose state it has not seen, no later than d from now. Another
// process may have polled the source since: pollOne then takes the stored next poll.
func (s *Scheduler) reloadedNext(j Job, d time.Duration, now time.Time) time.Time {
	st, ok := s.known[j.URL()]
	if !ok {
		return now.Add(d)
	}
	if n := s.held(j, st).NextPoll; n.After(now) {
		return n
	}
	return now.Add(spreadOffset(j.URL(), s.Spread))
}

// remember keeps what NextPoll needs of a source's state (mu held).
func (s *Scheduler) remember(st news.SourceState) {
	if s.known == nil {
		s.known = map[string]news.SourceState{}
	}
	s.known[st.URL] = news.SourceState{URL: st.URL, Member: st.Member, LastPoll: st.LastPoll, NextPoll: st.NextPoll,
		RetryAfter: st.RetryAfter, Failures: st.Failures, Health: st.Health, FeedURL: st.FeedURL, Redirect: st.Redirect}
}

// longestWaits gives, for each job, the longest a healthy poll of it waits under the
// config in use (bounds): its own interval, or max_interval; without a config, its own
// interval or 0.
func (s *Scheduler) longestWaits(jobs []Job) map[string]time.Duration {
	var cfg *config.Config
	if s.Refresher != nil && s.Refresher.Config != nil {
		cfg = s.Refresher.Config()
	}
	out := make(map[string]time.Duration, len(jobs))
	for _, j := range jobs {
		d := j.Source.Interval.D()
		if cfg != nil {
			_, _, d = bounds(cfg, j)
		}
		out[j.URL()] = d
	}
	return out
}

// reloaded is a reload that shortened a source's interval: when it was, and the latest
// the source's next poll may be.
type reloaded struct{ at, by time.Time }

// bringForward moves u's next poll to t when it is later, but not before its
// Retry-After (mu held).
func (s *Scheduler) bringForward(u string, t time.Time) {
	n, ok := s.next[u]
	if !ok || !n.After(t) {
		return
	}
	if ra, refused := s.refused[u]; refused && ra.After(t) {
		t = ra
	}
	s.next[u] = t
}

// Ready reports whether the store answered on the last attempt.
func (s *Scheduler) Ready() bool { return s.storeOK.Load() }

func (s *Scheduler) defaults() {
	if s.Workers <= 0 {
		s.Workers = 8
	}
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = 2 * time.Minute
	}
	if s.Tick <= 0 {
		s.Tick = time.Second
	}
	if s.Spread <= 0 {
		s.Spread = 30 * time.Second
	}
	if s.Grace < 0 {
		s.Grace = 0
	} else if s.Grace == 0 {
		s.Grace = 10 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
}

// Run polls due sources until ctx is done, then lets in-flight refreshes finish for up
// to Grace before cancelling them, and returns when every worker has stopped.
func (s *Scheduler) Run(ctx context.Context) error {
	s.defaults()
	s.storeOK.Store(true)
	s.mu.Lock()
	s.next = map[string]time.Time{}
	s.refused = map[string]time.Time{}
	s.busy = map[string]bool{}
	s.busyHost = map[string]string{}
	s.heldBack, s.heldFrom, s.freedHosts = nil, nil, nil
	s.wake = make(chan struct{}, 1)
	wake := s.wake
	s.sooner = map[string]reloaded{}
	s.mu.Unlock()
	s.seed(ctx, time.Now())

	// Workers run on a context that outlives ctx by Grace.
	wctx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	work := make(chan Job)
	var wg sync.WaitGroup
	for range s.Workers {
		wg.Go(func() {
			for j := range work {
				s.pollOne(wctx, j)
			}
		})
	}
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	start := time.Now()
	woken := false
	for {
		now := time.Now()
		look := s.due
		if woken {
			look = s.freedDue
		}
		for _, j := range look(now, start) {
			// Once ctx has ended, a free worker must not take a job: select would pick
			// either ready case at random, starting new polls after a shutdown began.
			if ctx.Err() == nil {
				select {
				case work <- j:
					continue
				case <-ctx.Done():
				}
			}
			s.setNext(j.URL(), now) // not started: due again at the next start
		}
		select {
		case <-ctx.Done():
			close(work)
			drained := make(chan struct{})
			go func() { wg.Wait(); close(drained) }()
			grace := time.NewTimer(s.Grace)
			defer grace.Stop()
			select {
			case <-drained:
			case <-grace.C:
				s.Log.Warn("abandoning in-flight polls", "grace", s.Grace)
				cancelWork()
				<-drained
			}
			return nil
		case <-t.C:
			woken = false
		case <-wake: // a poll ended on a host whose due sources were held back
			woken = true
		}
	}
}

// seed takes next poll times from the store: a source whose NextPoll or Retry-After is
// still ahead waits for it, no longer than the config in use allows (held); others are
// spread over the start window. The jobs are set before.
func (s *Scheduler) seed(ctx context.Context, now time.Time) {
	ls, ok := s.Store.(SourceLister)
	if !ok {
		return
	}
	states, err := ls.SourceStates(ctx)
	if err != nil {
		s.Log.Warn("read source states at start: first polls spread over the start window", "err", err)
		return
	}
	jobs := map[string]Job{}
	if js := s.jobs.Load(); js != nil {
		for _, j := range *js {
			jobs[j.URL()] = j
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range states {
		if j, ok := jobs[st.URL]; ok {
			st = s.held(j, st)
		}
		s.remember(st)
		s.noteState(st.URL, st.NextPoll, st.RetryAfter, now)
	}
}

// held returns a source's stored state with its next poll no later than the config in
// use allows (latestNextPoll): one recorded under an earlier config, with a longer
// interval, max_interval or backoff, waits no longer after a restart (or a reload
// another process made) than one recorded under this one would. A state another member
// left holds only its Retry-After.
func (s *Scheduler) held(j Job, st news.SourceState) news.SourceState {
	if st.LeftBy(memberID(j)) {
		// A state another member left (its member's id changed, or the source moved)
		// schedules nothing for this one: Refresh starts it afresh, and it is due as an
		// added source is. The server's Retry-After still holds.
		return news.SourceState{URL: st.URL, RetryAfter: st.RetryAfter}
	}
	if s.Refresher == nil || s.Refresher.Config == nil {
		return st
	}
	cfg := s.Refresher.Config()
	if cfg == nil {
		return st
	}
	st.NextPoll = NextPoll(cfg, j.Source, st)
	return st
}

// NextPoll is when a source of state st is next polled under cfg: its stored next poll,
// held to what cfg allows (latestNextPoll), as a scheduler running cfg takes it at a
// start, at a reload and when the source comes due. The dashboard shows it: a next poll
// recorded under an earlier config is not the one that holds.
func NextPoll(cfg *config.Config, src config.Source, st news.SourceState) time.Time {
	if cfg == nil {
		return st.NextPoll
	}
	if latest := latestNextPoll(cfg, Job{Source: src}, st); !latest.IsZero() && st.NextPoll.After(latest) {
		return latest
	}
	return st.NextPoll
}

// memberID is the id of a job's member ("" for a job without one).
func memberID(j Job) string {
	if j.Member == nil {
		return ""
	}
	return j.Member.ID
}

// noteState records a source's next poll time and Retry-After (mu held).
func (s *Scheduler) noteState(u string, next, retryAfter, now time.Time) {
	if retryAfter.After(next) {
		next = retryAfter
	}
	if next.After(now) {
		s.next[u] = next
	}
	if retryAfter.After(now) {
		s.refused[u] = retryAfter
	} else {
		delete(s.refused, u)
	}
}

// due returns the jobs whose time has come and marks them busy.
func (s *Scheduler) due(now, start time.Time) []Job {
	jobs := s.jobs.Load()
	if jobs == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	blocked := s.blockedHosts(*jobs, now)
	inflight, perHost := s.inflightHosts()
	s.heldBack, s.heldFrom, s.freedHosts = nil, jobs, nil
	var out []Job
	for i, j := range *jobs {
		u := j.URL()
		if s.busy[u] {
			continue
		}
		n, ok := s.next[u]
		if !ok {
			// First sight: the first polls after a start are spread over the window
			// from the start; those of sources a reload adds, over the window from
			// now, so that adding many members does not poll them all at once.
			from := start
			if now.Sub(start) >= s.Spread {
				from = now
			}
			n = from.Add(spreadOffset(u, s.Spread))
			s.next[u] = n
		}
		if len(blocked) > 0 { // a URL parse for every source, at every look, only when needed
			if until, ok := blocked[hostOf(u)]; ok && until.After(n) {
				n = until
			}
		}
		if !now.Before(n) {
			if inflight != nil {
				h := s.pollHost(j)
				if inflight[h] >= perHost {
					// Due still: taken when one of its host's polls ends (freed, freedDue).
					if s.heldBack == nil {
						s.heldBack = map[string][]int{}
					}
					s.heldBack[h] = append(s.heldBack[h], i)
					continue
				}
				inflight[h]++
				if s.busyHost == nil {
					s.busyHost = map[string]string{}
				}
				s.busyHost[u] = h
			}
			s.busy[u] = true
			out = append(out, j)
		}
	}
	return out
}

// freedDue is Run's look when polls ended on hosts of which due held sources back
// (freedHosts): it hands out those hosts' held-back sources, in due's order, as many as
// each host's per_host then allows, and marks them busy. It looks at those sources only:
// due looks at every source, parsing each due one's URL, and with a host of many due
// sources (many members on one platform) a look at each of its polls' ends made n² URL
// parses a round for n sources. The sources held back stay due meanwhile: only their
// polls, not begun, set their next polls later. Sources that came due since due looked
// wait for the next tick. After a reload that replaced the jobs (the held-back ones may
// be gone or changed), or lifted per_host, it looks at every source (due).
func (s *Scheduler) freedDue(now, start time.Time) []Job {
	s.mu.Lock()
	jobs := s.jobs.Load()
	inflight, perHost := s.inflightHosts()
	if jobs == nil || jobs != s.heldFrom || inflight == nil {
		s.mu.Unlock()
		return s.due(now, start)
	}
	defer s.mu.Unlock()
	var out []Job
	for h := range s.freedHosts {
		held := s.heldBack[h]
		for len(held) > 0 && inflight[h] < perHost {
			j := (*jobs)[held[0]]
			held = held[1:]
			u := j.URL()
			if s.busy[u] {
				continue // a source listed twice (by two members), handed out already
			}
			inflight[h]++
			s.busyHost[u] = h
			s.busy[u] = true
			out = append(out, j)
		}
		if len(held) == 0 {
			delete(s.heldBack, h)
		} else {
			s.heldBack[h] = held
		}
	}
	s.freedHosts = nil
	return out
}

// inflightHosts counts the sources being polled per host when the config limits
// requests per host (fetch.per_host), and gives that limit; nil when it does not (mu
// held). A host's sources are handed to workers no more than per_host at a time: the
// others would wait in their workers for one of the host's request slots, and a slow
// host with as many sources due as there are workers would hold every worker, leaving
// the other hosts' sources unpolled until it answered.
func (s *Scheduler) inflightHosts() (map[string]int, int) {
	if s.Refresher == nil || s.Refresher.Config == nil {
		return nil, 0
	}
	cfg := s.Refresher.Config()
	if cfg == nil || cfg.Fetch.PerHost <= 0 {
		return nil, 0
	}
	inflight := map[string]int{}
	for u := range s.busy {
		inflight[s.busyHostOf(u)]++
	}
	return inflight, cfg.Fetch.PerHost
}

// pollHost is the host a poll of j waits on for its request slots (mu held), as its last
// poll saw: that of the feed its page advertised when the poll reads that feed instead of
// the page (collectOnce); else that of the address it moved to (301, 308), where the
// request's slot moves (fetch); else its own. Pages whose feeds are on one shared host,
// or feeds that moved to one, would otherwise be handed out all at once, each holding a
// worker while it waited for that host's slots.
func (s *Scheduler) pollHost(j Job) string {
	u := j.URL()
	var to string
	if st, ok := s.known[u]; ok && !st.LeftBy(memberID(j)) {
		if st.FeedURL != "" && j.Source.Kind() != "feed" && j.Source.Select == nil {
			to = st.FeedURL
		} else {
			to = st.Redirect
		}
	}
	if h := hostOf(to); h != "" {
		return h
	}
	return hostOf(u)
}

// busyHostOf is the host source u's poll in flight was counted against (mu held).
func (s *Scheduler) busyHostOf(u string) string {
	if h, ok := s.busyHost[u]; ok {
		return h
	}
	return hostOf(u)
}

// blockedHosts returns, for each host whose every source is under a Retry-After, the
// time the first of them lifts (mu held).
func (s *Scheduler) blockedHosts(jobs []Job, now time.Time) map[string]time.Time {
	if len(s.refused) == 0 {
		return nil
	}
	type hostState struct {
		until   time.Time
		allDown bool
	}
	hosts := map[string]*hostState{}
	for _, j := range jobs {
		u := j.URL()
		h := hostOf(u)
		hs := hosts[h]
		if hs == nil {
			hs = &hostState{allDown: true}
			hosts[h] = hs
		}
		ra, ok := s.refused[u]
		if !ok || !ra.After(now) {
			hs.allDown = false
			continue
		}
		if hs.until.IsZero() || ra.Before(hs.until) {
			hs.until = ra
		}
	}
	out := map[string]time.Time{}
	for h, hs := range hosts {
		if hs.allDown {
			out[h] = hs.until
		}
	}
	return out
}

// Due reports when source u is next due, as the scheduler has it; false while it is
// being polled, and for a source it has not seen. For the queue-lag gauge: the store
// has no next poll for a source never polled.
func (s *Scheduler) Due(u string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.next[u]
	return n, ok && !s.busy[u]
}

// HostBlocked reports whether every source of host is under a Retry-After, and until when.
func (s *Scheduler) HostBlocked(host string, now time.Time) (time.Time, bool) {
	jobs := s.jobs.Load()
	if jobs == nil {
		return time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.blockedHosts(*jobs, now)[strings.ToLower(host)]
	return until, ok
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

func spreadOffset(u string, window time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(u))
	return time.Duration(h.Sum64() % uint64(window))
}

func (s *Scheduler) setNext(u string, t time.Time) {
	s.mu.Lock()
	s.next[u] = t
	s.freed(u)
	s.mu.Unlock()
}

// freed ends source u's poll (mu held), waking Run when due held back a source of its
// host (heldBack) for freedDue to hand out.
func (s *Scheduler) freed(u string) {
	h := s.busyHostOf(u)
	delete(s.busy, u)
	delete(s.busyHost, u)
	if len(s.heldBack[h]) > 0 {
		if s.freedHosts == nil {
			s.freedHosts = map[string]bool{}
		}
		s.freedHosts[h] = true
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// finished records a refresh's outcome: its next poll time, held to what the config in
// use allows (a refresh recorded under the config before a reload waits no longer than
// one under this one), and any Retry-After.
func (s *Scheduler) finished(j Job, st news.SourceState, now time.Time) {
	u := j.URL()
	st.URL = u
	st = s.held(j, st)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.freed(u)
	s.remember(st)
	s.next[u] = now // overwritten below unless the state has no time ahead
	s.noteState(u, st.NextPoll, st.RetryAfter, now)
	if r, ok := s.sooner[u]; ok { // a reload moved it to another member meanwhile
		s.bringForward(u, r.by)
	}
}

// pollOne claims the source's lease, checks it is still due, refreshes it and releases.
func (s *Scheduler) pollOne(ctx context.Context, j Job) {
	u := j.URL()
	now := time.Now()
	lease := sourceLease{st: s.Store, url: u, owner: s.Owner, ttl: s.LeaseTTL}
	ok, err := lease.claim(ctx)
	if err != nil {
		s.storeDown(err)
		s.setNext(u, now.Add(5*time.Second+spreadOffset(u, 5*time.Second)))
		return
	}
	if !s.storeOK.Swap(true) {
		s.Log.Info("store available again: polling resumed")
	}
	if !ok {
		// Another process is polling it: look again when it should be done.
		s.setNext(u, now.Add(s.LeaseTTL/4+spreadOffset(u, s.LeaseTTL/4)))
		return
	}
	ctx, release := lease.hold(ctx, s.Log.With("member", j.Member.ID, "source", u))
	defer release()
	s.mu.Lock()
	r, sooner := s.sooner[u] // a reload moved it to another member: the stored next poll may be the old one's
	delete(s.sooner, u)
	s.mu.Unlock()
	st, err := s.Store.Source(ctx, u)
	if err == nil {
		st = s.held(j, st) // as seed had it: a next poll of an earlier config does not hold
	}
	// The stored next poll is the old member's unless a poll since the reload, by this
	// process or another sharing the store, recorded it for the new one: then it holds.
	sooner = sooner && st.LastPoll.Before(r.at)
	switch {
	case err == nil && ((st.NextPoll.After(now) && !sooner) || st.RetryAfter.After(now)):
		s.finished(j, st, now) // polled meanwhile by another process, or still refused
		return
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.storeDown(err)
		s.setNext(u, now.Add(5*time.Second))
		return
	}
	res := s.Refresher.Refresh(ctx, j)
	if s.Progress != nil {
		s.Progress(res)
	}
	switch {
	case errors.Is(res.Err, store.ErrUnavailable):
		s.storeDown(res.Err)
		s.setNext(u, time.Now().Add(5*time.Second))
	case errors.Is(res.Err, context.Canceled) || res.NextPoll.IsZero():
		// Abandoned at shutdown, or nothing recorded (the source's state unreadable): due
		// again after the source's interval (its own, or fetch.interval), nothing having
		// been learned of it.
		interval, _, _ := bounds(s.Refresher.Config(), j)
		s.setNext(u, time.Now().Add(interval))
	default:
		s.finished(j, res.recorded, time.Now())
	}
}

// sourceLease is the lease a process holds on a source while it polls it, so that of the
// processes sharing a store (serve workers, and `networkfeed poll` beside them) one polls
// it at a time.
type sourceLease struct {
	st         Store
	url, owner string
	ttl        time.Duration
}

func (l sourceLease) name() string { return LeaseName(l.url) }

// LeaseName is the name of the lease a process holds on the source at url while it
// polls it (`prune` takes it too while it removes the source's items).
func LeaseName(url string) string { return "poll:" + url }

// claim takes the lease, or renews it; false when another process holds it.
func (l sourceLease) claim(ctx context.Context) (bool, error) {
	// The stores' errors name the lease ("claim lease poll:…", "redis claim poll:…").
	return l.st.Claim(ctx, l.name(), l.owner, l.ttl)
}

// hold keeps a claimed lease, renewing it every third of its TTL, until release, which
// gives it back; the context it returns ends with release, or when a renewal finds the
// lease held by another process (plain cancellation, as at a shutdown: the refresh then
// records nothing).
func (l sourceLease) hold(ctx context.Context, log *slog.Logger) (context.Context, func()) {
	hctx, cancel := context.WithCancel(ctx)
	renewing := make(chan struct{})
	go func() {
		defer close(renewing)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				ok, err := l.claim(hctx)
				switch {
				case err != nil && hctx.Err() == nil:
					log.Warn("renew lease", "lease", l.name(), "err", err)
				case err == nil && !ok && hctx.Err() == nil: // not one released meanwhile
					// Ours expired (the store was unreachable or hung for longer than
					// the TTL) and another process took it: it is fetching the source
					// now. Going on would fetch it twice at once and write this poll's
					// state over the other's, so this poll is abandoned, recording
					// nothing (a store write already begun is let finish).
					log.Warn("lease lost to another process: poll abandoned", "lease", l.name())
					cancel()
					return
				}
			}
		}
	}()
	return hctx, func() {
		cancel()
		// A renewal already sent would take the lease again after the release (a Claim
		// of a free lease takes it), leaving it held, unpolled, for a TTL: the release
		// waits for it.
		<-renewing
		l.st.Release(context.WithoutCancel(ctx), l.name(), l.owner)
	}
}

// NewOwner names this process as a lease owner: host, process id and a random part (a
// restarted process is a new owner).
func NewOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// sharedStore is implemented by stores that several processes may use at once (Redis;
// the embedded store's file is locked by the process that opened it).
type sharedStore interface{ Shared() bool }

// ErrBusy is the result of a source PollEach left alone because another process (a
// serve worker) holds its lease: it is being polled right now.
var ErrBusy = errors.New("being polled by another process")

// pollLeaseTTL is how long a lease PollEach takes lives without renewal (a variable for
// the tests, which shorten it to see renewals).
var pollLeaseTTL = 2 * time.Minute

// refreshLeased refreshes j under the source's lease, as a serve worker does (pollOne),
// so that a poll run beside serve workers on one store never fetches a source one of
// them is polling, nor overwrites the state it writes; a source whose lease another
// process holds is left alone (ErrBusy).
func (r *Refresher) refreshLeased(ctx context.Context, j Job, owner string) Result {
	if sh, ok := r.Store.(sharedStore); !ok || !sh.Shared() {
		return r.Refresh(ctx, j) // no other process can be polling it
	}
	u := j.URL()
	lease := sourceLease{st: r.Store, url: u, owner: owner, ttl: pollLeaseTTL}
	switch ok, err := lease.claim(ctx); {
	case err != nil:
		return Result{URL: u, Member: j.Member.ID, Err: err}
	case !ok:
		return Result{URL: u, Member: j.Member.ID, Err: ErrBusy}
	}
	hctx, release := lease.hold(ctx, r.Log.With("member", j.Member.ID, "source", u))
	defer release()
	res := r.Refresh(hctx, j)
	if errors.Is(res.Err, context.Canceled) && ctx.Err() == nil {
		res.Err = ErrBusy // its lease was lost to another process, which polls it now
	}
	return res
}

// storeDown pauses polling (sources are tried again every few seconds, until one's
// lease can be claimed) and says so once, in the words of err: a store that cannot be
// reached, or one that answers but refuses writes (Redis out of memory under
// maxmemory), which claiming a lease is.
func (s *Scheduler) storeDown(err error) {
	if s.storeOK.Swap(false) {
		msg := "store unavailable: polling paused"
		if errors.Is(err, store.ErrWrite) {
			msg = "store refuses writes: polling paused"
		}
		s.Log.Error(msg, "err", err)
	}
}

// PollAll refreshes every job once with n workers (see PollEach); progress, when set, is
// called after each refresh with the counts so far. Results are in the order of jobs.
func PollAll(ctx context.Context, r *Refresher, jobs []Job, n int, progress func(done, total, failed int, res Result)) []Result {
	results := make([]Result, len(jobs))
	PollEach(ctx, r, jobs, n, func(i, done, failed int, res Result) {
		results[i] = res
		if progress != nil {
			progress(done, len(jobs), failed, res)
		}
	})
	return results
}

// PollEach refreshes every job once with n workers (the `poll` command) and hands each
// result, with its job's index and the counts so far, to each (one call at a time),
// keeping none: a poll of many sources holds only what each wants of them. The
// refreshes start slowest first (slowestFirst). A source whose server asked
// (Retry-After) not to be polled before a time still ahead is not fetched: its result
// is an ErrRetryAfter, and its recorded state stays as it is.
func PollEach(ctx context.Context, r *Refresher, jobs []Job, n int, each func(i, done, failed int, res Result)) {
	if n <= 0 {
		n = 8
	}
	order, refused := slowestFirst(ctx, r.Store, jobs, r.Now())
	owner := NewOwner()
	idx := make(chan int)
	var mu sync.Mutex
	done, failed := 0, 0
	var wg sync.WaitGroup
	for range min(n, max(len(jobs), 1)) {
		wg.Go(func() {
			for i := range idx {
				var res Result
				if until, ok := refused[jobs[i].URL()]; ok {
					res = Result{URL: jobs[i].URL(), Member: jobs[i].Member.ID, RetryAfter: until,
						Err: fmt.Errorf("%w (until %s)", ErrRetryAfter, until.UTC().Format(time.RFC3339))}
				} else {
					res = r.refreshLeased(ctx, jobs[i], owner)
				}
				mu.Lock()
				done++
				if res.Err != nil && !errors.Is(res.Err, ErrBusy) {
					failed++
				}
				each(i, done, failed, res)
				mu.Unlock()
			}
		})
	}
	for _, i := range order {
		select {
		case idx <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(idx)
	wg.Wait()
}

// slowestFirst orders the jobs of a poll of every source: those whose last poll took
// longest first, so that a slow server's wait overlaps the other sources' work instead
// of ending the poll after it; ties, and sources never polled, keep their order. A store
// that cannot list its sources, or fails to, leaves the order as it is. It also returns
// the sources under a Retry-After still ahead of now, with its time.
func slowestFirst(ctx context.Context, st Store, jobs []Job, now time.Time) ([]int, map[string]time.Time) {
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	l, ok := st.(SourceLister)
	if !ok {
		return order, nil
	}
	states, err := l.SourceStates(ctx)
	if err != nil {
		return order, nil
	}
	took := make(map[string]time.Duration, len(states))
	refused := map[string]time.Time{}
	for _, s := range states {
		if len(s.History) > 0 {
			took[s.URL] = s.History[0].Duration
		}
		if s.RetryAfter.After(now) {
			refused[s.URL] = s.RetryAfter
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(took[jobs[b].URL()], took[jobs[a].URL()])
	})
	return order, refused
}
