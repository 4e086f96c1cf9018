package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("fetch https://example.org/feed: %w", err) }
	tests := []struct {
		name        string
		err         error
		kind, words string
	}{
		{"dns not found", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Name: "example.org", Err: "no such host", IsNotFound: true}}),
			"dns", "DNS lookup failed for example.org (no such host)"},
		{"dns server failure", wrap(&net.DNSError{Name: "example.org", Err: "server misbehaving"}),
			"dns", "DNS lookup failed for example.org"},
		{"our timeout", &TimeoutError{URL: "https://example.org/", After: 30 * time.Second}, "timeout", "timed out after 30s"},
		{"net timeout", wrap(&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), "timeout", "timed out"},
		{"refused", wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			"connection", "the server refused the connection"},
		{"reset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
			"connection", "the server reset the connection"},
		{"unreachable", wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}),
			"connection", "the server cannot be reached"},
		{"eof", wrap(io.EOF), "connection", "the server closed the connection without answering"},
		{"unexpected eof", wrap(fmt.Errorf("read body: %w", io.ErrUnexpectedEOF)),
			"connection", "the connection closed before the whole response arrived"},
		{"tls unknown authority", wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "tls",
			"secure connection failed: the certificate is signed by an unknown authority"},
		{"tls hostname", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "example.org"}), "tls",
			"secure connection failed: the certificate is not valid for example.org"},
		{"tls expired", wrap(x509.CertificateInvalidError{Reason: x509.Expired}), "tls",
			"secure connection failed: the certificate has expired or is not yet valid"},
		{"404", &HTTPStatusError{Code: 404}, "http_404", "HTTP 404 Not Found"},
		{"410", &HTTPStatusError{Code: 410}, "http_410", "HTTP 410 Gone"},
		{"429", &HTTPStatusError{Code: 429, RetryAfter: 90 * time.Second}, "http_429", "HTTP 429 Too Many Requests (retry after 1m30s)"},
		{"401", wrap(&HTTPStatusError{Code: 401}), "http_4xx", "HTTP 401 Unauthorized"},
		{"502", &HTTPStatusError{Code: 502}, "http_5xx", "HTTP 502 Bad Gateway"},
		{"599", &HTTPStatusError{Code: 599}, "http_5xx", "HTTP 599"},
		{"blocked", wrap(&net.OpError{Op: "dial", Err: &blockedError{Addr: "169.254.169.254"}}),
			"blocked_address", "refused to connect to the private or local address 169.254.169.254"},
		{"too large", wrap(&tooLargeError{Limit: 10 << 20}), "too_large", "response larger than 10 MiB"},
		{"too large odd", wrap(&tooLargeError{Limit: 1536 << 10}), "too_large", "response larger than 1.5 MiB"},
		{"too large converted", wrap(&tooLargeError{Limit: 10 << 20, Converted: true}), "too_large", "response larger than 10 MiB once converted to UTF-8"},
		{"redirect loop", wrap(&redirectError{URL: "https://example.org/a", Loop: true}), "redirects", "redirect loop at https://example.org/a"},
		{"redirects", wrap(&redirectError{Max: 5}), "redirects", "too many redirects (more than 5)"},
		{"robots", wrap(&robotsError{URL: "https://example.org/x"}), "robots", "robots.txt does not allow fetching https://example.org/x"},
		{"robots 503", wrap(&robotsError{URL: "https://example.org/x", Status: 503}), "robots",
			"the site's robots.txt answered HTTP 503 (a server error): nothing is fetched from the site until it answers"},
		{"robots 429", wrap(&robotsError{URL: "https://example.org/x", Status: 429, RetryAfter: time.Hour}), "robots",
			"the site's robots.txt answered HTTP 429 (too many requests): nothing is fetched from the site until it answers (retry after 1h0m0s)"},
		{"not modified", wrap(ErrNotModified), "other", "not modified since the last poll"},
		{"cancelled", wrap(context.Canceled), "other", "the request was cancelled"},
		{"other", errors.New("something odd"), "other", "something odd"},
		{"nil", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, words := Describe(tt.err)
			if kind != tt.kind || words != tt.words {
				t.Errorf("Describe = %q, %q; want %q, %q", kind, words, tt.kind, tt.words)
			}
		})
	}
}

func TestSentinelsMatch(t *testing.T) {
	tests := []struct {
		err    error
		target error
	}{
		{&blockedError{Addr: "::1"}, ErrBlockedAddress},
		{&tooLargeError{Limit: 1}, ErrTooLarge},
		{&redirectError{Loop: true}, ErrTooManyRedirects},
		{&robotsError{}, ErrRobots},
		{&TimeoutError{}, ErrTimeout},
		{&TimeoutError{}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.target.Error(), func(t *testing.T) {
			if !errors.Is(fmt.Errorf("fetch x: %w", tt.err), tt.target) {
				t.Errorf("%T does not match %v", tt.err, tt.target)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-30", 0},
		{"soon", 0},
		{"99999999999999999", maxRetryAfter},
		{"99999999999999999999", maxRetryAfter}, // past int64: still delay-seconds, and huge
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{"Sunday, 01-Mar-26 12:01:00 GMT", time.Minute}, // RFC 850, still accepted
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestRetryAfterDateByTheServersClock: a Retry-After date is read against the answer's
// Date: a server whose clock is three hours ahead, asking for two minutes, is asked
// again in two minutes, not in three hours and two.
func TestRetryAfterDateByTheServersClock(t *testing.T) {
	serverNow := time.Now().Add(3 * time.Hour).Truncate(time.Second)
	h := http.Header{}
	h.Set("Date", serverNow.UTC().Format(http.TimeFormat))
	h.Set("Retry-After", serverNow.Add(2*time.Minute).UTC().Format(http.TimeFormat))
	err := statusError("https://m.example.org/feed", &Response{StatusCode: http.StatusServiceUnavailable, Header: h})
	var se *HTTPStatusError
	if !errors.As(err, &se) || se.RetryAfter != 2*time.Minute {
		t.Fatalf("err = %#v, want a 503 with Retry-After 2m0s", err)
	}
}
