package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is 64 MiB of zeros gzipped to about 64 KiB.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 64 {
			zw.Write(zeros)
		}
		zw.Close()
		bomb = buf.Bytes()
	})
	return bomb
}

// hijack takes over the connection and lets f write raw bytes to it.
func hijack(w http.ResponseWriter, f func(c net.Conn)) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	buf.Flush()
	f(conn)
}

// TestHostileServers runs the client against servers that misbehave in one way each.
func TestHostileServers(t *testing.T) {
	latin1, err := os.ReadFile(filepath.Join("testdata", "latin1.rss"))
	if err != nil {
		t.Fatal(err)
	}
	bombBytes := gzipBomb(t)
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, done <-chan struct{})
		opts    Options
		path    string
		// An error case sets wantKind (and optionally wantErr / wantWords);
		// a success case sets check.
		wantKind  string
		wantErr   error
		wantWords string
		check     func(t *testing.T, r *Response)
	}{
		{
			name:     "drip body",
			handler:  func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) { drip(w, r, nil) },
			opts:     Options{Timeout: 200 * time.Millisecond},
			wantKind: "timeout", wantErr: ErrTimeout, wantWords: "timed out after 200ms",
		},
		{
			name: "slow headers",
			handler: func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
				select {
				case <-r.Context().Done():
				case <-done:
				}
			},
			opts:     Options{Timeout: 200 * time.Millisecond},
			wantKind: "timeout", wantErr: ErrTimeout,
		},
		{
			name: "endless body",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				chunk := bytes.Repeat([]byte("endless "), 4096)
				for {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			opts:     Options{MaxBody: 1 << 20},
			wantKind: "too_large", wantErr: ErrTooLarge, wantWords: "response larger than 1 MiB",
		},
		{
			name: "plain body over the cap",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Write(bytes.Repeat([]byte("a"), 4096+1))
			},
			opts:     Options{MaxBody: 4096},
			wantKind: "too_large", wantErr: ErrTooLarge, wantWords: "response larger than 4 KiB",
		},
		{
			name: "body exactly at the cap",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Write(bytes.Repeat([]byte("a"), 4096))
			},
			opts:  Options{MaxBody: 4096},
			check: func(t *testing.T, r *Response) { wantLen(t, r, 4096) },
		},
		{
			name: "gzip bomb",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bombBytes)
			},
			opts:     Options{MaxBody: 1 << 20},
			wantKind: "too_large", wantErr: ErrTooLarge,
		},
		{
			name: "huge content-length",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Length", "50000000000")
				w.WriteHeader(200)
				w.Write([]byte("tiny"))
			},
			wantKind: "too_large", wantErr: ErrTooLarge, wantWords: "response larger than 10 MiB",
		},
		{
			name: "truncated body",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				hijack(w, func(c net.Conn) {
					fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly a little")
					c.Close()
				})
			},
			wantKind: "connection", wantWords: "the connection closed before the whole response arrived",
		},
		{
			name: "truncated gzip body",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bombBytes[:1000])
			},
			wantKind: "connection",
		},
		{
			name: "connection reset",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				hijack(w, func(c net.Conn) {
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				})
			},
			wantKind: "connection",
		},
		{
			name: "closed without answering",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				hijack(w, func(c net.Conn) { c.Close() })
			},
			wantKind: "connection",
		},
		{
			name: "garbage instead of http",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				hijack(w, func(c net.Conn) {
					fmt.Fprint(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
					c.Close()
				})
			},
			wantKind: "other",
		},
		{
			name: "huge headers",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				junk := strings.Repeat("x", 1000)
				for i := range 300 {
					w.Header().Set(fmt.Sprintf("X-Junk-%d", i), junk)
				}
				w.WriteHeader(200)
			},
			wantKind: "too_large", wantWords: "response headers larger than 256 KiB",
		},
		{
			name:     "500",
			handler:  status(500, nil),
			wantKind: "http_5xx", wantWords: "HTTP 500 Internal Server Error",
		},
		{
			name:     "503 with Retry-After",
			handler:  status(503, map[string]string{"Retry-After": "120"}),
			wantKind: "http_5xx", wantWords: "HTTP 503 Service Unavailable (retry after 2m0s)",
		},
		{
			name:     "429 with Retry-After seconds",
			handler:  status(429, map[string]string{"Retry-After": "30"}),
			wantKind: "http_429", wantWords: "HTTP 429 Too Many Requests (retry after 30s)",
		},
		{
			name: "429 with Retry-After date",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
				w.WriteHeader(429)
			},
			wantKind: "http_429",
		},
		{name: "404", handler: status(404, nil), wantKind: "http_404", wantWords: "HTTP 404 Not Found"},
		{name: "410", handler: status(410, nil), wantKind: "http_410", wantWords: "HTTP 410 Gone"},
		{name: "403", handler: status(403, nil), wantKind: "http_4xx", wantWords: "HTTP 403 Forbidden"},
		{name: "302 without Location", handler: status(302, nil), wantKind: "other", wantWords: "HTTP 302 Found"},
		{
			name:     "redirect to ftp",
			handler:  status(302, map[string]string{"Location": "ftp://example.org/feed"}),
			wantKind: "other",
		},
		{
			name: "gzip header on a plain body",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Encoding", "gzip")
				fmt.Fprint(w, "<rss>not gzip at all</rss>")
			},
			wantKind: "other",
		},
		{
			name: "unrequested brotli",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Encoding", "br")
				fmt.Fprint(w, "\x1b\x03")
			},
			wantKind: "other", wantWords: `read body: unsupported content encoding "br"`,
		},
		{
			name: "wrong content-type on a latin-1 feed",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(latin1)
			},
			check: func(t *testing.T, r *Response) {
				wantContains(t, r, "Zürich", `encoding="UTF-8"`)
				if r.ContentType != "text/html" {
					t.Errorf("ContentType = %q, want the declared one", r.ContentType)
				}
			},
		},
		{
			name: "no content-type at all",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header()["Content-Type"] = nil // stop net/http sniffing one
				w.Write(latin1)
			},
			check: func(t *testing.T, r *Response) { wantContains(t, r, "Café des élèves") },
		},
		{
			name:    "empty body 200",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) { w.WriteHeader(200) },
			check:   func(t *testing.T, r *Response) { wantLen(t, r, 0) },
		},
		{
			name: "invalid utf-8 with utf-8 header",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Write([]byte("{\"title\":\"caf\xc3\xa9 \xff\xfe\"}"))
			},
			check: func(t *testing.T, r *Response) {
				if got := string(r.Body); got != "{\"title\":\"café \uFFFD\"}" {
					t.Errorf("body = %q", got)
				}
			},
		},
		{
			name: "binary body untouched",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Type", "image/png")
				w.Write([]byte("\x89PNG\r\n\x1a\n\xff\xfe"))
			},
			check: func(t *testing.T, r *Response) {
				if string(r.Body) != "\x89PNG\r\n\x1a\n\xff\xfe" {
					t.Errorf("body = %q", r.Body)
				}
			},
		},
		{
			name:     "robots.txt disallows everything",
			handler:  robotsAll("User-agent: *\nDisallow: /\n"),
			opts:     Options{RespectRobots: true},
			path:     "/feed.xml",
			wantKind: "robots", wantErr: ErrRobots,
		},
		{
			name:     "robots.txt that never answers",
			handler:  robotsAll(""),
			opts:     Options{RespectRobots: true, Timeout: 200 * time.Millisecond},
			path:     "/feed.xml",
			wantKind: "timeout", wantErr: ErrTimeout,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var done <-chan struct{}
			srv, done := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w, r, done)
			}))
			c := loopbackClient(tt.opts)
			resp, err := c.Get(context.Background(), Request{URL: srv.URL + tt.path})
			if tt.check != nil {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				tt.check(t, resp)
				return
			}
			if err == nil {
				t.Fatalf("Get succeeded with %d bytes, want an error of kind %s", len(resp.Body), tt.wantKind)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			kind, words := Describe(err)
			if kind != tt.wantKind {
				t.Errorf("Describe kind = %q (%s), want %q; err = %v", kind, words, tt.wantKind, err)
			}
			if tt.wantWords != "" && words != tt.wantWords {
				t.Errorf("Describe words = %q, want %q", words, tt.wantWords)
			}
			if words == "" {
				t.Error("Describe gave no words")
			}
			var se *HTTPStatusError
			if errors.As(err, &se) && (se.Code == 429 || se.Code == 503) && se.RetryAfter <= 0 {
				t.Errorf("RetryAfter = %v, want > 0", se.RetryAfter)
			}
		})
	}
}

func status(code int, headers map[string]string) func(http.ResponseWriter, *http.Request, <-chan struct{}) {
	return func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		fmt.Fprint(w, "error page")
	}
}

// robotsAll serves robots as robots.txt (or never answers when it is empty) and "ok" elsewhere.
func robotsAll(robots string) func(http.ResponseWriter, *http.Request, <-chan struct{}) {
	return func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
		if r.URL.Path != "/robots.txt" {
			fmt.Fprint(w, "ok")
			return
		}
		if robots == "" {
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		fmt.Fprint(w, robots)
	}
}

func wantLen(t *testing.T, r *Response, n int) {
	t.Helper()
	if len(r.Body) != n || r.StatusCode != 200 {
		t.Errorf("status %d, body %d bytes, want 200 with %d", r.StatusCode, len(r.Body), n)
	}
}

func wantContains(t *testing.T, r *Response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !bytes.Contains(r.Body, []byte(s)) {
			t.Errorf("body lacks %q:\n%s", s, r.Body)
		}
	}
}

func TestTLSFailure(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, err := loopbackClient(Options{}).Get(context.Background(), Request{URL: srv.URL})
	kind, words := Describe(err)
	if kind != "tls" || words != "secure connection failed: the certificate is signed by an unknown authority" {
		t.Fatalf("Describe = %q, %q (err %v)", kind, words, err)
	}

	// Plain HTTP spoken to an https:// URL.
	plain, _ := serve(t, http.NotFoundHandler())
	_, err = loopbackClient(Options{}).Get(context.Background(), Request{URL: strings.Replace(plain.URL, "http:", "https:", 1)})
	if kind, words := Describe(err); kind != "tls" || words != "secure connection failed: the server did not answer with TLS" {
		t.Fatalf("https to a plain server: kind %q, err %v", kind, err)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = loopbackClient(Options{}).Get(context.Background(), Request{URL: "http://" + addr + "/"})
	kind, words := Describe(err)
	if kind != "connection" || words != "the server refused the connection" {
		t.Fatalf("Describe = %q, %q (err %v)", kind, words, err)
	}
}
