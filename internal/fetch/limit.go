package fetch

import (
	"context"
	"sync"
)

// limiter bounds concurrent requests per host name and overall. Waiting honours the context.
type limiter struct {
	perHost int           // <= 0: no per-host limit
	global  chan struct{} // nil: no global limit

	mu sync.Mutex
	// hosts holds the slots of the hosts with a request holding or waiting for one: a
	// host's entry goes when its last user leaves, so that the map does not keep every
	// host name ever asked for (article links, redirects) for the life of the process.
	hosts map[string]*hostSlots
}

// hostSlots is one host's semaphore and how many requests hold or wait for a slot of it.
type hostSlots struct {
	ch    chan struct{}
	users int
}

func newLimiter(perHost, global int) *limiter {
	l := &limiter{perHost: perHost, hosts: map[string]*hostSlots{}}
	if global > 0 {
		l.global = make(chan struct{}, global)
	}
	return l
}

// enter returns host's semaphore (nil when there is no per-host limit), counting the
// caller among its users until it calls leave.
func (l *limiter) enter(host string) chan struct{} {
	if l.perHost <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts[host]
	if h == nil {
		h = &hostSlots{ch: make(chan struct{}, l.perHost)}
		l.hosts[host] = h
	}
	h.users++
	return h.ch
}

// leave ends a use of host's semaphore begun with enter.
func (l *limiter) leave(host string) {
	if l.perHost <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.hosts[host]; h != nil {
		if h.users--; h.users <= 0 {
			delete(l.hosts, host)
		}
	}
}

// acquire takes a slot for host and then a global slot (in that order, so a request waiting on
// a busy host does not hold a global slot others could use). release must be called once.
func (l *limiter) acquire(ctx context.Context, host string) (release func(), err error) {
	s, err := l.hold(ctx, host)
	if err != nil {
		return nil, err
	}
	return s.release, nil
}

// hold is acquire, giving what the request holds as slots, which a redirect can move.
func (l *limiter) hold(ctx context.Context, host string) (*slots, error) {
	hs, err := l.take(ctx, host)
	if err != nil {
		return nil, err
	}
	return &slots{l: l, host: host, hs: hs, held: true}, nil
}

// take takes a slot of host, then a global one; on failure it holds neither.
func (l *limiter) take(ctx context.Context, host string) (chan struct{}, error) {
	hs := l.enter(host)
	if err := take(ctx, hs); err != nil {
		l.leave(host)
		return nil, err
	}
	if err := take(ctx, l.global); err != nil {
		give(hs)
		l.leave(host)
		return nil, err
	}
	return hs, nil
}

// give gives back a slot of host and a global one, taken with take.
func (l *limiter) give(host string, hs chan struct{}) {
	give(l.global)
	give(hs)
	l.leave(host)
}

// slots is what one request holds: a slot of its host and a global one.
type slots struct {
	l    *limiter
	mu   sync.Mutex
	host string
	hs   chan struct{} // host's semaphore, while held
	held bool
}

// release gives both slots back; it may be called more than once.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held {
		return
	}
	s.held = false
	s.l.give(s.host, s.hs)
}

// move takes the request's slots to host, where a redirect leads, so that the per-host
// limit holds for the hosts redirects lead to as well. Both slots are given back and
// taken again in hold's order, host first: a request holding a global slot while it
// waited for a host could wait on one holding that host's slot while it waits for a
// global slot; and two requests redirected to each other's hosts cannot wait on each
// other. When ctx ends first, the request holds nothing.
func (s *slots) move(ctx context.Context, host string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held || host == s.host {
		return nil
	}
	s.l.give(s.host, s.hs)
	s.held, s.host, s.hs = false, host, nil
	hs, err := s.l.take(ctx, host)
	if err != nil {
		return err
	}
	s.hs, s.held = hs, true
	return nil
}

func take(ctx context.Context, s chan struct{}) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}: // a free slot is taken at once, whatever the context says
		return nil
	default:
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func give(s chan struct{}) {
	if s != nil {
		<-s
	}
}
