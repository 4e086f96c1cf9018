package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// LogTo sends go-redis's own messages (a pool that cannot dial, a Sentinel failover…),
// which it otherwise prints to stderr as plain text, to log as warnings with
// component=redis, so that a process logging JSON keeps doing so while Redis is away.
// go-redis has one logger for the whole process: the last call wins.
func LogTo(log *slog.Logger) { redis.SetLogger(redisLog{log}) }

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
