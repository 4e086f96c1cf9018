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
	"strconv"
	"sync/atomic"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	assets "github.com/iss-network/networkfeed/web"
)

// Reader is what the web needs from the store.
type Reader interface {
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	Item(ctx context.Context, id string) (news.Item, error)
	Source(ctx context.Context, url string) (news.SourceState, error)
	Sources(ctx context.Context) ([]news.SourceState, error)
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
}

// New parses the templates (failing fast on any error) and returns a Server.
func New(o Options) (*Server, error) {
	st, err := newStatic(assets.FS())
	if err != nil {
		return nil, err
	}
	s := &Server{store: o.Store, config: o.Config, log: o.Log, static: st, cache: newRenderCache(2048), ready: o.Ready, metrics: o.Metrics, now: time.Now}
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
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics)
	}
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: store: %v\n", err)
		return
	}
	if s.ready != nil && !s.ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: polling paused (store unavailable)")
		return
	}
	fmt.Fprintln(w, "ready")
}

// version reads the store version; when the store is down it reports false, and cached
// responses are served stale.
func (s *Server) version(ctx context.Context) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	v, err := s.store.Version(ctx)
	if err != nil {
		if s.storeOK.Swap(false) {
			s.log.Warn("store unavailable: serving cached responses", "err", err)
		}
		return 0, false
	}
	s.storeOK.Store(true)
	return v, true
}

var errUnavailable = errors.New("the store is unavailable and nothing is cached for this address")

// fail writes an error page or message with the right status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *BadRequest
	code := http.StatusInternalServerError
	msg := "internal error"
	switch {
	case errors.As(err, &br):
		code, msg = http.StatusBadRequest, br.Msg
	case errors.Is(err, errNotFound):
		code, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, errUnavailable):
		code, msg = http.StatusServiceUnavailable, err.Error()
	default:
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

var errNotFound = errors.New("not found")

// render executes a template into a buffer, then writes it: a template error never
// leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, code int, view any) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, view); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src * data:; style-src 'self'; script-src 'none'; frame-ancestors 'self'")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func itoa(n int) string { return strconv.Itoa(n) }
