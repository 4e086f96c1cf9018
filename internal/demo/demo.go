// Package demo serves a small, offline network of member sites on loopback, so that
// `networkfeed demo` can show the whole pipeline working without the internet.
//
// The sites are static files embedded from sites/: a Joomla-style news page without a
// feed, RSS 2.0 (one of them in ISO-8859-1), Atom 1.0, JSON Feed 1.1, a French news page
// for automatic detection and a Spanish WordPress homepage for feed discovery. Files
// carry the placeholder {{base}}, replaced at start by the network's URL, because feeds
// must hold absolute links and the port is only known once listening.
package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

//go:embed all:sites
var sitesFS embed.FS

//go:embed feeds.yaml.tmpl
var configTemplate []byte

// placeholder is replaced by the network URL (no trailing slash) in every served file
// and in the config.
const placeholder = "{{base}}"

// modTime is the Last-Modified of every demo file: the sites are static, and this is
// later than every item they carry.
var modTime = time.Date(2026, time.November, 2, 8, 30, 0, 0, time.UTC)

// Network is a running demo network.
type Network struct {
	// URL is the network's base URL, http://127.0.0.1:PORT, without a trailing slash.
	URL string

	srv       *http.Server
	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed when Close starts
	served    chan error    // receives Serve's result once
}

// Start listens on a free loopback port and serves the demo sites until ctx is done
// or Close is called.
func Start(ctx context.Context) (*Network, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start demo network: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for demo network: %w", err)
	}
	base := "http://" + ln.Addr().String()
	files, err := loadFiles(base)
	if err != nil {
		ln.Close()
		return nil, err
	}
	n := &Network{
		URL: base,
		srv: &http.Server{
			Handler:           &handler{files: files},
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return ctx },
		},
		done:   make(chan struct{}),
		served: make(chan error, 1),
	}
	go func() { n.served <- n.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			n.Close()
		case <-n.done:
		}
	}()
	return n, nil
}

// Close stops the network. It is safe to call more than once and after ctx is done.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		close(n.done)
		err := n.srv.Close()
		if serr := <-n.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			n.closeErr = fmt.Errorf("close demo network: %w", err)
		}
	})
	return n.closeErr
}

// Config returns a complete feeds.yaml for the demo network: every source points at
// n.URL, private addresses are allowed (the network is on loopback), polling runs every
// 5m and network.url is http://localhost:8080/ (the caller may replace it).
func (n *Network) Config() []byte {
	return bytes.ReplaceAll(configTemplate, []byte(placeholder), []byte(n.URL))
}

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// loadFiles reads every embedded site file, fills in base and computes its
// Content-Type and ETag. Keys are URL paths ("/au/feed/index.rss").
func loadFiles(base string) (map[string]*file, error) {
	sub, err := fs.Sub(sitesFS, "sites")
	if err != nil {
		return nil, fmt.Errorf("open demo sites: %w", err)
	}
	files := map[string]*file{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(placeholder), []byte(base))
		sum := sha256.Sum256(b)
		files["/"+p] = &file{body: b, ctype: contentType(p, b), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load demo sites: %w", err)
	}
	return files, nil
}

// contentType is the media type for a demo file's extension. charset=utf-8 is added
// only for text that really is UTF-8, so that a Latin-1 feed is left to its XML
// declaration, as many real servers do.
func contentType(name string, body []byte) string {
	var t string
	switch ext := path.Ext(name); ext {
	case ".rss":
		t = "application/rss+xml"
	case ".atom":
		t = "application/atom+xml"
	case ".json":
		t = "application/feed+json"
	case ".html":
		t = "text/html"
	case ".txt":
		t = "text/plain"
	default:
		t = mime.TypeByExtension(ext)
		if t == "" {
			t = "application/octet-stream"
		}
		return t
	}
	if utf8.Valid(body) {
		t += "; charset=utf-8"
	}
	return t
}

// indexNames are tried, in order, for a URL path ending in "/".
var indexNames = []string{"index.html", "index.rss", "index.atom", "index.json"}

type handler struct {
	files map[string]*file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
		p += "/"
	}
	f := h.lookup(p)
	if f == nil {
		if h.lookup(p+"/") != nil { // a directory asked for without its slash
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "max-age=60")
	http.ServeContent(w, r, "", modTime, bytes.NewReader(f.body))
}

func (h *handler) lookup(p string) *file {
	if !strings.HasSuffix(p, "/") {
		return h.files[p]
	}
	for _, name := range indexNames {
		if f := h.files[p+name]; f != nil {
			return f
		}
	}
	return nil
}
