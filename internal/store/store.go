// Package store defines what networkfeed keeps between polls and opens the backend
// named by a -store value: bbolt for a file path (the default), Redis for redis://,
// rediss://, redis+sentinel:// and redis+cluster:// URLs.
//
// Callers should declare the small interface they need (the poller an item writer,
// the web an item reader); Store is the union every backend implements and that the
// conformance suite in storetest checks.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps errors that mean the backend cannot be reached right now
// (Redis down); callers pause and retry rather than record a source failure.
var ErrUnavailable = errors.New("store unavailable")

// ErrWrite is what a *WriteError is (errors.Is): the backend answered but could not save
// a write (a full disk or an I/O error during the embedded store's commit; Redis
// refusing writes, out of memory under maxmemory or unable to persist). Unlike
// ErrUnavailable, retrying at once rarely helps (someone has to free space); like it,
// it is none of a source's doing, and the poller does not count it against one.
var ErrWrite = errors.New("store write failed")

// WriteError wraps the backend's error for a write it could not save; it is ErrWrite.
// Err says why in the backend's words, without the operation (Describe-style messages
// quote it).
type WriteError struct{ Err error }

func (e *WriteError) Error() string        { return "store write failed: " + e.Err.Error() }
func (e *WriteError) Unwrap() error        { return e.Err }
func (e *WriteError) Is(target error) bool { return target == ErrWrite }

// Store is everything a backend provides.
type Store interface {
	// Upsert writes items atomically, one by one: an item whose ID is already stored is
	// updated in place (its ID, FirstSeen and, when the new copy has no real date, its
	// Published time are kept; Updated moves only when title, summary, content, link or
	// image changed); an item whose ID is tombstoned is skipped; others are inserted.
	// Timeline and filter indexes change in the same step as the item.
	Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error)
	// Items returns the newest items matching q, newest first (by SortTime, then ID descending).
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	// Item returns one item by ID, or ErrNotFound.
	Item(ctx context.Context, id string) (news.Item, error)
	// ItemsByKey returns the stored items of member whose Key, or Canonical link (Link when Canonical is empty), is one of keys
	// (used by the identity stage to recognise re-keyed items).
	ItemsByKey(ctx context.Context, member string, keys []string) ([]news.Item, error)
	// CarryTombstones takes ids, each an item's ID as an earlier version gave it mapped to
	// the ID it has now (its key changed form: see identity.EarlierCanonical): when
	// retention removed the item under the earlier ID, its tombstone, with the time of the
	// trim, keeps it out under its ID of now too. It returns the earlier IDs found
	// tombstoned.
	CarryTombstones(ctx context.Context, ids map[string]string) ([]string, error)

	// Source returns one source's state, or ErrNotFound.
	Source(ctx context.Context, url string) (news.SourceState, error)
	// PutSource stores a source's state.
	PutSource(ctx context.Context, st news.SourceState) error
	// Sources returns every source's state.
	Sources(ctx context.Context) ([]news.SourceState, error)
	// SourceStates returns every source's state with only the newest record of its poll
	// history: what the scheduler, the gauges and a poll's ordering read, at a fraction of
	// the cost (a full history is 50 records).
	SourceStates(ctx context.Context) ([]news.SourceState, error)

	// Trim applies retention to one source: it keeps the newest maxItems items (0: no cap)
	// and drops items older than maxAge (0: no limit), leaving tombstones so that a trimmed
	// item never comes back as new. It returns how many items were removed.
	Trim(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error)

	// Forget removes every item member stored from source, with no tombstones, and
	// source's state (its history with it) when the state is member's: what `prune` does
	// to a member or source removed from the config. Items another member stored from
	// the same URL stay. With no tombstones, a member or source put back in the config
	// starts afresh: what its source lists then is stored again as new (under the same
	// IDs). It returns how many items were removed.
	Forget(ctx context.Context, member, source string) (int, error)

	// Version changes whenever stored items change; caches key on it.
	Version(ctx context.Context) (uint64, error)

	// Claim takes or renews a lease named name for owner for ttl; it reports whether owner holds it.
	Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Release gives up a lease held by owner.
	Release(ctx context.Context, name, owner string) error

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	Close() error
}
