package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// LogTo sends go-redis's own messages (a pool that cannot dial, a Sentinel failover…),
// which it otherwise prints to stderr as plain text, to log as warnings with
// component=redis, so that a process logging JSON keeps doing so while Redis is away.
// go-redis has one logger for the whole process: the last call wins.
//
// A failure to dial is said once per outage: while Redis was away every command that
// needed a connection logged "failed to dial after 5 attempts", several a second until
// the pool stopped dialing (pool-size failures), beside the store's own "store
// unavailable". Its repeats are debug records, until dialQuiet passes without one.
func LogTo(log *slog.Logger) { redis.SetLogger(&redisLog{log: log, now: time.Now}) }

// dialFailure begins go-redis's message when its pool cannot dial (internal/pool).
const dialFailure = "redis: connection pool: failed to dial"

// dialQuiet is how long go-redis must go without a dial failure for its next one to be
// said again, as a new outage's. (A pool that stopped dialing probes Redis without a
// word until it answers, then dials again: a long outage is said once too.)
const dialQuiet = time.Minute

type redisLog struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	lastDialed time.Time // the last dial failure's
}

func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	level := slog.LevelWarn
	if strings.HasPrefix(format, dialFailure) && l.dialFailedAgain() {
		level = slog.LevelDebug
	}
	l.log.Log(ctx, level, fmt.Sprintf(format, v...), "component", "redis")
}

// dialFailedAgain notes a dial failure and reports whether one came less than
// dialQuiet before it.
func (l *redisLog) dialFailedAgain() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	again := !l.lastDialed.IsZero() && now.Sub(l.lastDialed) < dialQuiet
	l.lastDialed = now
	return again
}
