package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Source returns one source's state, or store.ErrNotFound.
func (s *Store) Source(ctx context.Context, url string) (news.SourceState, error) {
	var st news.SourceState
	v, err := s.c.HGet(ctx, s.srcKey(), url).Result()
	if errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("redis source %s: %w", url, store.ErrNotFound)
	}
	if err != nil {
		return st, s.fail(ctx, "redis source "+url, err)
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return st, fmt.Errorf("redis source %s: decode: %w", url, err)
	}
	return st, nil
}

// PutSource stores a source's state.
func (s *Store) PutSource(ctx context.Context, st news.SourceState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redis put source %s: encode: %w", st.URL, err)
	}
	if err := s.c.HSet(ctx, s.srcKey(), st.URL, b).Err(); err != nil {
		return s.fail(ctx, "redis put source "+st.URL, err)
	}
	return nil
}

// Sources returns every source's state, ordered by URL.
func (s *Store) Sources(ctx context.Context) ([]news.SourceState, error) {
	all, err := s.c.HGetAll(ctx, s.srcKey()).Result()
	if err != nil {
		return nil, s.fail(ctx, "redis sources", err)
	}
	out := make([]news.SourceState, 0, len(all))
	for url, v := range all {
		var st news.SourceState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return nil, fmt.Errorf("redis sources: decode %s: %w", url, err)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b news.SourceState) int { return strings.Compare(a.URL, b.URL) })
	return out, nil
}
