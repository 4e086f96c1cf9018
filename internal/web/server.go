// Package web is networkfeed's HTTP surface: the combined and per-member feeds, the
// river of news, the sources dashboard, health and metrics. Handlers read through the
// small Reader interface; feeds are rendered once per store version and served as bytes.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	assets "github.com/iss-network/networkfeed/web"
)

// Reader is what the web needs from the store.
type Reader interface {
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	Item(ctx context.Context, id string) (news.Item, error)
	Source(ctx context.Context, url string) (news.SourceState, error)
	Sources(ctx context.Context) ([]news.SourceState, error)
	SourceStates(ctx context.Context) ([]news.SourceState, error) // without the poll histories
	Version(ctx context.Context) (uint64, error)
	Ping(ctx context.Context) error
}

// Server serves every endpoint.
type Server struct {
	store   Reader
	config  func() *config.Config
	log     *slog.Logger
	tmpl    *template.Template
	static  *staticFiles
	cache   *renderCache
	ready   func() bool
	metrics http.Handler
	storeOK atomic.Bool
	now     func() time.Time
	// absTimes: Options.Static.
	absTimes bool

	// The store version, read at most once per versionTTL (see version).
	versionTTL     time.Duration
	clock          func() time.Time // for versionTTL; tests move it
	lastVersion    atomic.Pointer[versionRead]
	readingVersion atomic.Bool
	versionGen     atomic.Uint64 // bumped by StoreChanged

	// searches holds a slot per store read filtering by words or category (see items);
	// searchWait is how long a read waits for one before the request gets a 503.
	searches   chan struct{}
	searchWait time.Duration

	// dates holds, per member, the dates of its items by source as the dashboard last
	// read them (see memberDates).
	datesMu sync.Mutex
	dates   map[string]memberDates
	// filters are the river's member options, countries and regions of the config they
	// were made from (see riverFilters).
	filters atomic.Pointer[riverFilters]
}

// Options configure a Server.
type Options struct {
	Store  Reader
	Config func() *config.Config
	Log    *slog.Logger
	// Ready, when set, also decides /readyz (e.g. the scheduler's view of the store).
	Ready func() bool
	// Metrics is served at /metrics when set.
	Metrics http.Handler
	// VersionTTL is how long a reading of the store version is used before the store is
	// asked again: 0 means DefaultVersionTTL, a negative value asks on every request.
	// Call Server.StoreChanged after writing to the store to skip the wait.
	VersionTTL time.Duration
	// Static: the pages are written once and read later (build -out), so the dashboard
	// shows its times as dates and times, not as "5 minutes ago", which would stay
	// written long after it stopped being true.
	Static bool
}

// New parses the templates (failing fast on any error) and returns a Server.
func New(o Options) (*Server, error) {
	st, err := newStatic(assets.FS())
	if err != nil {
		return nil, err
	}
	s := &Server{store: o.Store, config: o.Config, log: o.Log, static: st, cache: newRenderCache(2048, DefaultCacheBytes), ready: o.Ready, metrics: o.Metrics, now: time.Now,
		versionTTL: o.VersionTTL, clock: time.Now, absTimes: o.Static,
		searches: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)), searchWait: 5 * time.Second}
	if s.versionTTL == 0 {
		s.versionTTL = DefaultVersionTTL
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.storeOK.Store(true)
	tfs, err := fs.Sub(assets.FS(), "templates")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	s.tmpl, err = template.New("").Funcs(s.funcs()).ParseFS(tfs, "*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return s, nil
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.feedRoutes(mux) // feeds.go: network and member feeds (and other syndication endpoints)
	s.pageRoutes(mux) // pages.go: river, member pages, dashboard
	mux.HandleFunc("GET /static/", s.static.ServeHTTP)
	Probes{Store: s.store, Ready: s.ready, Metrics: s.metrics}.Register(mux)
	return securityHeaders(s.notFoundPages(mux))
}

// Probes are the routes an operator's monitoring asks: /healthz, /readyz and, when
// Metrics is set, /metrics. The web server has them, and so does a worker that serves
// no web view (serve -web=false -metrics-addr).
type Probes struct {
	Store   interface{ Ping(context.Context) error }
	Ready   func() bool // when set, also decides /readyz (the scheduler's view of the store)
	Metrics http.Handler
}

// Register adds the probes' routes to mux.
func (p Probes) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", p.readyz)
	if p.Metrics != nil {
		mux.Handle("GET /metrics", p.Metrics)
	}
}

var (
	nosniffH    = []string{"nosniff"}
	noReferrerH = []string{"no-referrer"}
)

// securityHeaders sets headers every response carries (shared values, canonical names:
// no allocation per request).
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["X-Content-Type-Options"] = nosniffH
		hdr["Referrer-Policy"] = noReferrerH
		h.ServeHTTP(w, r)
	})
}

// Cross-origin reads. The feeds, sources.json and sources.csv, the alerts feed, the
// OPML list, the embedded list and its script are public, read-only and served without
// cookies: a member's own pages may read them with fetch() from any origin. Every
// response of theirs (errors included, so a script can read why) allows any origin with
// the same value, so they need no Vary: Origin. The HTML pages do not allow it: nothing
// needs to read them from another site.
var (
	corsOriginH  = []string{"*"}
	corsExposeH  = []string{"ETag, Retry-After"} // beyond the CORS-safelisted headers
	corsMethodsH = []string{"GET, HEAD"}
	corsAllowH   = []string{"GET, HEAD, OPTIONS"}
	corsHeadersH = []string{"*"}     // any request header (If-None-Match, Cache-Control…): no credentials
	corsMaxAgeH  = []string{"86400"} // a preflight's answer is kept a day
)

// handlePublic registers h for GET (and HEAD) at path, readable from any origin, and
// answers the CORS preflight (OPTIONS) a cross-origin fetch() sends before a request
// with other headers than the safelisted ones (If-None-Match, for one).
func handlePublic(mux *http.ServeMux, path string, h http.HandlerFunc) {
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["Access-Control-Allow-Origin"] = corsOriginH
		hdr["Access-Control-Expose-Headers"] = corsExposeH
		h(w, r)
	})
	mux.HandleFunc("OPTIONS "+path, preflight)
}

// preflight answers OPTIONS on a public resource: GET and HEAD, with any headers, from
// any origin. The answer is the same for every request, so it varies with nothing.
func preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = corsOriginH
	hdr["Access-Control-Allow-Methods"] = corsMethodsH
	hdr["Access-Control-Allow-Headers"] = corsHeadersH
	hdr["Access-Control-Max-Age"] = corsMaxAgeH
	hdr["Allow"] = corsAllowH
	w.WriteHeader(http.StatusNoContent)
}

func (p Probes) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := p.Store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: store: %v\n", err)
		return
	}
	if p.Ready != nil && !p.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		// The scheduler could not claim a source's lease: the store did not answer, or
		// refused the write (Redis out of memory); its log says which.
		fmt.Fprintln(w, "not ready: polling paused (the store is unavailable or refuses writes; see the log)")
		return
	}
	fmt.Fprintln(w, "ready")
}

// DefaultVersionTTL is how long a store version read is trusted (Options.VersionTTL):
// the most a cached response can lag behind a change made by another process.
const DefaultVersionTTL = 250 * time.Millisecond

// versionRead is one reading of the store version.
type versionRead struct {
	v       uint64
	ok      bool      // false: the store could not be reached
	expires time.Time // monotonic
}

// version returns the store version, reading it from the store at most once per
// versionTTL (a context.WithTimeout and a read transaction were ~8 % of a cached
// response). When the reading has expired, one request reads the store while the
// others keep using the last reading. When the store is down it reports false, and
// cached responses are served stale.
func (s *Server) version(ctx context.Context) (uint64, bool) {
	last := s.lastVersion.Load()
	now := s.clock()
	if last != nil && now.Before(last.expires) {
		return last.v, last.ok
	}
	if last != nil && s.versionTTL > 0 {
		if !s.readingVersion.CompareAndSwap(false, true) {
			return last.v, last.ok // another request is reading it
		}
		defer s.readingVersion.Store(false)
	}
	gen := s.versionGen.Load()
	v, ok := s.readVersion(ctx)
	if s.versionGen.Load() == gen { // not invalidated while reading
		s.lastVersion.Store(&versionRead{v: v, ok: ok, expires: now.Add(s.versionTTL)})
	}
	return v, ok
}

// StoreChanged makes the next request read the store version again, so a change made
// by this process is served at once (the version TTL bounds the delay for changes made
// by others).
func (s *Server) StoreChanged() {
	s.versionGen.Add(1)
	s.lastVersion.Store(nil)
}

func (s *Server) readVersion(ctx context.Context) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	v, err := s.store.Version(ctx)
	if err != nil {
		if s.storeOK.Swap(false) {
			s.log.Warn("store unavailable: serving cached responses", "err", err)
		}
		return 0, false
	}
	if !s.storeOK.Swap(true) {
		s.log.Info("store available again")
	}
	return v, true
}

var errUnavailable = errors.New("the store is unavailable and nothing is cached for this address")

// fail writes an error message as plain text, with the right status: the answer of the
// feeds, JSON, CSV, OPML and the embedded list, whose readers are programs.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.failure(w, r, err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// failure classifies err: the status and the message to answer with. It sets
// Retry-After where a retry will help, and logs what is not the request's fault nor a
// known outage.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	var br *BadRequest
	code := http.StatusInternalServerError
	msg := "internal error"
	switch {
	case errors.As(err, &br):
		code, msg = http.StatusBadRequest, br.Msg
	case errors.Is(err, errNotFound):
		code, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, errBusy):
		code, msg = http.StatusServiceUnavailable, err.Error()
		w.Header().Set("Retry-After", "5")
	case errors.Is(err, errUnavailable), errors.Is(err, store.ErrUnavailable):
		// While Redis is unreachable, a feed or page (river, dashboard, member page) with
		// no copy rendered before the outage is temporarily unavailable, not broken; logging each request would flood the log (version logs
		// the outage once).
		code, msg = http.StatusServiceUnavailable, "the store is unavailable: try again in a minute"
		if errors.Is(err, errUnavailable) {
			msg = err.Error()
		}
		w.Header().Set("Retry-After", "60")
	default:
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	return code, msg
}

// errorView is the error page: a heading in the reader's language, the message (in
// English, as the feeds' plain-text errors give it) and a way back to the news.
type errorView struct {
	Page
	Code    int
	Heading string
	Message string
}

// failPage answers an HTML page's request that failed with a page in the site's layout
// and the reader's language, with the status and Retry-After fail would give: a reader
// who follows an old link to a member that left, or finds the store down, sees where
// they are and a link to the river, not a raw line of text. While the store is down, a
// page rendered before is served from its last copy instead (servedCopy).
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, l *locale, err error) {
	if s.servedCopy(w, r, l, err) {
		return
	}
	code, msg := s.failure(w, r, err)
	heading := l.T("Something went wrong")
	switch code {
	case http.StatusBadRequest:
		heading = l.T("This address is not valid")
	case http.StatusNotFound:
		heading = l.T("Page not found")
	case http.StatusServiceUnavailable:
		heading = l.T("Temporarily unavailable")
	}
	v := errorView{Page: s.pageIn(r, l, heading+" – "+s.config().Network.Title), Code: code, Heading: heading, Message: msg}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "error.html", v); err != nil {
		s.log.Error("render error page", "path", r.URL.Path, "err", err)
		s.fail(w, r, err)
		return
	}
	htmlHeaders(w, l)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// notFoundPages answers a browser's request for an address no route serves (an old
// link) with the error page rather than the mux's line of text; other clients (feed
// readers, scripts: no text/html in Accept) and other statuses get the mux's answer.
func (s *Server) notFoundPages(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.Contains(r.Header.Get("Accept"), "text/html") {
			mux.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" { // a route: it answers for itself
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&notFoundWriter{ResponseWriter: w, page: func() {
			s.failPage(w, r, chooseLocale(r), fmt.Errorf("%s: %w", r.URL.Path, errNotFound))
		}}, r)
	})
}

// notFoundWriter writes the error page instead of a 404 the mux writes, and drops the
// mux's text; any other status passes through.
type notFoundWriter struct {
	http.ResponseWriter
	page     func()
	replaced bool
}

func (w *notFoundWriter) WriteHeader(code int) {
	if code == http.StatusNotFound && !w.replaced {
		w.replaced = true
		w.page()
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *notFoundWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *notFoundWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

var errNotFound = errors.New("not found")

// errBusy answers a search that found every search slot taken for searchWait.
var errBusy = errors.New("too many searches at once: try again in a few seconds")

// items reads q's items from the store. A query filtering by words or category first
// takes one of the search slots (half the CPUs, at least one), waiting up to searchWait:
// the store filters those in memory along its timeline, and a search that matches little
// walks all of it (about 2 s for 100,000 items), where every other read stops at its
// limit. So distinct searches, which no cache holds, cannot take every CPU from the
// feeds and the polling; past the wait they get errBusy.
func (s *Server) items(ctx context.Context, q news.Query) ([]news.Item, error) {
	if q.Text != "" || q.Category != "" {
		t := time.NewTimer(s.searchWait)
		defer t.Stop()
		select {
		case s.searches <- struct{}{}:
			defer func() { <-s.searches }()
		case <-t.C:
			return nil, errBusy
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a search slot: %w", ctx.Err())
		}
	}
	return s.store.Items(ctx, q)
}

// pageCSP is the HTML pages' Content-Security-Policy.
const pageCSP = "default-src 'self'; img-src * data:; style-src 'self'; script-src 'none'; frame-ancestors 'self'"

// render executes a template into a buffer, then writes it: a template error never
// leaves half a page. A page is validated by the hash of its bytes: they depend on the
// store, the config, the language, the query and, on the dashboard and member pages,
// the time ("5 minutes ago"), so no cheaper key would be right; the hash is a small
// part of a render, and a reader revalidating an unchanged page (If-None-Match) gets a
// 304 without the body. With keep, a page rendered with 200 is also kept in the render
// cache, its last rendered copy to serve while the store cannot be reached (failPage).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, code int, view any, keep *pageCopy) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, view); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	etag := ""
	if keep != nil && code == http.StatusOK {
		e := newRendered(keep.version, buf.Bytes(), "text/html; charset=utf-8", time.Time{})
		s.cache.put(keep.key, e)
		etag = e.etag // the body's hash, made once
	}
	writePage(w, r, code, buf.Bytes(), etag)
}

// writePage writes a page's bytes, validated by their hash, etag (bodyETag; "": worked
// out here; see render).
func writePage(w http.ResponseWriter, r *http.Request, code int, body []byte, etag string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	if code == http.StatusOK {
		if etag == "" {
			etag = bodyETag(body)
		}
		h.Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// pageCopy names where a page that reads the store (the river, member pages, the
// dashboard) keeps its last rendered copy: the render cache, under the page's path and
// whole query (hl=, sort=… included) in the reader's language, and the store version
// it was rendered at (the cache drops older versions first when full).
type pageCopy struct {
	key     cacheKey
	version uint64
}

// storePage checks the store before a page reads it, as the feeds do through the
// version: while it is down (or hung: the version's reading says so for its TTL), the
// page is answered from its last copy, or with the 503 error page, at once rather than
// after each read's timeout. It returns the copy to keep, or false when it answered.
func (s *Server) storePage(w http.ResponseWriter, r *http.Request, cfg *config.Config, l *locale) (*pageCopy, bool) {
	v, ok := s.version(r.Context())
	if !ok {
		s.failPage(w, r, l, errUnavailable)
		return nil, false
	}
	if q := r.URL.Query(); q.Has("before") || q.Has("q") {
		// Older pages and searches are not kept: a crawler walking them would push the
		// feeds' entries out of the cache they share.
		return nil, true
	}
	return &pageCopy{key: pageKey(r, cfg, l), version: v}, true
}

// pageKey is the cache key of a page's copy.
func pageKey(r *http.Request, cfg *config.Config, l *locale) cacheKey {
	return cacheKey{cfg: cfg, addr: withQuery(r.URL.Path, r.URL.Query().Encode()), lang: l.Code}
}

// servedCopy answers a page's request, when the store is unavailable, from the page's
// last rendered copy (under this config or, after a reload, an earlier one), as the
// feeds are served from their last rendered bytes. The copy says so at the top of its
// content, so its bytes, and so its ETag, differ from the page's before the outage.
func (s *Server) servedCopy(w http.ResponseWriter, r *http.Request, l *locale, err error) bool {
	if !errors.Is(err, errUnavailable) && !errors.Is(err, store.ErrUnavailable) {
		return false
	}
	key := pageKey(r, s.config(), l)
	e := s.cache.get(key)
	if e == nil {
		if e = s.cache.earlier(key); e == nil {
			return false
		}
	}
	notice := `<main id="main">` + "\n" + `<p class="notice" role="status">` +
		template.HTMLEscapeString(l.T("The news store cannot be reached just now: this is the page as last shown, and it may be out of date.")) + `</p>`
	body := bytes.Replace(e.body, []byte(`<main id="main">`), []byte(notice), 1)
	htmlHeaders(w, l)
	writePage(w, r, http.StatusOK, body, "")
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }
