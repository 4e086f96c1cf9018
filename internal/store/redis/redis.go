// Package redisstore keeps networkfeed's items, source states and leases in Redis
// (standalone, Sentinel-managed or Redis Cluster), through one redis.UniversalClient.
//
// # DSN forms
//
//	redis://[user:pass@]host:port[/db][?options]                standalone
//	rediss://[user:pass@]host:port[/db][?options]               standalone over TLS
//	redis+sentinel://[user:pass@]h1:p1,h2:p2/mastername[/db][?options]
//	redis+cluster://[user:pass@]h1:p1,h2:p2,...[?options]       seed nodes of a Redis Cluster
//
// rediss+sentinel:// and rediss+cluster:// use TLS too. A missing port is 6379; a missing
// db is 0. user:pass authenticate to the data nodes (sentinels: see options). Options:
//
//	network=NAME           key namespace, default "nf" (several networks may share one Redis)
//	dial_timeout=5s, read_timeout=3s, write_timeout=3s, pool_size=20, max_retries=3
//	sentinel_username=U, sentinel_password=P   (redis+sentinel only)
//	skip_verify=true       (rediss only: do not verify the server certificate)
//
// # Layout
//
// Every key of a network starts with "{NAME}:", so all of them carry the same hash tag
// and live in one Cluster hash slot: multi-key commands and Lua scripts work on Cluster
// unchanged, and each write is one atomic script. The consequence is that one network
// lives on one cluster node (its replicas give availability, not write scaling); run
// several networks to spread load. Keys ("P" is "{NAME}:"):
//
//	P i:ID              one item, encoded (see codec.go)
//	P k                 hash: "k" member NUL Key -> ID and "c" member NUL canonical link -> ID
//	P z:all             sorted set of IDs, score = SortTime in unix milliseconds
//	P z:m:MEMBER, z:c:COUNTRY, z:r:REGION, z:l:LANG, z:s:SOURCE   the same per field
//	P tz                sorted set of trimmed IDs, score = when trimmed (Unix seconds): not
//	                    stored again while younger than retention's max_age (tombs.go)
//	P tomb              set of trimmed IDs written by earlier versions, moved into P tz
//	P ver               counter, incremented by every change of an item
//	P src               hash: source URL -> JSON news.SourceState
//	P lease:NAME        lease owner, with a TTL
//	P fl                stream of story filings: each new item's ID and story keys (filings.go)
//	P cl, P ca          clusters across members: clusters, items' cluster state (cluster.go)
//	P sy, P uf          stories, and how far the sweep of old stories got (unfile.go)
//
// Items are ordered by SortTime at millisecond precision, then by ID descending, which
// is the sorted sets' own order (equal scores sort by member bytes). Times finer than a
// millisecond do not affect order or cursors.
//
// Items reads the smallest sorted set the query restricts to (members, country, region
// or language; several members' sets are merged client-side) in pages, and checks the
// other conditions in Go; a query with only Text or Category on a large store therefore
// scans (about 4 s per million items). Upsert runs one compare-and-set Lua script per
// batch of up to 256 items, and a second one when new items must be clustered with
// copies written meanwhile (tested against Redis 7.0).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Store is a Redis-backed store.Store.
type Store struct {
	c redis.UniversalClient
	p string // key prefix "{network}:"
	// lookups counts the index fields and items cluster decisions read (for benchmarks).
	lookups atomic.Uint64
	// united counts new items put in one cluster with a copy of their story written
	// while their cluster was being decided (see cluster.go).
	united atomic.Uint64
	// badFilings counts the entries of the stream of filings passed over as malformed.
	badFilings atomic.Uint64
	// beforeWrite, when set (tests only), runs between planning a batch and writing it.
	beforeWrite func()
	// unwatched (tests only) makes every write find its filings' lists as if another
	// goroutine had applied them first (watchFilings).
	unwatched bool
	// upkeep paces the sweep of old stories and the expiry of tombstones (tombs.go).
	upkeep store.Upkeep
	// fl is this process's story-key index (filings.go), filingsCap the stream's
	// length cap (a field for tests).
	fl         filings
	filingsCap int
}

var _ store.Store = (*Store)(nil)

// Open connects to the Redis named by dsn (see the package documentation) and checks
// that it answers. When it does not, the error wraps store.ErrUnavailable.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("open redis: parse dsn: %w", err)
	}
	// go-redis gives each connection 32 KiB buffers each way, and each pipeline
	// connection 128 KiB: more than any command or reply here needs (a batch of items
	// is a few tens of KB), paid by every connection of the pools.
	o := cfg.opts
	// Callers' deadlines bound each command (the web front gives the store version a
	// second, metrics two): by default go-redis keeps to its own 3 s read timeout and a
	// hung Redis, which accepts and never answers, held each of them 5 s.
	o.ContextTimeoutEnabled = true
	o.ReadBufferSize, o.WriteBufferSize = 16<<10, 16<<10
	o.PipelineReadBufferSize, o.PipelineWriteBufferSize = 32<<10, 32<<10
	s := &Store{c: redis.NewUniversalClient(&o), p: "{" + cfg.network + "}:", filingsCap: filingsCap}
	if err := s.Ping(ctx); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("open redis: %w", err)
	}
	if err := s.moveLegacyTombs(ctx, time.Now()); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("open redis: %w", err)
	}
	s.fl.watch = map[streamID]*watch{}
	if err := s.upgradeFilings(ctx); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("open redis: %w", err)
	}
	return s, nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// Ping reports whether Redis answers. One refusing writes answers: Redis unable to save
// its snapshot (MISCONF, with stop-writes-on-bgsave-error) refuses PING as it does
// writes, yet still serves reads; calling it unreachable would keep processes from
// starting and web fronts out of their load balancer while the feeds can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil && !refused(err) {
		return s.fail(ctx, "redis ping", err)
	}
	return nil
}

// Version changes whenever stored items change.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	v, err := s.c.Get(ctx, s.verKey()).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail(ctx, "redis version", err)
	}
	return v, nil
}

// Keys.
func (s *Store) itemKey(id string) string    { return s.p + "i:" + id }
func (s *Store) keysKey() string             { return s.p + "k" }
func (s *Store) allKey() string              { return s.p + "z:all" }
func (s *Store) tombKey() string             { return s.p + "tz" }
func (s *Store) verKey() string              { return s.p + "ver" }
func (s *Store) srcKey() string              { return s.p + "src" }
func (s *Store) histKey() string             { return s.p + "srch" }
func (s *Store) leaseKey(name string) string { return s.p + "lease:" + name }
func (s *Store) memberKey(m string) string   { return s.p + "z:m:" + m }
func (s *Store) countryKey(c string) string  { return s.p + "z:c:" + c }
func (s *Store) regionKey(r string) string   { return s.p + "z:r:" + r }
func (s *Store) langKey(l string) string     { return s.p + "z:l:" + l }
func (s *Store) sourceKey(u string) string   { return s.p + "z:s:" + u }

// indexKeys lists the sorted sets it belongs to.
func (s *Store) indexKeys(it *news.Item) []string {
	ks := make([]string, 0, 6)
	ks = append(ks, s.allKey())
	if it.Member != "" {
		ks = append(ks, s.memberKey(it.Member))
	}
	if it.Country != "" {
		ks = append(ks, s.countryKey(it.Country))
	}
	if it.Region != "" {
		ks = append(ks, s.regionKey(it.Region))
	}
	if it.Language != "" {
		ks = append(ks, s.langKey(it.Language))
	}
	if it.Source != "" {
		ks = append(ks, s.sourceKey(it.Source))
	}
	return ks
}

// lookupFields lists its fields in the key-index hash.
func lookupFields(it *news.Item) []string {
	fs := make([]string, 0, 2)
	if it.Key != "" {
		fs = append(fs, keyField(it.Member, it.Key))
	}
	if c := canonical(it); c != "" {
		fs = append(fs, canonField(it.Member, c))
	}
	return fs
}

func keyField(member, key string) string    { return "k" + member + "\x00" + key }
func canonField(member, link string) string { return "c" + member + "\x00" + link }
func canonical(it *news.Item) string {
	if it.Canonical != "" {
		return it.Canonical
	}
	return it.Link
}

// score is an item's position in every sorted set.
func score(it *news.Item) float64 { return float64(it.SortTime().UnixMilli()) }

func scoreArg(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// fail wraps err from Redis with op; errors that mean Redis cannot be reached right now
// also wrap store.ErrUnavailable, and a write Redis refused is a *store.WriteError.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil && unavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
	}
	if refused(err) {
		return fmt.Errorf("%s: %w", op, &store.WriteError{Err: err})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// txErr is the error of a MULTI transaction's Exec: when Redis discarded it (EXECABORT,
// which says nothing of why), that of the command it refused to queue (OOM, MISCONF:
// the write refused), which cmds keep.
func txErr(err error, cmds []redis.Cmder) error {
	if !redis.IsExecAbortError(err) {
		return err
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !redis.IsExecAbortError(e) {
			return e
		}
	}
	return err
}

// refused reports whether err is Redis refusing a write it would otherwise take: OOM
// (used memory above maxmemory under the noeviction policy; in a script, at its first
// write, so that it wrote nothing) or MISCONF (a snapshot it cannot save, with
// stop-writes-on-bgsave-error). Both last until memory or disk is freed.
func refused(err error) bool {
	return redis.HasErrorPrefix(err, "OOM") || redis.HasErrorPrefix(err, "MISCONF")
}

// unavailable reports whether err means "Redis is not reachable or not ready", as
// opposed to a reply that a retry would not change.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := strings.TrimPrefix(rerr.Error(), "ERR ")
		for _, p := range []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS", "max number of clients"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	// Anything else from the client is about the connection: EOF, timeouts, pool
	// timeouts, no reachable sentinel or cluster node.
	return true
}

// isNoScript reports a script cache miss (Redis restarted or flushed its scripts).
func isNoScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }

// msBound is a score bound for t rounded down to the millisecond.
func msBound(t time.Time) float64 { return float64(t.UnixMilli()) }
