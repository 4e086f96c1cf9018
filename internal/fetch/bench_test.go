package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGet measures one GET against a loopback server: a 30 KB feed, and the same feed
// answered 304 to a conditional request.
func BenchmarkGet(b *testing.B) {
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>` +
		strings.Repeat("<item><title>Café Zürich €</title><link>https://example.org/a</link></item>", 30*1024/80) +
		`</channel></rss>`)
	const etag = `"bench"`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true})
	ctx := context.Background()

	b.Run("200-30KB", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Get(ctx, Request{URL: srv.URL})
			if err != nil || len(resp.Body) != len(body) {
				b.Fatal(err)
			}
		}
	})
	b.Run("304", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, Request{URL: srv.URL, ETag: etag}); !errors.Is(err, ErrNotModified) {
				b.Fatal(err)
			}
		}
	})
}
