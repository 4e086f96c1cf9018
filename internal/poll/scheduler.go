package poll

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iss-network/networkfeed/internal/store"
)

// Scheduler polls every source when it is due. Several processes may share one store:
// a source is polled by whichever process claims its lease, and a process re-reads the
// source's state after claiming it, so a source is polled once per interval network-wide.
type Scheduler struct {
	Refresher *Refresher
	Store     Store
	Log       *slog.Logger
	Owner     string        // this process's lease owner id
	Workers   int           // concurrent refreshes
	LeaseTTL  time.Duration // how long a lease lives without renewal (default 2 minutes)
	Tick      time.Duration // how often due sources are looked for (default 1s)
	// Spread is the window over which first polls after a start are spread (default 30s).
	Spread time.Duration

	jobs    atomic.Pointer[[]Job]
	mu      sync.Mutex
	next    map[string]time.Time
	busy    map[string]bool
	storeOK atomic.Bool
}

// SetJobs replaces the set of sources (config reload); in-flight refreshes go on.
func (s *Scheduler) SetJobs(jobs []Job) { s.jobs.Store(&jobs) }

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
	if s.Log == nil {
		s.Log = slog.Default()
	}
}

// Run polls due sources until ctx is done, then waits for in-flight refreshes.
func (s *Scheduler) Run(ctx context.Context) error {
	s.defaults()
	s.storeOK.Store(true)
	s.next = map[string]time.Time{}
	s.busy = map[string]bool{}
	work := make(chan Job)
	var wg sync.WaitGroup
	for range s.Workers {
		wg.Go(func() {
			for j := range work {
				s.pollOne(ctx, j)
			}
		})
	}
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	start := time.Now()
	for {
		now := time.Now()
		for _, j := range s.due(now, start) {
			select {
			case work <- j:
			case <-ctx.Done():
			}
		}
		select {
		case <-ctx.Done():
			close(work)
			wg.Wait()
			return nil
		case <-t.C:
		}
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
	var out []Job
	for _, j := range *jobs {
		u := j.URL()
		if s.busy[u] {
			continue
		}
		n, ok := s.next[u]
		if !ok {
			// First sight since start: spread the first polls over the window.
			n = start.Add(spreadOffset(u, s.Spread))
			s.next[u] = n
		}
		if !now.Before(n) {
			s.busy[u] = true
			out = append(out, j)
		}
	}
	return out
}

func spreadOffset(u string, window time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(u))
	return time.Duration(h.Sum64() % uint64(window))
}

func (s *Scheduler) setNext(u string, t time.Time) {
	s.mu.Lock()
	s.next[u] = t
	delete(s.busy, u)
	s.mu.Unlock()
}

// pollOne claims the source's lease, checks it is still due, refreshes it and releases.
func (s *Scheduler) pollOne(ctx context.Context, j Job) {
	u := j.URL()
	lease := "poll:" + u
	now := time.Now()
	ok, err := s.Store.Claim(ctx, lease, s.Owner, s.LeaseTTL)
	if err != nil {
		s.storeDown(err)
		s.setNext(u, now.Add(5*time.Second+spreadOffset(u, 5*time.Second)))
		return
	}
	s.storeOK.Store(true)
	if !ok {
		// Another process is polling it: look again when it should be done.
		s.setNext(u, now.Add(s.LeaseTTL/4+spreadOffset(u, s.LeaseTTL/4)))
		return
	}
	defer s.Store.Release(context.WithoutCancel(ctx), lease, s.Owner)
	st, err := s.Store.Source(ctx, u)
	switch {
	case err == nil && st.NextPoll.After(now):
		s.setNext(u, st.NextPoll) // polled meanwhile by another process
		return
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.storeDown(err)
		s.setNext(u, now.Add(5*time.Second))
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.renew(rctx, lease)
	res := s.Refresher.Refresh(rctx, j)
	if errors.Is(res.Err, store.ErrUnavailable) {
		s.storeDown(res.Err)
		s.setNext(u, time.Now().Add(5*time.Second))
		return
	}
	next := time.Now().Add(s.Refresher.Config().Fetch.Interval.D())
	if st, err := s.Store.Source(ctx, u); err == nil && !st.NextPoll.IsZero() {
		next = st.NextPoll
	}
	s.setNext(u, next)
}

func (s *Scheduler) renew(ctx context.Context, lease string) {
	t := time.NewTicker(s.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Store.Claim(ctx, lease, s.Owner, s.LeaseTTL); err != nil && ctx.Err() == nil {
				s.Log.Warn("renew lease", "lease", lease, "err", err)
			}
		}
	}
}

func (s *Scheduler) storeDown(err error) {
	if s.storeOK.Swap(false) {
		s.Log.Error("store unavailable: polling paused", "err", err)
	}
}

// PollAll refreshes every job once with n workers (the `poll` command); progress, when
// set, is called after each refresh with the counts so far.
func PollAll(ctx context.Context, r *Refresher, jobs []Job, n int, progress func(done, total, failed int, res Result)) []Result {
	if n <= 0 {
		n = 8
	}
	results := make([]Result, len(jobs))
	idx := make(chan int)
	var mu sync.Mutex
	done, failed := 0, 0
	var wg sync.WaitGroup
	for range min(n, max(len(jobs), 1)) {
		wg.Go(func() {
			for i := range idx {
				res := r.Refresh(ctx, jobs[i])
				results[i] = res
				mu.Lock()
				done++
				if res.Err != nil {
					failed++
				}
				if progress != nil {
					progress(done, len(jobs), failed, res)
				}
				mu.Unlock()
			}
		})
	}
	for i := range jobs {
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
	return results
}
