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
	expires time.Time
}

func newRobotsCache(ttl time.Duration) *robotsCache {
	return &robotsCache{ttl: ttl, now: time.Now, entries: map[string]*robotsEntry{}}
}

// checkRobots returns a *robotsError when robots.txt of u's host disallows u for our agent.
// The robots.txt is fetched once per host (concurrent callers wait for the same fetch) through
// the same guarded client; one that is missing, fails or is not 2xx allows everything.
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
		e = &robotsEntry{ready: make(chan struct{})}
		rc.entries[key] = e
		rc.mu.Unlock()
		e.data = c.loadRobots(ctx, key+"/robots.txt")
		e.expires = rc.now().Add(rc.ttl)
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

// loadRobots fetches and parses robots.txt; nil means "allow everything".
func (c *Client) loadRobots(ctx context.Context, robotsURL string) *robotstxt.RobotsData {
	ctx = context.WithValue(ctx, redirectKey{}, &redirectState{skipRobots: true})
	resp, err := c.do(ctx, http.MethodGet, robotsURL, http.Header{"Accept": {"text/plain, */*"}})
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	body, err := readBody(resp, robotsCap, true)
	if err != nil {
		return nil
	}
	data, err := robotstxt.FromBytes(body)
	if err != nil {
		return nil
	}
	return data
}
