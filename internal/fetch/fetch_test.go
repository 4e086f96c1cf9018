package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serve starts an httptest server for h; done is closed before the server shuts down so
// handlers that wait for the client to give up can also stop on their own.
func serve(t *testing.T, h http.Handler) (srv *httptest.Server, done <-chan struct{}) {
	t.Helper()
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return srv, ch
}

// loopbackClient is a client allowed to reach the loopback httptest servers.
func loopbackClient(o Options) *Client {
	o.AllowPrivate = true
	return New(o)
}

func TestConditionalGet(t *testing.T) {
	const etag, lastMod = `"v1"`, "Mon, 02 Jan 2006 15:04:05 GMT"
	var ua, acceptEnc atomic.Value
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		acceptEnc.Store(r.Header.Get("Accept-Encoding"))
		if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, "<rss/>")
	}))
	c := loopbackClient(Options{UserAgent: "networkfeed-test/1.0"})
	ctx := context.Background()

	resp, err := c.Get(ctx, Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatalf("first Get: %v", err)
	}
	if resp.StatusCode != 200 || resp.ETag != etag || resp.LastModified != lastMod || string(resp.Body) != "<rss/>" {
		t.Errorf("first Get = %d etag %q lm %q body %q", resp.StatusCode, resp.ETag, resp.LastModified, resp.Body)
	}
	if resp.ContentType != "application/rss+xml" {
		t.Errorf("ContentType = %q, want media type only", resp.ContentType)
	}
	if got := ua.Load(); got != "networkfeed-test/1.0" {
		t.Errorf("server saw User-Agent %q", got)
	}
	if got := acceptEnc.Load(); got != "gzip" {
		t.Errorf("server saw Accept-Encoding %q", got)
	}

	for _, tt := range []struct {
		name string
		req  Request
	}{
		{"etag", Request{URL: srv.URL + "/feed", ETag: etag}},
		{"last-modified", Request{URL: srv.URL + "/feed", LastModified: lastMod}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(ctx, tt.req)
			if !errors.Is(err, ErrNotModified) {
				t.Fatalf("conditional Get error = %v, want ErrNotModified", err)
			}
		})
	}
	t.Run("stale etag gets 200", func(t *testing.T) {
		resp, err := c.Get(ctx, Request{URL: srv.URL + "/feed", ETag: `"v0"`})
		if err != nil || resp.StatusCode != 200 || resp.ETag != etag {
			t.Fatalf("Get = %+v, %v", resp, err)
		}
	})
}

// TestLastModifiedInTheFuture: a Last-Modified later than the answer's Date is not kept
// as a validator. A server that dates its feed by an item dated ahead (an event's day)
// and answers 304 to any If-Modified-Since not before that date would otherwise answer
// 304 to every poll until that day, however the feed changes.
func TestLastModifiedInTheFuture(t *testing.T) {
	future := time.Now().Add(90 * 24 * time.Hour).UTC().Format(http.TimeFormat)
	var version atomic.Int32
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !ims.Before(time.Now().Add(time.Hour)) {
			w.WriteHeader(http.StatusNotModified) // "not modified since then": it was not, before that day
			return
		}
		w.Header().Set("Last-Modified", future)
		fmt.Fprintf(w, "<rss><!-- version %d --></rss>", version.Load())
	}))
	c := loopbackClient(Options{})
	first, err := c.Get(context.Background(), Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if first.LastModified != "" {
		t.Errorf("kept Last-Modified %q, later than the answer's Date %q", first.LastModified, first.Header.Get("Date"))
	}
	version.Store(1)
	next, err := c.Get(context.Background(), Request{URL: srv.URL, ETag: first.ETag, LastModified: first.LastModified})
	if err != nil || !strings.Contains(string(next.Body), "version 1") {
		t.Fatalf("next poll after the feed changed: %v", err)
	}
	if got := lastModified(http.Header{"Last-Modified": {"Mon, 02 Mar 2026 10:00:00 GMT"}, "Date": {"Mon, 02 Mar 2026 10:00:00 GMT"}}, time.Now()); got == "" {
		t.Error("a Last-Modified equal to the Date was dropped")
	}
}

func TestNotModifiedWithoutConditionIsAnError(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	_, err := loopbackClient(Options{}).Get(context.Background(), Request{URL: srv.URL})
	var se *HTTPStatusError
	if !errors.As(err, &se) || se.Code != 304 || errors.Is(err, ErrNotModified) {
		t.Fatalf("err = %v, want *HTTPStatusError 304", err)
	}
}

func TestGzipBody(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
		zw := gzip.NewWriter(w)
		zw.Write([]byte("Z\xfcrich"))
		zw.Close()
	}))
	resp, err := loopbackClient(Options{}).Get(context.Background(), Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "Zürich" {
		t.Errorf("body = %q, want decompressed and converted", resp.Body)
	}
}

// TestContentEncodings: a "deflate" body may be a zlib stream or, as some servers send
// it, raw deflate; a Content-Encoding that names no content coding at all (a header set
// by mistake, "UTF-8") leaves the body as sent, as browsers and feed readers take it;
// codings this client cannot decode stay errors.
func TestContentEncodings(t *testing.T) {
	const doc = "<rss><channel><title>Z\u00fcrich</title></channel></rss>"
	var zl, raw bytes.Buffer
	zw := zlib.NewWriter(&zl)
	zw.Write([]byte(doc))
	zw.Close()
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	fw.Write([]byte(doc))
	fw.Close()
	tests := []struct {
		encoding string
		body     []byte
		wantErr  string
	}{
		{"deflate", zl.Bytes(), ""},
		{"deflate", raw.Bytes(), ""},
		{"UTF-8", []byte(doc), ""},
		{"none", []byte(doc), ""},
		{"br", []byte("\x1b\x03"), `unsupported content encoding "br"`},
		{"gzip, gzip", []byte("\x1f\x8b"), `unsupported content encoding "gzip, gzip"`},
	}
	for _, tt := range tests {
		t.Run(tt.encoding, func(t *testing.T) {
			srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", tt.encoding)
				w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
				w.Write(tt.body)
			}))
			resp, err := loopbackClient(Options{}).Get(context.Background(), Request{URL: srv.URL})
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case string(resp.Body) != doc:
				t.Errorf("body = %q, want %q", resp.Body, doc)
			}
		})
	}
}

func TestCharsetOverHTTP(t *testing.T) {
	tests := []struct {
		file, contentType string
		want              []string
	}{
		{"cp1252.html", "text/html", []string{"Café news", "Zürich", "€"}},
		{"latin1.rss", "application/rss+xml", []string{"Zürich", "Café", `encoding="UTF-8"`}},
		{"utf16le.xml", "application/atom+xml", []string{"Café € Zürich 日本"}},
		{"invalid-utf8.rss", "application/rss+xml; charset=utf-8", []string{"café \uFFFD broken"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(body)
			}))
			resp, err := loopbackClient(Options{}).Get(context.Background(), Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !bytes.Contains(resp.Body, []byte(w)) {
					t.Errorf("body lacks %q:\n%s", w, resp.Body)
				}
			}
		})
	}
}

func TestTimeoutOnDrip(t *testing.T) {
	srv, done := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drip(w, r, nil)
	}))
	_ = done
	c := loopbackClient(Options{Timeout: 200 * time.Millisecond})
	_, err := c.Get(context.Background(), Request{URL: srv.URL})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	kind, words := Describe(err)
	if kind != "timeout" || words != "timed out after 200ms" {
		t.Errorf("Describe = %q, %q", kind, words)
	}
}

func TestCallerCancelIsNotATimeout(t *testing.T) {
	started := make(chan struct{})
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drip(w, r, started)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := loopbackClient(Options{}).Get(ctx, Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if kind, _ := Describe(err); kind != "other" {
		t.Errorf("kind = %q", kind)
	}
}

// drip writes one byte at a time until the client goes away; started (if any) is closed after
// the headers are sent.
func drip(w http.ResponseWriter, r *http.Request, started chan struct{}) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	if started != nil {
		close(started)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusMovedPermanently))
	mux.Handle("/old308", http.RedirectHandler("/new", http.StatusPermanentRedirect))
	mux.Handle("/temp", http.RedirectHandler("/new", http.StatusFound))
	mux.Handle("/perm-then-temp", http.RedirectHandler("/temp", http.StatusMovedPermanently))
	mux.Handle("/temp-then-perm", http.RedirectHandler("/old", http.StatusFound))
	mux.Handle("/loop-a", http.RedirectHandler("/loop-b", http.StatusFound))
	mux.Handle("/loop-b", http.RedirectHandler("/loop-a", http.StatusFound))
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "new") })
	srv, _ := serve(t, mux)
	c := loopbackClient(Options{MaxRedirects: 5})

	tests := []struct {
		path, wantPermanent, wantWords string
		wantErr                        error
	}{
		{path: "/old", wantPermanent: "/new"},
		{path: "/old308", wantPermanent: "/new"},
		{path: "/temp", wantPermanent: ""},
		{path: "/perm-then-temp", wantPermanent: "/temp"},
		{path: "/temp-then-perm", wantPermanent: ""},
		{path: "/loop-a", wantErr: ErrTooManyRedirects, wantWords: "redirect loop at " + srv.URL + "/loop-a"},
		{path: "/chain/0", wantErr: ErrTooManyRedirects, wantWords: "too many redirects (more than 5)"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := c.Get(context.Background(), Request{URL: srv.URL + tt.path})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if kind, words := Describe(err); kind != "redirects" || words != tt.wantWords {
					t.Errorf("Describe = %q, %q", kind, words)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantPermanent != "" {
				want = srv.URL + tt.wantPermanent
			}
			if resp.PermanentRedirect != want || resp.URL != srv.URL+"/new" {
				t.Errorf("PermanentRedirect = %q (want %q), URL = %q", resp.PermanentRedirect, want, resp.URL)
			}
		})
	}
}

func TestAddressGuard(t *testing.T) {
	target, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret")
	}))
	var hits atomic.Int32
	front, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	frontAddr := netip.MustParseAddrPort(front.Listener.Addr().String())
	port := target.Listener.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name, url string
		viaFront  bool // exempt the front server, so the redirect is what gets blocked
		wantAddr  string
	}{
		{name: "first request to 127.0.0.1", url: target.URL, wantAddr: "127.0.0.1"},
		{name: "first request to localhost", url: fmt.Sprintf("http://localhost:%d/", port)},
		{name: "redirect to 127.0.0.1", url: target.URL, viaFront: true, wantAddr: "127.0.0.1"},
		{name: "redirect to 169.254.169.254", url: "http://169.254.169.254/latest/meta-data/", viaFront: true, wantAddr: "169.254.169.254"},
		{name: "redirect to 0.0.0.0", url: fmt.Sprintf("http://0.0.0.0:%d/", port), viaFront: true, wantAddr: "0.0.0.0"},
		{name: "redirect to ::ffff:127.0.0.1", url: fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), viaFront: true, wantAddr: "127.0.0.1"},
		{name: "redirect to 10.0.0.1", url: "http://10.0.0.1/", viaFront: true, wantAddr: "10.0.0.1"},
		{name: "redirect to [::1]", url: fmt.Sprintf("http://[::1]:%d/", port), viaFront: true, wantAddr: "::1"},
		{name: "redirect to [fd00::1]", url: "http://[fd00::1]/", viaFront: true, wantAddr: "fd00::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			u := tt.url
			if tt.viaFront {
				o.Exempt = []netip.AddrPort{frontAddr}
				u = front.URL + "/?to=" + tt.url
			}
			c := New(o)
			before := hits.Load()
			resp, err := c.Get(context.Background(), Request{URL: u})
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("Get = %+v, %v; want ErrBlockedAddress", resp, err)
			}
			if tt.viaFront && hits.Load() != before+1 {
				t.Errorf("front server not reached: the block must come from the redirect hop")
			}
			kind, words := Describe(err)
			if kind != "blocked_address" || (tt.wantAddr != "" && !strings.HasSuffix(words, " "+tt.wantAddr)) {
				t.Errorf("Describe = %q, %q", kind, words)
			}
		})
	}
}

func TestPerHostLimit(t *testing.T) {
	var cur, peak atomic.Int32
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond) // lets concurrent requests pile up; not asserted on
		cur.Add(-1)
		fmt.Fprint(w, "ok")
	}))
	c := loopbackClient(Options{PerHost: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			_, err := c.Get(context.Background(), Request{URL: srv.URL})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p < 1 || p > 2 {
		t.Fatalf("peak concurrent requests = %d, want 1..2", p)
	}
}

// The per-host limit holds for the host a redirect leads to: a request redirected to a
// host whose one slot is taken waits there, and gives its first host's slot back.
func TestPerHostLimitFollowsRedirects(t *testing.T) {
	var cur, peak atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	target, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		cur.Add(-1)
		fmt.Fprint(w, "ok")
	}))
	// The same server under another host name: localhost, not 127.0.0.1.
	targetURL := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	redirected := make(chan struct{})
	front, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plain" {
			fmt.Fprint(w, "front")
			return
		}
		close(redirected)
		http.Redirect(w, r, targetURL+"/hold", http.StatusFound)
	}))
	c := loopbackClient(Options{PerHost: 1})
	ctx := context.Background()
	errs := make(chan error, 2)
	go func() { _, err := c.Get(ctx, Request{URL: targetURL + "/direct"}); errs <- err }()
	<-entered
	go func() { _, err := c.Get(ctx, Request{URL: front.URL + "/go"}); errs <- err }()
	<-redirected
	// The redirected request waits at localhost; it no longer holds 127.0.0.1's slot.
	if resp, err := c.Get(ctx, Request{URL: front.URL + "/plain"}); err != nil || string(resp.Body) != "front" {
		t.Fatalf("front host while its redirected request waits elsewhere: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // room for a request that ignored the limit to arrive
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("peak concurrent requests at the redirect's host = %d, want 1", p)
	}
}

// A redirect's move to another host takes its slots again in the order a new request
// takes them (host, then global): one global slot, a request at a holding it, a new
// request to b waiting for it with b's slot taken; a's redirect to b must not wait
// forever on b's slot while keeping the global one the other waits for.
func TestMoveTakesSlotsInOrder(t *testing.T) {
	l := newLimiter(1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := l.hold(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		s, err := l.hold(ctx, "b")
		if err == nil {
			s.release()
		}
		done <- err
	}()
	for l.taken("b") == 0 { // the new request has b's slot and waits for the global one
		time.Sleep(time.Millisecond)
	}
	if err := a.move(ctx, "b"); err != nil {
		t.Fatalf("move to b: %v", err)
	}
	a.release()
	if err := <-done; err != nil {
		t.Fatalf("request to b: %v", err)
	}
}

// taken is how many of host's slots are held.
func (l *limiter) taken(host string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.hosts[host]; h != nil {
		return len(h.ch)
	}
	return 0
}

// TestLimiterForgetsIdleHosts: the limiter kept a semaphore for every host name ever
// asked for, for the life of the process (a site leading requests to ever new names
// made it grow for good). A host's entry goes when no request holds or waits for one of
// its slots, and the limit still holds while one does.
func TestLimiterForgetsIdleHosts(t *testing.T) {
	l := newLimiter(1, 4)
	ctx := context.Background()
	for i := range 100 {
		s, err := l.hold(ctx, fmt.Sprintf("h%d.example.org", i))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.move(ctx, fmt.Sprintf("moved%d.example.org", i)); err != nil {
				t.Fatal(err)
			}
		}
		s.release()
	}
	a, err := l.hold(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.hold(short, "a"); err == nil {
		t.Fatal("a second request to a held host got a slot: the limit is 1")
	}
	waited := make(chan error, 1)
	go func() {
		s, err := l.hold(ctx, "a")
		if err == nil {
			s.release()
		}
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("a request to a held host did not wait: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	a.release()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.hosts); n != 0 {
		t.Errorf("%d hosts kept after every request ended, want 0", n)
	}
}

// With no per-host limit, rounds of concurrent requests to one host reuse the
// connections of the round before instead of opening new ones (a poll of many feeds on
// one host): the client keeps as many idle per host as may run at once.
func TestIdleConnectionsFollowTheLimits(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // lets the round's requests overlap
		fmt.Fprint(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := loopbackClient(Options{PerHost: -1, Global: 8})
	for range 3 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := c.Get(context.Background(), Request{URL: srv.URL}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > 8 {
		t.Errorf("3 rounds of 8 requests opened %d connections, want at most 8", n)
	}
	for _, tc := range []struct {
		o                Options
		perHost, inTotal int
	}{
		{Options{PerHost: 2}, 2, 100},
		{Options{PerHost: 1}, 2, 100},
		{Options{PerHost: 300}, 300, 300},
		{Options{PerHost: -1, Global: 256}, 256, 256},
		{Options{PerHost: -1}, 100, 100},
	} {
		if p, all := idleConns(tc.o); p != tc.perHost || all != tc.inTotal {
			t.Errorf("idleConns(%+v) = %d, %d; want %d, %d", tc.o, p, all, tc.perHost, tc.inTotal)
		}
	}
}

func TestGlobalLimitAcrossHosts(t *testing.T) {
	var cur, peak atomic.Int32
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		if n > peak.Load() {
			peak.Store(n) // racy max is fine: any value > 1 already fails the test
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
	}))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := loopbackClient(Options{PerHost: -1, Global: 1})
	var wg sync.WaitGroup
	for i := range 8 {
		host := "127.0.0.1"
		if i%2 == 0 {
			host = "localhost"
		}
		wg.Go(func() {
			if _, err := c.Get(context.Background(), Request{URL: fmt.Sprintf("http://%s:%d/", host, port)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 1 {
		t.Fatalf("peak concurrent requests = %d, want 1", p)
	}
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	l := newLimiter(2, 0)
	ctx := context.Background()
	r1, err1 := l.acquire(ctx, "a")
	r2, err2 := l.acquire(ctx, "a")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cancelled, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("third acquire on a full host: err = %v, want context.Canceled", err)
	}
	rb, err := l.acquire(cancelled, "b")
	if err != nil {
		t.Fatalf("another host is not limited by a's slots: %v", err)
	}
	rb()
	r1()
	r1() // a second release must not free a second slot
	r3, err := l.acquire(cancelled, "a")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if _, err := l.acquire(cancelled, "a"); err == nil {
		t.Fatal("double release freed two slots")
	}
	r2()
	r3()
}

func TestRobots(t *testing.T) {
	var robotsHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		robotsHits.Add(1)
		fmt.Fprint(w, "User-agent: *\nDisallow: /\n\nUser-agent: networkfeed\nDisallow: /private\nAllow: /\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "page") })
	mux.Handle("/go", http.RedirectHandler("/private/x", http.StatusFound))
	srv, _ := serve(t, mux)
	c := loopbackClient(Options{RespectRobots: true, UserAgent: "networkfeed/1.0 (+https://news.example.org/)"})

	tests := []struct {
		path    string
		allowed bool
	}{
		{"/news", true},
		{"/private/report", false},
		{"/go", false}, // the redirect target is checked too
		{"/", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := c.Get(context.Background(), Request{URL: srv.URL + tt.path})
			if tt.allowed && err != nil {
				t.Fatalf("err = %v, want allowed", err)
			}
			if !tt.allowed {
				if !errors.Is(err, ErrRobots) {
					t.Fatalf("err = %v, want ErrRobots", err)
				}
				if kind, _ := Describe(err); kind != "robots" {
					t.Errorf("kind = %q", kind)
				}
			}
		})
	}
	if n := robotsHits.Load(); n != 1 {
		t.Errorf("robots.txt fetched %d times, want once", n)
	}

	t.Run("cache expires", func(t *testing.T) {
		c.robots.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/news"}); err != nil {
			t.Fatal(err)
		}
		if n := robotsHits.Load(); n != 2 {
			t.Errorf("robots.txt fetched %d times after expiry, want 2", n)
		}
	})
}

func TestRobotsFailureAllows(t *testing.T) {
	for _, code := range []int{404, 410, 403} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					http.Error(w, "User-agent: *\nDisallow: /\n", code)
					return
				}
				fmt.Fprint(w, "ok")
			}))
			c := loopbackClient(Options{RespectRobots: true})
			resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/feed"})
			if err != nil || string(resp.Body) != "ok" {
				t.Fatalf("Get = %v, %v; want allowed", resp, err)
			}
		})
	}
}

// A robots.txt answering a server error disallows everything (RFC 9309 "unreachable"),
// unless a copy read before is kept: that copy holds until the server answers again.
func TestRobotsServerError(t *testing.T) {
	var mu sync.Mutex
	robots := 503
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			mu.Lock()
			code := robots
			mu.Unlock()
			if code != 200 {
				http.Error(w, "busy", code)
				return
			}
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	set := func(code int) { mu.Lock(); robots = code; mu.Unlock() }
	c := loopbackClient(Options{RespectRobots: true})
	now := time.Now()
	c.robots.now = func() time.Time { return now }
	get := func(path string) error {
		_, err := c.Get(context.Background(), Request{URL: srv.URL + path})
		return err
	}

	err := get("/feed")
	if kind, words := Describe(err); !errors.Is(err, ErrRobots) || kind != "robots" || !strings.Contains(words, "HTTP 503") {
		t.Fatalf("robots.txt 503, no copy kept: err %v (%s: %s), want refused by robots, naming the 503", err, kind, words)
	}
	set(200)
	now = now.Add(robotsRetry + time.Second) // asked again soon, not after the hour
	if err := get("/feed"); err != nil {
		t.Fatalf("robots.txt back: %v", err)
	}
	if err := get("/private/feed"); !errors.Is(err, ErrRobots) {
		t.Fatalf("disallowed path: %v", err)
	}
	set(500)
	now = now.Add(2 * time.Hour)
	if err := get("/feed"); err != nil {
		t.Errorf("robots.txt 500 with a copy kept: %v, want the copy to hold", err)
	}
	if err := get("/private/feed"); !errors.Is(err, ErrRobots) {
		t.Errorf("robots.txt 500 with a copy kept, disallowed path: %v", err)
	}
}

// TestRobotsCacheIsBounded: parsed, a robots.txt can take a hundred times its size (its
// wildcard patterns become regexps: a 512 KiB one held 63 MB), and the cache kept every
// host's for good, so that a site leading requests to ever new host names (article
// links, redirects) made the process hold more and more. Expired files are let go, and
// the rest weigh no more than maxBytes, those expiring soonest let go first.
func TestRobotsCacheIsBounded(t *testing.T) {
	robots := []byte("User-agent: *\nDisallow: /*private*\n" + strings.Repeat("Disallow: /*.pdf$\n", 100))
	var hits [4]atomic.Int32
	var urls [4]string
	for i := range urls {
		srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				hits[i].Add(1)
				w.Write(robots)
				return
			}
			fmt.Fprint(w, "ok")
		}))
		urls[i] = srv.URL
	}
	c := loopbackClient(Options{RespectRobots: true})
	now := time.Now()
	c.robots.now = func() time.Time { return now }
	w := robotsWeight(robots)
	c.robots.maxBytes = 2*w + w/2 // room for two
	get := func(i int, path string) error {
		now = now.Add(time.Second) // so that the first read expires first
		_, err := c.Get(context.Background(), Request{URL: urls[i] + path})
		return err
	}
	held := func() (n int, weight int64) {
		c.robots.mu.Lock()
		defer c.robots.mu.Unlock()
		for _, e := range c.robots.entries {
			n, weight = n+1, weight+e.weight
		}
		return n, weight
	}

	for i := range 3 {
		if err := get(i, "/feed"); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	if n, weight := held(); n != 2 || weight > c.robots.maxBytes {
		t.Fatalf("after 3 hosts: %d robots.txt kept weighing %d, want 2 within %d", n, weight, c.robots.maxBytes)
	}
	// The host let go is asked again, and its rules still hold.
	if err := get(0, "/private/x"); !errors.Is(err, ErrRobots) {
		t.Fatalf("host let go, disallowed path: %v, want ErrRobots", err)
	}
	if n := hits[0].Load(); n != 2 {
		t.Errorf("robots.txt of the host let go read %d times, want 2", n)
	}
	if n := hits[2].Load(); n != 1 {
		t.Errorf("robots.txt of a host kept read %d times, want 1", n)
	}

	t.Run("expired files are let go", func(t *testing.T) {
		c.robots.maxBytes = robotsCacheBytes
		now = now.Add(2 * time.Hour)
		if err := get(3, "/feed"); err != nil {
			t.Fatal(err)
		}
		if n, _ := held(); n != 1 {
			t.Errorf("%d robots.txt kept, want only the one read after the others expired", n)
		}
	})
}

func TestHead(t *testing.T) {
	big := strings.Repeat("a", 200<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/head-ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		if r.Method == http.MethodGet {
			fmt.Fprint(w, big)
		}
	})
	mux.HandleFunc("/no-head", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, big)
	})
	mux.HandleFunc("/missing", http.NotFound)
	srv, _ := serve(t, mux)
	c := loopbackClient(Options{})
	ctx := context.Background()

	resp, err := c.Head(ctx, srv.URL+"/head-ok")
	if err != nil || resp.ContentType != "application/rss+xml" || len(resp.Body) != 0 {
		t.Errorf("Head(/head-ok) = %+v, %v", resp, err)
	}
	resp, err = c.Head(ctx, srv.URL+"/no-head")
	if err != nil || resp.ContentType != "text/html" || len(resp.Body) != headCap {
		t.Errorf("Head(/no-head): err %v, body %d bytes, want %d", err, len(resp.Body), headCap)
	}
	_, err = c.Head(ctx, srv.URL+"/missing")
	if kind, _ := Describe(err); kind != "http_404" {
		t.Errorf("Head(/missing) err = %v", err)
	}
}

func TestBadURL(t *testing.T) {
	c := New(Options{})
	for _, u := range []string{"ftp://example.org/", "file:///etc/passwd", "http://", "::"} {
		if _, err := c.Get(context.Background(), Request{URL: u}); err == nil {
			t.Errorf("Get(%q) succeeded", u)
		}
	}
}

// A caller's wait in Ready, between a 2xx answer's headers and its body, is not the
// server's time: it does not count against the timeout, which still covers the rest.
func TestReadyWaitIsNotTimed(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/drip":
			drip(w, r, nil)
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("the body"))
		}
	}))
	c := loopbackClient(Options{Timeout: 200 * time.Millisecond})
	readies := 0
	ready := func(ctx context.Context) error {
		readies++
		select {
		case <-time.After(400 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/ok", Ready: ready})
	if err != nil || string(resp.Body) != "the body" || readies != 1 {
		t.Fatalf("after a 400 ms wait in Ready with a 200 ms timeout: %v, %q, Ready called %d times", err, resp.Body, readies)
	}
	var he *HTTPStatusError
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/gone", Ready: ready}); !errors.As(err, &he) || he.Code != http.StatusGone || readies != 1 {
		t.Fatalf("a 410: %v, Ready called %d times, want only for 2xx answers", err, readies)
	}
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/drip", Ready: ready}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("a drip after Ready: %v, want the timeout", err)
	}
	refused := errors.New("no room")
	if _, err := c.Get(context.Background(), Request{URL: srv.URL + "/ok", Ready: func(context.Context) error { return refused }}); !errors.Is(err, refused) {
		t.Fatalf("Ready failing: %v, want its error", err)
	}
}

// A request waiting in Ready holds no concurrency slot: others run meanwhile, and it
// takes one again to read its body.
func TestReadyWaitHoldsNoSlot(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body of " + r.URL.Path))
	}))
	c := loopbackClient(Options{Global: 1, PerHost: 1})
	waiting, carryOn := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get(context.Background(), Request{URL: srv.URL + "/a", Ready: func(context.Context) error {
			close(waiting)
			<-carryOn
			return nil
		}})
		if err == nil && string(resp.Body) != "body of /a" {
			err = fmt.Errorf("body %q", resp.Body)
		}
		done <- err
	}()
	<-waiting
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, Request{URL: srv.URL + "/b"})
	if err != nil || string(resp.Body) != "body of /b" {
		t.Fatalf("a request while another waits in Ready: %v", err)
	}
	close(carryOn)
	if err := <-done; err != nil {
		t.Fatalf("the waiting request: %v", err)
	}
}

// TestRobotsTooManyRequests (found by a helper's audit): a robots.txt answering 429 was
// taken as missing (RFC 9309's 4xx, "unavailable": everything allowed) and kept so for
// the hour, so the feed was fetched at once from a host that had just asked for fewer
// requests. Like a server error (Google's crawler treats 429 as one), it now refuses the
// site's URLs without asking for them, and robots.txt is asked again soon, or once the
// host's Retry-After has passed, which the error carries for the poller.
func TestRobotsTooManyRequests(t *testing.T) {
	cases := []struct {
		name       string
		code       int
		retryAfter string
		want       time.Duration // when robots.txt is asked again
	}{
		{"429 without Retry-After", http.StatusTooManyRequests, "", robotsRetry},
		{"429 with Retry-After", http.StatusTooManyRequests, "1800", 30 * time.Minute},
		{"503 with Retry-After", http.StatusServiceUnavailable, "1800", 30 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var robotsHits, feedHits atomic.Int32
			var limited atomic.Bool
			limited.Store(true)
			srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					robotsHits.Add(1)
					if limited.Load() {
						if tc.retryAfter != "" {
							w.Header().Set("Retry-After", tc.retryAfter)
						}
						http.Error(w, "slow down", tc.code)
						return
					}
					fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
					return
				}
				feedHits.Add(1)
				fmt.Fprint(w, "ok")
			}))
			c := loopbackClient(Options{RespectRobots: true})
			now := time.Now()
			c.robots.now = func() time.Time { return now }
			get := func() error {
				_, err := c.Get(context.Background(), Request{URL: srv.URL + "/feed"})
				return err
			}

			err := get()
			kind, words := Describe(err)
			if !errors.Is(err, ErrRobots) || kind != "robots" || !strings.Contains(words, fmt.Sprintf("HTTP %d", tc.code)) {
				t.Fatalf("robots.txt %d: err %v (%s: %s), want refused by robots, naming the %d", tc.code, err, kind, words, tc.code)
			}
			if n := feedHits.Load(); n != 0 {
				t.Fatalf("feed requested %d times after robots.txt answered %d, want none", n, tc.code)
			}
			wantRA := time.Duration(0)
			if tc.retryAfter != "" {
				wantRA = tc.want
				if !strings.Contains(words, "retry after 30m0s") {
					t.Errorf("words %q do not say when to retry", words)
				}
			}
			if got := RetryAfter(err); got != wantRA {
				t.Errorf("RetryAfter = %s, want %s", got, wantRA)
			}

			// Not asked again before its time; the host is still refused meanwhile.
			now = now.Add(tc.want - time.Second)
			if err = get(); !errors.Is(err, ErrRobots) || robotsHits.Load() != 1 || feedHits.Load() != 0 {
				t.Fatalf("before the retry: err %v, robots.txt asked %d times, feed %d; want refused, 1, 0", err, robotsHits.Load(), feedHits.Load())
			}
			if tc.retryAfter != "" && RetryAfter(err) != time.Second {
				t.Errorf("RetryAfter a second before it ends = %s, want 1s", RetryAfter(err))
			}

			// Asked again then, well before the hour, and the feed is fetched.
			limited.Store(false)
			now = now.Add(2 * time.Second)
			if err := get(); err != nil || robotsHits.Load() != 2 || feedHits.Load() != 1 {
				t.Fatalf("after the retry: err %v, robots.txt asked %d times, feed %d; want nil, 2, 1", err, robotsHits.Load(), feedHits.Load())
			}
		})
	}
}
