package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/iss-network/networkfeed/internal/config"
)

// rendered is one response body kept as bytes, gzipped once (on the first request that
// accepts gzip), with its validators.
type rendered struct {
	version uint64
	body    []byte
	etag    string
	lastMod time.Time
	ctype   string

	// Header values made once, shared by every response (net/http only reads them): a
	// cached response then allocates no header strings.
	ctypeH, etagH, etagGzH, lastModH, lengthH []string

	gzOnce    sync.Once
	gz        []byte // nil when gzip would not make the body smaller
	lengthGzH []string
	gzSize    atomic.Int64 // len(gz), readable without gzOnce (the cache's byte count)
}

// size is the memory the entry's bodies take: the body and its gzipped copy, once made.
func (e *rendered) size() int64 { return int64(len(e.body)) + e.gzSize.Load() }

// Header values that are the same for every cached response.
var (
	varyH         = []string{"Accept-Encoding"}
	cacheControlH = []string{"public, max-age=60"}
	gzipH         = []string{"gzip"}
)

func newRendered(version uint64, body []byte, ctype string, lastMod time.Time) *rendered {
	e := &rendered{version: version, body: body, ctype: ctype, lastMod: lastMod.UTC().Truncate(time.Second)}
	e.etag = bodyETag(body)
	e.ctypeH = []string{ctype}
	e.etagH = []string{e.etag}
	e.etagGzH = []string{strings.TrimSuffix(e.etag, `"`) + `-gz"`}
	if !e.lastMod.IsZero() {
		e.lastModH = []string{e.lastMod.Format(http.TimeFormat)}
	}
	e.lengthH = []string{strconv.Itoa(len(body))}
	return e
}

// bodyETag is the strong validator of a body: a hash of its bytes.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// gzWriters keeps gzip writers for reuse: a new one allocates about 800 KB.
var gzWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// gzipped returns the body gzipped, or nil when that is no smaller.
func (e *rendered) gzipped() []byte {
	e.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(e.body) / 3)
		zw := gzWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(e.body)
		zw.Close()
		gzWriters.Put(zw)
		if buf.Len() < len(e.body) {
			e.gz = buf.Bytes()
			e.lengthGzH = []string{strconv.Itoa(len(e.gz))}
			e.gzSize.Store(int64(len(e.gz)))
		}
	})
	return e.gz
}

// renderCache keeps rendered responses per (path, canonical query, store version); an
// entry is used while the store version is unchanged, and served stale when the store
// cannot be reached. It holds at most max entries and maxBytes of bodies: every paging
// cursor, since= and q= is an address of its own, so without a bound on bytes a visitor
// walking distinct pages of limit=500 (about 1 MB each) could fill the memory.
type renderCache struct {
	mu       sync.Mutex
	m        map[cacheKey]*rendered
	max      int
	maxBytes int64
	group    singleflight.Group
}

// DefaultCacheBytes bounds the bodies (plain and gzipped) the render cache keeps.
const DefaultCacheBytes = 64 << 20

// cacheKey names one cached response: the config it was rendered with (a reload makes a
// new one), the address with its canonical query, the interface language of a page
// rendered in one (the embedded list: hl= or Accept-Language), and the since time it
// selected ("since=7d" moves).
type cacheKey struct {
	cfg   *config.Config
	addr  string
	lang  string
	since int64
}

// String is the key for singleflight, made only when rendering.
func (k cacheKey) String() string { return fmt.Sprintf("%p %s %s %d", k.cfg, k.addr, k.lang, k.since) }

func newRenderCache(max int, maxBytes int64) *renderCache {
	return &renderCache{m: map[cacheKey]*rendered{}, max: max, maxBytes: maxBytes}
}

func (c *renderCache) get(key cacheKey) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// earlier returns the newest entry for key's address rendered under another config (a
// reload makes a new one, and so new keys).
func (c *renderCache) earlier(key cacheKey) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *rendered
	for k, e := range c.m {
		if k.addr == key.addr && k.lang == key.lang && k.since == key.since && (best == nil || e.version > best.version) {
			best = e
		}
	}
	return best
}

// put keeps r under key, first dropping entries of older versions and then others (in
// no particular order) while the cache would hold more than max entries or maxBytes. An
// entry larger than a quarter of maxBytes is served but not kept. Sizes are summed at
// each put: puts follow renders, which cost far more than a walk over the entries.
func (c *renderCache) put(key cacheKey, r *rendered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	if r.size() > c.maxBytes/4 {
		return
	}
	total := r.size()
	for _, v := range c.m {
		total += v.size()
	}
	full := func() bool { return len(c.m) >= c.max || total > c.maxBytes }
	for _, older := range []bool{true, false} {
		for k, v := range c.m {
			if !full() {
				break
			}
			if older && v.version == r.version {
				continue
			}
			delete(c.m, k)
			total -= v.size()
		}
	}
	c.m[key] = r
}

// renderFunc produces a body, its content type and its last-modified time.
type renderFunc func() (body []byte, ctype string, lastMod time.Time, err error)

// serve answers from the cache when the entry matches version (or when version is
// unknown because the store is down), else renders once for all concurrent callers.
func (c *renderCache) serve(w http.ResponseWriter, r *http.Request, key cacheKey, version uint64, storeOK bool, render renderFunc) error {
	e := c.get(key)
	if e == nil && !storeOK {
		// Rendered before a config reload, if at all: the last rendered bytes are what
		// there is to serve while the store cannot be reached.
		if e = c.earlier(key); e == nil {
			return errUnavailable
		}
	}
	if e == nil || (storeOK && e.version != version) {
		v, err, _ := c.group.Do(key.String(), func() (any, error) {
			if e := c.get(key); e != nil && e.version == version {
				return e, nil
			}
			body, ctype, lastMod, err := render()
			if err != nil {
				return nil, err
			}
			ne := newRendered(version, body, ctype, lastMod)
			c.put(key, ne)
			return ne, nil
		})
		if err != nil {
			return err
		}
		e = v.(*rendered)
	}
	writeRendered(w, r, e)
	return nil
}

// writeRendered writes a cached response. Header values are the entry's own slices,
// set straight into the map under canonical names: nothing is formatted or allocated
// per request.
func writeRendered(w http.ResponseWriter, r *http.Request, e *rendered) {
	h := w.Header()
	var gzBody []byte
	if acceptsGzip(r) {
		gzBody = e.gzipped()
	}
	gz := gzBody != nil
	h["Content-Type"] = e.ctypeH
	if gz {
		h["Etag"] = e.etagGzH
	} else {
		h["Etag"] = e.etagH
	}
	if _, set := h["Vary"]; !set {
		h["Vary"] = varyH
	}
	if e.lastModH != nil {
		h["Last-Modified"] = e.lastModH
	}
	if _, set := h["Cache-Control"]; !set {
		h["Cache-Control"] = cacheControlH
	}
	if notModified(r, e) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := e.body
	h["Content-Length"] = e.lengthH
	if gz {
		h["Content-Encoding"] = gzipH
		h["Content-Length"] = e.lengthGzH
		body = gzBody
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

// notModified applies RFC 9110 §13.2.2: If-None-Match (weak comparison) takes precedence
// over If-Modified-Since.
func notModified(r *http.Request, e *rendered) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, e.etag)
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !e.lastMod.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !e.lastMod.After(t) {
			return true
		}
	}
	return false
}

// etagMatches reports whether an If-None-Match value names etag (weakly: W/ ignored),
// or its gzipped variant (etag with "-gz"), or is "*".
func etagMatches(inm, etag string) bool {
	if inm == "" {
		return false
	}
	bare := strings.Trim(etag, `"`)
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		t = strings.Trim(t, `"`)
		if t == "*" || t == bare || t == bare+"-gz" {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	ae := r.Header.Get("Accept-Encoding")
	for ae != "" {
		var p string
		p, ae, _ = strings.Cut(ae, ",") // no slice per request, unlike strings.Split
		name, q, _ := strings.Cut(strings.TrimSpace(p), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			switch strings.ReplaceAll(q, " ", "") {
			case "q=0", "q=0.0", "q=0.00", "q=0.000":
				return false
			}
			return true
		}
	}
	return false
}
