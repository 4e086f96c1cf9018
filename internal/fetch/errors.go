package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotModified: the server answered 304 to a conditional request; keep what you have.
	ErrNotModified = errors.New("not modified")
	// ErrBlockedAddress: the host resolved to an address the client may not connect to.
	ErrBlockedAddress = errors.New("blocked address")
	// ErrTooLarge: the body (or the header block) is larger than allowed.
	ErrTooLarge = errors.New("response too large")
	// ErrTooManyRedirects: too many redirects, or a redirect loop.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrRobots: robots.txt disallows the URL for our user agent.
	ErrRobots = errors.New("disallowed by robots.txt")
	// ErrTimeout: the request did not finish within Options.Timeout (see *TimeoutError).
	ErrTimeout = errors.New("timed out")
)

// errDeadline is the cause attached to the per-request deadline, to tell it from the caller's.
var errDeadline = errors.New("fetch deadline")

// HTTPStatusError is a non-2xx answer (other than 304 to a conditional request).
type HTTPStatusError struct {
	URL  string
	Code int
	// RetryAfter is the server's Retry-After for 429 and 503 (seconds or HTTP-date), else 0.
	RetryAfter time.Duration
	// Redirect is where 301/308 redirects led before the answer, as Response.PermanentRedirect.
	Redirect string
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("fetch %s: %s", e.URL, statusWords(e.Code))
}

// NotModifiedError is a 304 answer to a conditional request. It matches ErrNotModified
// and says where 301/308 redirects led before it: a feed that moved, its new address
// answering 304 to the validators the request carried there, still moved.
type NotModifiedError struct {
	URL string
	// Redirect is where 301/308 redirects led before the answer, as Response.PermanentRedirect.
	Redirect string
}

func (e *NotModifiedError) Error() string { return fmt.Sprintf("fetch %s: %s", e.URL, ErrNotModified) }

func (e *NotModifiedError) Is(t error) bool { return t == ErrNotModified }

// TimeoutError is a request cut off by Options.Timeout. It matches ErrTimeout and
// context.DeadlineExceeded.
type TimeoutError struct {
	URL   string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("fetch %s: timed out after %s", e.URL, e.After)
}

// Is reports whether target is ErrTimeout or context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Timeout reports true, like a net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// blockedError is a dial refused by the address guard.
type blockedError struct{ Addr string }

func (e *blockedError) Error() string   { return "connection to " + e.Addr + " blocked" }
func (e *blockedError) Is(t error) bool { return t == ErrBlockedAddress }

// tooLargeError is a body longer than Limit bytes: as received, decompressed, or, when
// Converted, converted to UTF-8 (which can take up to three bytes for one).
type tooLargeError struct {
	Limit     int64
	Converted bool
}

func (e *tooLargeError) Error() string {
	if e.Converted {
		return "response larger than " + sizeWords(e.Limit) + " once converted to UTF-8"
	}
	return "response larger than " + sizeWords(e.Limit)
}
func (e *tooLargeError) Is(t error) bool { return t == ErrTooLarge }

// robotsError is a URL disallowed by robots.txt, or by the answer Status (429 or 5xx)
// robots.txt gave instead of itself.
type robotsError struct {
	URL    string
	Status int
	// RetryAfter is what is left of the Retry-After that answer carried, else 0.
	RetryAfter time.Duration
}

func (e *robotsError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("robots.txt answered HTTP %d: nothing is fetched from the site until it answers%s (%s)", e.Status, retryWords(e.RetryAfter), e.URL)
	}
	return "robots.txt disallows " + e.URL
}
func (e *robotsError) Is(t error) bool { return t == ErrRobots }

// redirectError is a redirect loop or too long a redirect chain.
type redirectError struct {
	URL  string
	Loop bool
	Max  int
}

func (e *redirectError) Is(t error) bool { return t == ErrTooManyRedirects }

func (e *redirectError) Error() string {
	if e.Loop {
		return "redirect loop at " + e.URL
	}
	return fmt.Sprintf("more than %d redirects", e.Max)
}

// statusError returns nil for 2xx and a *HTTPStatusError otherwise.
func statusError(rawURL string, r *Response) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	return &HTTPStatusError{URL: rawURL, Code: r.StatusCode, Redirect: r.PermanentRedirect,
		RetryAfter: retryAfterOf(r.StatusCode, r.Header)}
}

// retryAfterOf is the Retry-After of a 429 or 503 answer with header h, else 0.
func retryAfterOf(code int, h http.Header) time.Duration {
	if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		return 0
	}
	// An HTTP-date is read against the server's own clock (its Date), as it meant it:
	// a server whose clock is hours ahead asks for minutes, not hours.
	now := time.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	return parseRetryAfter(h.Get("Retry-After"), now)
}

// RetryAfter is how long the server asked, with Retry-After, not to be asked again: from
// a 429 or 503 answer to the request (*HTTPStatusError), or to its site's robots.txt,
// which stands for the whole site. 0 when err carries none.
func RetryAfter(err error) time.Duration {
	var (
		statusErr *HTTPStatusError
		robots    *robotsError
	)
	switch {
	case errors.As(err, &statusErr):
		return statusErr.RetryAfter
	case errors.As(err, &robots):
		return robots.RetryAfter
	}
	return 0
}

// maxRetryAfter bounds a server's Retry-After so nonsense cannot overflow or park a source forever.
const maxRetryAfter = 7 * 24 * time.Hour

// parseRetryAfter reads delay-seconds or an HTTP-date; anything else, or a date in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if errors.Is(err, strconv.ErrRange) && v[0] != '-' {
		// Delay-seconds too many for an int64: a very long wait, not no wait at all.
		return maxRetryAfter
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

func statusWords(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("HTTP %d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// Describe explains err in plain words for the dashboard. kind is one of dns, timeout,
// connection, tls, http_4xx, http_404, http_410, http_429, http_5xx, blocked_address,
// too_large, redirects, robots, other.
func Describe(err error) (kind string, words string) {
	if err == nil {
		return "", ""
	}
	var (
		statusErr *HTTPStatusError
		timeout   *TimeoutError
		blocked   *blockedError
		large     *tooLargeError
		redir     *redirectError
		robots    *robotsError
		dnsErr    *net.DNSError
		netErr    net.Error
		opErr     *net.OpError
	)
	switch {
	case errors.As(err, &statusErr):
		return statusKind(statusErr.Code), statusSentence(statusErr)
	case errors.Is(err, ErrNotModified):
		return "other", "not modified since the last poll"
	case errors.As(err, &blocked):
		return "blocked_address", "refused to connect to the private or local address " + blocked.Addr
	case errors.As(err, &large):
		return "too_large", large.Error()
	case errors.Is(err, ErrTooLarge), isHeadersTooLarge(err):
		return "too_large", "response headers larger than " + sizeWords(maxHeaderBytes)
	case errors.As(err, &redir):
		if redir.Loop {
			return "redirects", "redirect loop at " + redir.URL
		}
		return "redirects", fmt.Sprintf("too many redirects (more than %d)", redir.Max)
	case errors.As(err, &robots):
		switch {
		case robots.Status == http.StatusTooManyRequests:
			return "robots", "the site's robots.txt answered HTTP 429 (too many requests): nothing is fetched from the site until it answers" + retryWords(robots.RetryAfter)
		case robots.Status != 0:
			return "robots", fmt.Sprintf("the site's robots.txt answered HTTP %d (a server error): nothing is fetched from the site until it answers", robots.Status) + retryWords(robots.RetryAfter)
		}
		return "robots", "robots.txt does not allow fetching " + robots.URL
	case errors.As(err, &timeout):
		return "timeout", "timed out after " + timeout.After.String()
	case errors.As(err, &dnsErr):
		w := "DNS lookup failed for " + dnsErr.Name
		if dnsErr.IsNotFound {
			w += " (no such host)"
		}
		return "dns", w
	case isTLS(err):
		return "tls", "secure connection failed: " + tlsReason(err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", "timed out"
	case errors.Is(err, context.Canceled):
		return "other", "the request was cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection", "the server refused the connection"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection", "the server reset the connection"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "connection", "the connection closed before the whole response arrived"
	case errors.Is(err, io.EOF):
		return "connection", "the server closed the connection without answering"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "connection", "the server cannot be reached"
	case errors.As(err, &opErr):
		return "connection", "could not connect: " + opErr.Err.Error()
	}
	return "other", trimFetchPrefix(err.Error())
}

// trimFetchPrefix drops a leading "fetch <url>: ": the dashboard shows the URL already.
func trimFetchPrefix(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "fetch "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			return after
		}
	}
	return msg
}

func statusKind(code int) string {
	switch {
	case code == http.StatusNotFound:
		return "http_404"
	case code == http.StatusGone:
		return "http_410"
	case code == http.StatusTooManyRequests:
		return "http_429"
	case code >= 400 && code <= 499:
		return "http_4xx"
	case code >= 500 && code <= 599:
		return "http_5xx"
	}
	return "other"
}

func statusSentence(e *HTTPStatusError) string {
	return statusWords(e.Code) + retryWords(e.RetryAfter)
}

// retryWords is " (retry after 1h0m0s)", or "" for no Retry-After.
func retryWords(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " (retry after " + d.Round(time.Second).String() + ")"
}

func isHeadersTooLarge(err error) bool {
	return strings.Contains(err.Error(), "server response headers exceeded")
}

func isTLS(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		rerr  tls.RecordHeaderError
		aerr  tls.AlertError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cerr  x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &rerr) || errors.As(err, &aerr) ||
		errors.As(err, &uaerr) || errors.As(err, &herr) || errors.As(err, &cerr) ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "HTTP response to HTTPS client")
}

func tlsReason(err error) string {
	var (
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cerr  x509.CertificateInvalidError
		rerr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &uaerr):
		return "the certificate is signed by an unknown authority"
	case errors.As(err, &herr):
		return "the certificate is not valid for " + herr.Host
	case errors.As(err, &cerr):
		if cerr.Reason == x509.Expired {
			return "the certificate has expired or is not yet valid"
		}
		return "the certificate is invalid"
	case errors.As(err, &rerr), strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return "the server did not answer with TLS"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "tls: "); i >= 0 {
		return msg[i+len("tls: "):]
	}
	return msg
}

// sizeWords formats a byte count: "10 MiB", "1.5 MiB", "64 KiB", "512 bytes".
func sizeWords(n int64) string {
	one := func(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }
	switch {
	case n >= 1<<20:
		return one(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return one(float64(n)/(1<<10)) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
