package redisstore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// records is a slog.Handler that keeps each record's level and message.
type records struct {
	mu   sync.Mutex
	recs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// count returns how many records of level begin with prefix.
func (r *records) count(level slog.Level, prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.recs {
		if strings.HasPrefix(s, level.String()+" "+prefix) {
			n++
		}
	}
	return n
}

// A dial failure is a warning once per outage, its repeats debug records: go-redis
// logged one warning per command (and per retry) while Redis was away.
func TestDialFailureSaidOncePerOutage(t *testing.T) {
	var r records
	clock := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	l := &redisLog{log: slog.New(&r), now: func() time.Time { return clock }}
	const format = "redis: connection pool: failed to dial after %d attempts: %v"
	steps := []struct {
		advance time.Duration
		format  string
		want    slog.Level
	}{
		{0, format, slog.LevelWarn},
		{time.Second, format, slog.LevelDebug},
		{time.Second, "sentinel: GetMasterAddrByName name=%q failed: %s", slog.LevelWarn}, // not a dial failure
		{50 * time.Second, format, slog.LevelDebug},
		{50 * time.Second, format, slog.LevelDebug}, // a minute after the first, but not after the last
		{2 * time.Minute, format, slog.LevelWarn},   // another outage
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		l.Printf(t.Context(), s.format, 5, "connection refused")
		r.mu.Lock()
		got := r.recs[len(r.recs)-1]
		r.mu.Unlock()
		if !strings.HasPrefix(got, s.want.String()+" ") {
			t.Errorf("step %d: %q, want level %s", i, got, s.want)
		}
	}
}

// The same with go-redis's own messages, which must begin with dialFailure: a stopped
// Redis pinged again and again is one warning.
func TestDialFailureOfAStoppedRedis(t *testing.T) {
	p := redistest.Restartable(t)
	var r records
	LogTo(slog.New(&r))
	t.Cleanup(func() { LogTo(slog.Default()) })
	s, err := Open(t.Context(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.Stop()
	for range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		if err := s.Ping(ctx); err == nil {
			t.Fatal("a stopped Redis answered")
		}
		cancel()
	}
	if warned, repeats := r.count(slog.LevelWarn, dialFailure), r.count(slog.LevelDebug, dialFailure); warned != 1 || repeats == 0 {
		t.Errorf("%d warnings and %d debug records of a dial failure, want 1 and some (%q)", warned, repeats, r.recs)
	}
}
