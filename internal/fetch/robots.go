package fetch

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// robotsCache keeps one parsed robots.txt per scheme+host for ttl, and no more than
// maxBytes of them (see trim).
type robotsCache struct {
	ttl      time.Duration
	now      func() time.Time
	maxBytes int64 // what the entries may weigh together (robotsWeight)

	mu      sync.Mutex
	entries map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{} // closed once data is set
	data    *robotstxt.RobotsData
	down    int // robots.txt answered this 429 or 5xx and no earlier copy is kept: everything disallowed
	expires time.Time
	// retryUntil is when the Retry-After of a 429 or 503 answer ends (zero without one);
	// robots.txt is not asked again before then.
	retryUntil time.Time
	weight     int64 // robotsWeight of data
}

func newRobotsCache(ttl time.Duration) *robotsCache {
	return &robotsCache{ttl: ttl, now: time.Now, maxBytes: robotsCacheBytes, entries: map[string]*robotsEntry{}}
}

// robotsCacheBytes bounds the robots.txt files kept, by their weight in memory. A file
// is read up to robotsCap, but parsed it can take a hundred times that (a 512 KiB file
// of one wildcard pattern held 63 MB), and each host name has its own: without a bound,
// a site could make the process hold that much for every host name it leads requests
// to (article links, advertised feeds, redirects), each kept for good.
const robotsCacheBytes = 128 << 20

// robotsEntryBytes is what an entry weighs besides its parsed file (a host whose
// robots.txt is missing has one too).
const robotsEntryBytes = 512

// robotsWeight estimates the memory a robots.txt takes once parsed: about twice its
// size, and 128 bytes for each character of a line with a wildcard (* or $), which the
// parser compiles into a regexp (measured with github.com/temoto/robotstxt v1.1.2:
// 56 to 120 bytes).
func robotsWeight(body []byte) int64 {
	w := robotsEntryBytes + 2*int64(len(body))
	for line := range bytes.Lines(body) {
		if bytes.ContainsAny(line, "*$") {
			w += 128 * int64(len(line))
		}
	}
	return w
}

// trim lets go of entries until those kept weigh no more than maxBytes: the expired
// ones, then those that expire soonest. The entry of key, just read, stays whatever it
// weighs (the requests waiting for it use it). rc.mu must be held.
func (rc *robotsCache) trim(key string) {
	now := rc.now()
	type kept struct {
		key string
		e   *robotsEntry
	}
	var (
		held   int64
		others []kept
	)
	for k, e := range rc.entries {
		select {
		case <-e.ready:
		default:
			continue // being fetched: weighs nothing yet
		}
		if k == key {
			held += e.weight
			continue
		}
		if now.After(e.expires) {
			delete(rc.entries, k)
			continue
		}
		held += e.weight
		others = append(others, kept{k, e})
	}
	if held <= rc.maxBytes {
		return
	}
	slices.SortFunc(others, func(a, b kept) int { return a.e.expires.Compare(b.e.expires) })
	for _, o := range others {
		if held <= rc.maxBytes {
			break
		}
		delete(rc.entries, o.key)
		held -= o.e.weight
	}
}

// robotsRetry is how soon a robots.txt that answered a server error or 429 is asked
// again (later when its Retry-After asks for longer).
const robotsRetry = 5 * time.Minute

// checkRobots returns a *robotsError when robots.txt of u's host disallows u for our agent.
// The robots.txt is fetched once per host (concurrent callers wait for the same fetch) through
// the same guarded client. As RFC 9309 has it, one that is missing or refused (4xx) allows
// everything, and a server error (5xx) disallows everything until it answers again (asked
// every robotsRetry, or once its Retry-After has passed), unless an earlier copy is kept:
// then that copy holds meanwhile. 429 Too Many Requests counts as a server error, not as
// a refusal (so Google's crawler has it): the host asks for fewer requests, and fetching
// the whole site at once as if it had no robots.txt would be the opposite. A robots.txt
// that cannot be fetched at all (DNS, connection, timeout) allows everything, so that the
// source's own fetch reports what is wrong in its own words.
func (c *Client) checkRobots(ctx context.Context, u *url.URL) error {
	rc := c.robots
	key := u.Scheme + "://" + u.Host
	rc.mu.Lock()
	e := rc.entries[key]
	if e != nil {
		select {
		case <-e.ready:
			if rc.now().After(e.expires) {
				e = nil
			}
		default: // being fetched: wait below
		}
	}
	if e == nil {
		old := rc.entries[key]
		e = &robotsEntry{ready: make(chan struct{})}
		rc.entries[key] = e
		rc.mu.Unlock()
		var retryAfter time.Duration
		e.data, e.down, retryAfter, e.weight = c.loadRobots(ctx, key+"/robots.txt")
		e.expires = rc.now().Add(rc.ttl)
		if e.down != 0 {
			// A server error: asked again soon, not before its Retry-After has passed;
			// the copy read before, if any, holds meanwhile.
			e.expires = rc.now().Add(max(min(rc.ttl, robotsRetry), retryAfter))
			if retryAfter > 0 {
				e.retryUntil = rc.now().Add(retryAfter)
			}
			if old != nil && old.data != nil {
				e.data, e.down, e.weight = old.data, 0, old.weight
			}
		}
		if ctx.Err() != nil {
			e.expires = time.Time{} // cut short by the caller: try again next time
		}
		rc.mu.Lock()
		close(e.ready)
		rc.trim(key)
		rc.mu.Unlock()
	} else {
		rc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if e.down != 0 {
		var retryAfter time.Duration
		if !e.retryUntil.IsZero() {
			retryAfter = max(0, e.retryUntil.Sub(rc.now()))
		}
		return &robotsError{URL: u.String(), Status: e.down, RetryAfter: retryAfter}
	}
	if e.data == nil {
		return nil
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !e.data.TestAgent(path, c.opts.UserAgent) {
		return &robotsError{URL: u.String()}
	}
	return nil
}

// loadRobots fetches and parses robots.txt; nil data means "allow everything", down,
// when not 0, is the server error (5xx) or 429 it answered (see checkRobots), with the
// Retry-After that answer carried, and weight is robotsWeight of what is kept.
func (c *Client) loadRobots(ctx context.Context, robotsURL string) (data *robotstxt.RobotsData, down int, retryAfter time.Duration, weight int64) {
	ctx = context.WithValue(ctx, redirectKey{}, &redirectState{skipRobots: true})
	resp, err := c.do(ctx, http.MethodGet, robotsURL, http.Header{"Accept": {"text/plain, */*"}})
	if err != nil {
		return nil, 0, 0, robotsEntryBytes
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode <= 599 {
		return nil, resp.StatusCode, retryAfterOf(resp.StatusCode, resp.Header), robotsEntryBytes
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, 0, 0, robotsEntryBytes
	}
	body, err := readBody(resp, robotsCap, true)
	if err != nil {
		return nil, 0, 0, robotsEntryBytes
	}
	data, err = robotstxt.FromBytes(body)
	if err != nil {
		return nil, 0, 0, robotsEntryBytes
	}
	return data, 0, 0, robotsWeight(body)
}
