package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimScript takes a free lease (SET NX PX) or renews one the owner holds.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return 1
`)

// releaseScript deletes a lease only if owner holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Claim takes or renews the lease name for owner for ttl (at least 1ms) and reports
// whether owner holds it.
func (s *Store) Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ms := max(ttl.Milliseconds(), 1)
	n, err := claimScript.Run(ctx, s.c, []string{s.leaseKey(name)}, owner, ms).Int()
	if err != nil {
		return false, s.fail(ctx, "redis claim "+name, err)
	}
	return n == 1, nil
}

// Release gives up the lease name if owner holds it.
func (s *Store) Release(ctx context.Context, name, owner string) error {
	if err := releaseScript.Run(ctx, s.c, []string{s.leaseKey(name)}, owner).Err(); err != nil {
		return s.fail(ctx, "redis release "+name, err)
	}
	return nil
}

// Shared reports that other processes may use the store at once: `networkfeed poll`
// then takes each source's lease, as serve workers do.
func (s *Store) Shared() bool { return true }
