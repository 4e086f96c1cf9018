package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// TestHungRedisKeepsDeadlines: a Redis that accepts and never answers (a stopped
// process, a host under swap) must not hold a caller past its context's deadline: the
// web front gives the store version one second before serving cached feeds, and
// go-redis by default waited its own 3 s read timeout, then retried.
func TestHungRedisKeepsDeadlines(t *testing.T) {
	p := redistest.Restartable(t)
	s, err := Open(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Version(ctx)
	// A bound ten times the deadline: go-redis's own timeouts took 5 s.
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second {
		t.Errorf("Version on a hung Redis: %v after %v; want the context's deadline, 200ms", err, took)
	}
}
