package fetch

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// robotsCache keeps one parsed robots.txt per scheme+host for ttl.
type robotsCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{} // closed once data is set
	data    *robotstxt.RobotsData
	down    int // robots.txt answered this 5xx and no earlier copy is kept: everything disallowed
	expires time.Time
}

func newRobotsCache(ttl time.Duration) *robotsCache {
	return &robotsCache{ttl: ttl, now: time.Now, entries: map[string]*robotsEntry{}}
}

// robotsRetry is how soon a robots.txt that answered a server error is asked again.
const robotsRetry = 5 * time.Minute

// checkRobots returns a *robotsError when robots.txt of u's host disallows u for our agent.
// The robots.txt is fetched once per host (concurrent callers wait for the same fetch) through
// the same guarded client. As RFC 9309 has it, one that is missing or refused (4xx) allows
// everything, and a server error (5xx) disallows everything until it answers again (asked
// every robotsRetry), unless an earlier copy is kept: then that copy holds meanwhile. A robots.txt that cannot be
// fetched at all (DNS, connection, timeout) allows everything, so that the source's own
// fetch reports what is wrong in its own words.
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
		e.data, e.down = c.loadRobots(ctx, key+"/robots.txt")
		e.expires = rc.now().Add(rc.ttl)
		if e.down != 0 {
			// A server error: asked again soon; the copy read before, if any, holds meanwhile.
			e.expires = rc.now().Add(min(rc.ttl, robotsRetry))
			if old != nil && old.data != nil {
				e.data, e.down = old.data, 0
			}
		}
		if ctx.Err() != nil {
			e.expires = time.Time{} // cut short by the caller: try again next time
		}
		close(e.ready)
	} else {
		rc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if e.down != 0 {
		return &robotsError{URL: u.String(), Status: e.down}
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

// loadRobots fetches and parses robots.txt; nil data means "allow everything", and down,
// when not 0, is the server error (5xx) it answered (see checkRobots).
func (c *Client) loadRobots(ctx context.Context, robotsURL string) (data *robotstxt.RobotsData, down int) {
	ctx = context.WithValue(ctx, redirectKey{}, &redirectState{skipRobots: true})
	resp, err := c.do(ctx, http.MethodGet, robotsURL, http.Header{"Accept": {"text/plain, */*"}})
	if err != nil {
		return nil, 0
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 && resp.StatusCode <= 599 {
		return nil, resp.StatusCode
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, 0
	}
	body, err := readBody(resp, robotsCap, true)
	if err != nil {
		return nil, 0
	}
	data, err = robotstxt.FromBytes(body)
	if err != nil {
		return nil, 0
	}
	return data, 0
}
