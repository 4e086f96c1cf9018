package fetch

import (
	"context"
	"sync"
)

// limiter bounds concurrent requests per host name and overall. Waiting honours the context.
type limiter struct {
	perHost int           // <= 0: no per-host limit
	global  chan struct{} // nil: no global limit

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

func newLimiter(perHost, global int) *limiter {
	l := &limiter{perHost: perHost, hosts: map[string]chan struct{}{}}
	if global > 0 {
		l.global = make(chan struct{}, global)
	}
	return l
}

func (l *limiter) hostSem(host string) chan struct{} {
	if l.perHost <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.hosts[host]
	if s == nil {
		s = make(chan struct{}, l.perHost)
		l.hosts[host] = s
	}
	return s
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
	hs := l.hostSem(host)
	if err := take(ctx, hs); err != nil {
		return nil, err
	}
	if err := take(ctx, l.global); err != nil {
		give(hs)
		return nil, err
	}
	return &slots{l: l, host: host, held: true}, nil
}

// slots is what one request holds: a slot of its host and a global one.
type slots struct {
	l    *limiter
	mu   sync.Mutex
	host string
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
	give(s.l.global)
	give(s.l.hostSem(s.host))
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
	give(s.l.global)
	give(s.l.hostSem(s.host))
	s.held, s.host = false, host
	hs := s.l.hostSem(host)
	if err := take(ctx, hs); err != nil {
		return err
	}
	if err := take(ctx, s.l.global); err != nil {
		give(hs)
		return err
	}
	s.held = true
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
