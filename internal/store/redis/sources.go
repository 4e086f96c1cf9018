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

// A source's state is a field of the hash "P src", its history cut to the newest poll,
// and its whole history a field of "P srch" (store.SplitHistory), written together.

// sourceScript reads a source's state (KEYS[1]) and its history (KEYS[2]) as of one
// moment when Redis discards the MULTI transaction Source reads them in (out of memory
// under maxmemory, Redis refuses every command queued in a transaction, reads too, but
// lets a script run until its first write, and this one has none). One source's fields
// are cheap through Lua; every source's are not (Sources). A
// read-modify-write of a source's state (the stored alerts) must not read a history
// that a write in between cut (store.JoinHistory would keep its newest record only).
var sourceScript = redis.NewScript(`return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}`)

// Source returns one source's state, or store.ErrNotFound.
func (s *Store) Source(ctx context.Context, url string) (news.SourceState, error) {
	var st news.SourceState
	pipe := s.c.TxPipeline() // the state and its history as of one moment
	state := pipe.HGet(ctx, s.srcKey(), url)
	hist := pipe.HGet(ctx, s.histKey(), url)
	_, err := pipe.Exec(ctx)
	v, h, found := state.Val(), hist.Val(), !errors.Is(state.Err(), redis.Nil)
	if redis.IsExecAbortError(err) { // Redis out of memory refuses transactions, reads too
		var r []any
		if r, err = sourceScript.Run(ctx, s.c, []string{s.srcKey(), s.histKey()}, url).Slice(); err == nil {
			if len(r) != 2 {
				return st, fmt.Errorf("redis source %s: %d replies, not 2", url, len(r))
			}
			v, found = r[0].(string) // nil: no such field
			h, _ = r[1].(string)
		}
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return st, s.fail(ctx, "redis source "+url, err)
	}
	if !found {
		return st, fmt.Errorf("redis source %s: %w", url, store.ErrNotFound)
	}
	if err := decodeSource(v, h, &st); err != nil {
		return st, fmt.Errorf("redis source %s: decode: %w", url, err)
	}
	return st, nil
}

// decodeSource decodes a source's state v and its history h ("" when it has none apart).
func decodeSource(v, h string, st *news.SourceState) error {
	if err := json.Unmarshal([]byte(v), st); err != nil {
		return err
	}
	if h != "" {
		var hist []news.PollRecord
		if err := json.Unmarshal([]byte(h), &hist); err != nil {
			return err
		}
		store.JoinHistory(st, hist)
	}
	return nil
}

// PutSource stores a source's state and its history, in one transaction.
func (s *Store) PutSource(ctx context.Context, st news.SourceState) error {
	state, hist := store.SplitHistory(st)
	b, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("redis put source %s: encode: %w", st.URL, err)
	}
	pipe := s.c.TxPipeline()
	pipe.HSet(ctx, s.srcKey(), st.URL, b)
	if hist == nil {
		pipe.HDel(ctx, s.histKey(), st.URL) // the state holds it all (store.SplitHistory)
	} else {
		h, err := json.Marshal(hist)
		if err != nil {
			return fmt.Errorf("redis put source %s: encode: %w", st.URL, err)
		}
		pipe.HSet(ctx, s.histKey(), st.URL, h)
	}
	if cmds, err := pipe.Exec(ctx); err != nil {
		return s.fail(ctx, "redis put source "+st.URL, txErr(err, cmds))
	}
	return nil
}

// Sources returns every source's state, ordered by URL.
func (s *Store) Sources(ctx context.Context) ([]news.SourceState, error) {
	pipe := s.c.TxPipeline() // the states and their histories as of one moment
	states := pipe.HGetAll(ctx, s.srcKey())
	hists := pipe.HGetAll(ctx, s.histKey())
	_, err := pipe.Exec(ctx)
	if redis.IsExecAbortError(err) {
		// Redis out of memory refuses transactions, reads too: the two are read apart
		// (a write may fall between them, few land while writes are refused). Not by a
		// script, as one source is: every source's history through Lua costs
		// redis-server four to five times the CPU (BenchmarkSources).
		plain := s.c.Pipeline()
		states, hists = plain.HGetAll(ctx, s.srcKey()), plain.HGetAll(ctx, s.histKey())
		_, err = plain.Exec(ctx)
	}
	if err != nil {
		return nil, s.fail(ctx, "redis sources", err)
	}
	return sortedSources(states.Val(), hists.Val(), false)
}

// SourceStates returns every source's state with the newest poll of its history only,
// ordered by URL.
func (s *Store) SourceStates(ctx context.Context) ([]news.SourceState, error) {
	all, err := s.c.HGetAll(ctx, s.srcKey()).Result()
	if err != nil {
		return nil, s.fail(ctx, "redis sources", err)
	}
	return sortedSources(all, nil, true)
}

// sortedSources decodes states (URL -> state) with their histories (URL -> history),
// ordered by URL; brief cuts each history to its newest poll (store.Brief).
func sortedSources(states, hists map[string]string, brief bool) ([]news.SourceState, error) {
	out := make([]news.SourceState, 0, len(states))
	for url, v := range states {
		var st news.SourceState
		if err := decodeSource(v, hists[url], &st); err != nil {
			return nil, fmt.Errorf("redis sources: decode %s: %w", url, err)
		}
		if brief {
			store.Brief(&st)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b news.SourceState) int { return strings.Compare(a.URL, b.URL) })
	return out, nil
}
