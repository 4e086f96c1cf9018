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
	hs := l.hostSem(host)
	if err := take(ctx, hs); err != nil {
		return nil, err
	}
	if err := take(ctx, l.global); err != nil {
		give(hs)
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			give(l.global)
			give(hs)
		})
	}, nil
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
