// Package fetch is the one HTTP client every poll uses. It owns everything between a URL and a
// UTF-8 body: conditional GETs, the total deadline, body caps (on the wire, after gzip and
// after conversion to UTF-8), the dial-time address guard, redirects, per-host and global
// concurrency limits, robots.txt and charset conversion. Every status-code rule (304, 429, Retry-After, ...) lives in this package.
package fetch

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBody      = 10 << 20
	DefaultUserAgent    = "networkfeed/1.0"
	DefaultMaxRedirects = 5
	DefaultPerHost      = 2
	// maxHeaderBytes caps the response header block.
	maxHeaderBytes = 256 << 10
	// headCap is how much of a body Head reads when it has to fall back to GET.
	headCap = 64 << 10
	// robotsCap is the most of a robots.txt that is read (Google's limit is 500 KiB).
	robotsCap = 512 << 10
)

// Options configures a Client. Zero values get the documented defaults.
type Options struct {
	// Timeout is the total deadline for one request, headers and body included, so a server
	// that drips its body is cut off. Waiting for a concurrency slot does not count. Default 30s.
	Timeout time.Duration
	// MaxBody caps the bytes read, enforced on the wire, again after gzip decompression and
	// again after conversion to UTF-8 (which can take three bytes for one). Default 10 MiB.
	MaxBody int64
	// AllowPrivate permits connections to loopback, private, link-local, multicast and
	// unspecified addresses. Leave it false in production.
	AllowPrivate bool
	// UserAgent is sent with every request, e.g. "networkfeed/1.0 (+https://news.example.org/)".
	UserAgent string
	// MaxRedirects is the most redirects followed for one request. Default 5.
	MaxRedirects int
	// PerHost is the most concurrent requests to one host name: 0 means the default 2,
	// a negative value means no limit.
	PerHost int
	// Global is the most concurrent requests overall; <= 0 means no limit.
	Global int
	// RespectRobots makes the client honour robots.txt, fetched once per host and cached
	// for an hour (see checkRobots for what a missing or failing one means).
	RespectRobots bool
	// Exempt lists exact addresses (IP and port) let through the address guard although
	// they are not public: tests put a loopback server in front of a redirect to a
	// blocked address, so that the redirect is what gets refused.
	Exempt []netip.AddrPort
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.PerHost == 0 {
		o.PerHost = DefaultPerHost
	}
	return o
}

// Client fetches URLs. It is safe for concurrent use; build one and share it.
type Client struct {
	opts   Options
	hc     *http.Client
	guard  *guard
	limits *limiter
	robots *robotsCache
}

// exemptSet is the guard's form of Options.Exempt (nil when empty).
func exemptSet(aps []netip.AddrPort) map[netip.AddrPort]bool {
	if len(aps) == 0 {
		return nil
	}
	m := make(map[netip.AddrPort]bool, len(aps))
	for _, ap := range aps {
		m[ap] = true
	}
	return m
}

// New builds a Client with one http.Client and one Transport.
func New(o Options) *Client {
	o = o.withDefaults()
	c := &Client{
		opts:   o,
		guard:  &guard{allowPrivate: o.AllowPrivate, exempt: exemptSet(o.Exempt)},
		limits: newLimiter(o.PerHost, o.Global),
		robots: newRobotsCache(time.Hour),
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   c.guard.control,
	}
	idlePerHost, idle := idleConns(o)
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would make the dial-time guard check the proxy, not the target
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           idle,
		MaxIdleConnsPerHost:    idlePerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // gzip is handled here so the decompressed size can be capped
		MaxResponseHeaderBytes: maxHeaderBytes,
		WriteBufferSize:        1 << 10, // a request is its headers (4 KiB by default, per connection)
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c
}

// idleConns is how many idle connections the client keeps per host and in all: as many
// per host as requests may run on one at once (at least 2), so that a poll does not
// close connections it is about to open again. With no per-host limit that is the
// global one, or, with neither, the total (at least 100).
func idleConns(o Options) (perHost, total int) {
	perHost = o.PerHost
	if perHost < 0 {
		perHost = o.Global
	}
	if perHost <= 0 {
		perHost = 100
	}
	perHost = max(perHost, 2)
	return perHost, max(100, perHost)
}

// AcceptFeeds is an Accept header for feed polls: feeds first, HTML (for discovery) last.
const AcceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1"

// Close closes idle connections; call it on shutdown. The client stays usable.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Request is one GET. ETag and LastModified come from the previous successful poll and make
// the request conditional.
type Request struct {
	URL          string
	ETag         string
	LastModified string
	Accept       string // default "*/*"; see AcceptFeeds
	// Ready, when set, is called once a 2xx answer's headers have arrived, before its
	// body is read: a caller that can only take so many bodies at once waits there (the
	// server's answer waits in the connection, not in memory). The wait counts neither
	// against Options.Timeout nor against the concurrency limits (the request gives its
	// slot back and takes one again to read the body). An error from Ready ends the fetch
	// with it.
	Ready func(context.Context) error
}

// Response is a successful (2xx) answer with its body read and converted to UTF-8.
type Response struct {
	URL         string // final URL after redirects
	StatusCode  int
	Header      http.Header
	ContentType string // media type only, lower case, e.g. "application/rss+xml"
	// Body is the response body, decompressed and, for text, HTML, XML and JSON bodies,
	// converted to UTF-8 (see ToUTF8).
	Body         []byte
	ETag         string
	LastModified string
	// PermanentRedirect is set when the request was answered through 301/308 redirects: the
	// URL the leading chain of permanent redirects ended at, which should replace the
	// configured URL.
	PermanentRedirect string
}

// Get fetches r.URL. A 304 to a conditional request returns ErrNotModified (as a
// *NotModifiedError); any other non-2xx answer returns *HTTPStatusError. Errors can be
// explained with Describe.
func (c *Client) Get(ctx context.Context, r Request) (*Response, error) {
	h := http.Header{}
	if r.ETag != "" {
		h.Set("If-None-Match", r.ETag)
	}
	if r.LastModified != "" {
		h.Set("If-Modified-Since", r.LastModified)
	}
	accept := r.Accept
	if accept == "" {
		accept = "*/*"
	}
	h.Set("Accept", accept)
	resp, err := c.fetch(ctx, http.MethodGet, r.URL, h, c.opts.MaxBody, false, r.Ready)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified && (r.ETag != "" || r.LastModified != "") {
		return nil, &NotModifiedError{URL: r.URL, Redirect: resp.PermanentRedirect}
	}
	if err := statusError(r.URL, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Head checks that url answers, for discovery. It sends HEAD and, when the server refuses
// HEAD (405, 501), falls back to a GET that reads at most 64 KiB of the body (without
// ErrTooLarge). Non-2xx answers return *HTTPStatusError.
func (c *Client) Head(ctx context.Context, url string) (*Response, error) {
	h := http.Header{"Accept": {"*/*"}}
	resp, err := c.fetch(ctx, http.MethodHead, url, h, 0, false, nil)
	if err == nil && (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		resp, err = c.fetch(ctx, http.MethodGet, url, h, headCap, true, nil)
	}
	if err != nil {
		return nil, err
	}
	if err := statusError(url, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// fetch runs one request under the concurrency limits, robots rules and the total deadline,
// reads at most maxBody bytes of the body (after decompression too) and converts it to UTF-8,
// again at most maxBody bytes. With truncate set, a longer body is cut instead of failing
// with ErrTooLarge. ready, when
// not nil, is Request.Ready.
func (c *Client) fetch(ctx context.Context, method, rawURL string, h http.Header, maxBody int64, truncate bool, ready func(context.Context) error) (*Response, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	sl, err := c.limits.hold(ctx, strings.ToLower(u.Hostname()))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: wait for a slot: %w", rawURL, err)
	}
	defer func() { sl.release() }()

	ctx, dl := startDeadline(ctx, c.opts.Timeout)
	defer dl.stop()
	st := &redirectState{slots: sl, deadline: dl}
	ctx = context.WithValue(ctx, redirectKey{}, st)

	if c.opts.RespectRobots {
		if err := c.checkRobots(ctx, u); err != nil {
			return nil, c.wrap(ctx, rawURL, err)
		}
	}
	resp, err := c.do(ctx, method, u.String(), h)
	if err != nil {
		return nil, c.wrap(ctx, rawURL, err)
	}
	defer resp.Body.Close()

	out := &Response{
		URL:               resp.Request.URL.String(),
		StatusCode:        resp.StatusCode,
		Header:            resp.Header,
		ContentType:       mediaType(resp.Header.Get("Content-Type")),
		ETag:              resp.Header.Get("ETag"),
		LastModified:      lastModified(resp.Header, time.Now()),
		PermanentRedirect: st.permanent,
	}
	if method == http.MethodHead || resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Drain a little so the connection can be reused; the body of an error page is not kept.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return out, nil
	}
	if ready != nil {
		// Neither the clock nor the limits count the caller's wait: the limits bound the
		// requests servers are working on, and a caller that waits here for room may be
		// waiting on refreshes that need a slot for requests of their own.
		if !dl.pause() {
			return nil, c.wrap(ctx, rawURL, errDeadline)
		}
		sl.release()
		err := ready(ctx)
		if err == nil {
			if sl, err = c.limits.hold(ctx, sl.host); err != nil {
				err = fmt.Errorf("wait for a slot: %w", err)
			}
		}
		if err != nil {
			sl = &slots{} // nothing held
			return nil, c.wrap(ctx, rawURL, err)
		}
		dl.resume()
	}
	body, err := readBody(resp, maxBody, truncate)
	if err != nil {
		return nil, c.wrap(ctx, rawURL, err)
	}
	if body, err = toUTF8(body, resp.Header.Get("Content-Type"), maxBody, truncate); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	out.Body = body
	return out, nil
}

// lastModified is the answer's Last-Modified, or "" when it is later than the answer's
// Date (or now, when it has none, give or take a minute of clock skew): a server that
// dates its feed by an item dated ahead (an event's day) may keep answering 304 to an
// If-Modified-Since in the future, whatever changes before that day (RFC 9110 forbids
// such a date; sent anyway, it is no validator).
func lastModified(h http.Header, now time.Time) string {
	v := h.Get("Last-Modified")
	lm, err := http.ParseTime(v)
	if err != nil {
		return v
	}
	ref := now.Add(time.Minute)
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		ref = d
	}
	if lm.After(ref) {
		return ""
	}
	return v
}

// deadline ends a fetch (its context, with the cause errDeadline) once it has run for its
// timeout, not counting the time it was paused.
type deadline struct {
	cancel context.CancelCauseFunc
	timer  *time.Timer
	left   time.Duration // what was left when the timer was last started
	since  time.Time     // when it was last started
}

func startDeadline(ctx context.Context, timeout time.Duration) (context.Context, *deadline) {
	ctx, cancel := context.WithCancelCause(ctx)
	d := &deadline{cancel: cancel, left: timeout, since: time.Now()}
	d.timer = time.AfterFunc(timeout, func() { cancel(errDeadline) })
	return ctx, d
}

// pause stops the clock; false means the deadline has passed already.
func (d *deadline) pause() bool {
	if !d.timer.Stop() {
		d.cancel(errDeadline) // the timer's own call may not have run yet
		return false
	}
	d.left -= time.Since(d.since)
	return true
}

// resume starts the clock again after pause.
func (d *deadline) resume() {
	d.since = time.Now()
	d.timer.Reset(d.left)
}

func (d *deadline) stop() {
	d.timer.Stop()
	d.cancel(nil)
}

// do sends one request with the client's headers. The caller closes the body.
func (c *Client) do(ctx context.Context, method, rawURL string, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept-Encoding", "gzip")
	return c.hc.Do(req)
}

// wrap strips the *url.Error layer (it repeats the URL), turns our own deadline into a
// *TimeoutError and adds the "fetch URL:" prefix.
func (c *Client) wrap(ctx context.Context, rawURL string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(context.Cause(ctx), errDeadline) {
		return &TimeoutError{URL: rawURL, After: c.opts.Timeout}
	}
	return fmt.Errorf("fetch %s: %w", rawURL, err)
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported url scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("url has no host")
	}
	return u, nil
}

// redirectState is carried in the request context so checkRedirect can record per-request facts.
type redirectState struct {
	permanent  string // end of the leading chain of 301/308 redirects
	temporary  bool   // a non-permanent redirect was seen
	skipRobots bool   // set for the robots.txt request itself
	// slots are the request's concurrency slots, moved to the host a redirect leads to,
	// with deadline paused while it waits there (nil: not limited, e.g. robots.txt).
	slots    *slots
	deadline *deadline
}

type redirectKey struct{}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	next := req.URL.String()
	for _, v := range via {
		if v.URL.String() == next {
			return &redirectError{URL: next, Loop: true}
		}
	}
	if len(via) > c.opts.MaxRedirects {
		return &redirectError{URL: next, Max: c.opts.MaxRedirects}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to unsupported url scheme %q", req.URL.Scheme)
	}
	st, _ := req.Context().Value(redirectKey{}).(*redirectState)
	if st == nil {
		return nil
	}
	if req.Response != nil {
		switch req.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			if !st.temporary {
				st.permanent = next
			}
		default:
			st.temporary = true
		}
	}
	if st.slots != nil {
		if host := strings.ToLower(req.URL.Hostname()); host != st.slots.host {
			if !st.deadline.pause() {
				return errDeadline
			}
			if err := st.slots.move(req.Context(), host); err != nil {
				return fmt.Errorf("wait for a slot at %s: %w", host, err)
			}
			st.deadline.resume()
		}
	}
	if c.opts.RespectRobots && !st.skipRobots {
		return c.checkRobots(req.Context(), req.URL)
	}
	return nil
}

// readBody reads at most limit bytes of the wire body and at most limit bytes after
// decompression. With truncate, the body is cut at limit instead of failing.
func readBody(resp *http.Response, limit int64, truncate bool) ([]byte, error) {
	if !truncate && resp.ContentLength > limit {
		return nil, &tooLargeError{Limit: limit}
	}
	var r io.Reader = newCapReader(resp.Body, limit, truncate)
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("read gzip body: %w", err)
		}
		defer zr.Close()
		r = zr
	case "deflate":
		zr, err := deflateReader(r)
		if err != nil {
			return nil, fmt.Errorf("read deflate body: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		if compressed[enc] || strings.Contains(enc, ",") {
			return nil, fmt.Errorf("read body: unsupported content encoding %q", enc)
		}
		// Not a content coding at all ("UTF-8", "none", "binary": a header set by
		// mistake, often by a PHP script): the body is as sent, as browsers and other
		// feed readers take it.
	}
	size := min(limit, 16<<10) // unknown length (chunked): most feeds are larger than this
	if resp.ContentLength >= 0 {
		size = min(resp.ContentLength, limit) + 1 // +1: room to see EOF without growing
	}
	body, err := readAll(newCapReader(r, limit, truncate), size)
	if err != nil {
		if truncate && errors.Is(err, io.ErrUnexpectedEOF) && len(body) > 0 {
			return body, nil // a gzip stream cut at the cap
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// compressed are the registered content codings (and their old aliases) this client
// cannot decode: a body in one of them is unreadable.
var compressed = map[string]bool{
	"br": true, "zstd": true, "compress": true, "x-compress": true, "exi": true,
	"pack200-gzip": true, "aes128gcm": true, "dcb": true, "dcz": true, "x-bzip2": true, "bzip2": true,
}

// deflateReader reads a "deflate" body: a zlib stream as RFC 9110 has it, or the raw
// deflate stream some servers (old IIS, hand-written handlers) send instead, which
// browsers read too.
func deflateReader(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		return nil, fmt.Errorf("read zlib header: %w", io.ErrUnexpectedEOF)
	}
	if head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// readAll is io.ReadAll starting from a buffer of the expected size.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), max(2*cap(b), 512))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// capReader returns at most n bytes; one byte more is an error unless truncate is set.
type capReader struct {
	r        io.Reader
	limit    int64 // for the error message
	n        int64 // bytes still allowed
	truncate bool
}

func newCapReader(r io.Reader, limit int64, truncate bool) *capReader {
	return &capReader{r: r, limit: limit, n: limit, truncate: truncate}
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		if c.truncate {
			return 0, io.EOF
		}
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, &tooLargeError{Limit: c.limit}
		}
		return 0, err
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	return mt
}
