package web

import (
	"context"
	"html"

	htmlnode "golang.org/x/net/html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// request sends a GET with the given headers (name, value, …) to f's handler.
func (f *pageFixture) request(t *testing.T, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

// browserAccept is what a browser sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestHTMLErrorPages: a reader who follows an old link to the web view (a member that
// left, a filter that no longer exists, an address that never was) or finds the store
// down gets a page in the site's layout and language, with the status kept, the
// message and a link to the river. Before, every one was a line of plain text. The
// feeds, JSON, CSV, OPML and the embedded list keep their plain-text errors, and so
// does an unknown address asked for by a client that does not want HTML.
func TestHTMLErrorPages(t *testing.T) {
	f := newPageFixture(t)
	down := newPageFixture(t)
	down.srv.store = unavailableReader{down.srv.store}
	for _, tc := range []struct {
		name     string
		f        *pageFixture
		path     string
		headers  []string
		code     int
		html     bool
		lang     string
		heading  string
		message  string
		homeLink string
	}{
		{"member gone", f, "/members/nosuch?hl=fr", nil, 404, true, "fr", "Page introuvable", `member "nosuch": not found`, "/?hl=fr"},
		{"member gone, Accept-Language", f, "/members/nosuch", []string{"Accept-Language", "es"}, 404, true, "es", "Página no encontrada", "not found", "/"},
		{"unknown member filter", f, "/?member=nosuch", []string{"Accept-Language", "es-MX,es;q=0.9"}, 400, true, "es", "Esta dirección no es válida", "nosuch", "/"},
		{"share, bad limit", f, "/share?limit=0&hl=fr", nil, 400, true, "fr", "Cette adresse n’est pas valide", "limit", "/?hl=fr"},
		{"unknown address, browser", f, "/old/news.php?id=3", []string{"Accept", browserAccept}, 404, true, "en", "Page not found", "/old/news.php: not found", "/"},
		{"river, store down", down, "/", nil, 503, true, "en", "Temporarily unavailable", "the store is unavailable", "/"},
		{"dashboard, store down", down, "/sources?hl=es", nil, 503, true, "es", "No disponible temporalmente", "the store is unavailable", "/?hl=es"},
		{"member page, store down", down, "/members/iss-gs", []string{"Accept-Language", "fr"}, 503, true, "fr", "Temporairement indisponible", "the store is unavailable", "/"},

		{"unknown address, no HTML wanted", f, "/old/news.php", nil, 404, false, "", "", "404 page not found", ""},
		{"member feed", f, "/members/nosuch/feed.atom", []string{"Accept", browserAccept}, 404, false, "", "", `member "nosuch": not found`, ""},
		{"feed, bad filter", f, "/feed.rss?member=nosuch", []string{"Accept", browserAccept}, 400, false, "", "", "nosuch", ""},
		{"embedded list", f, "/embed?limit=0", []string{"Accept", browserAccept}, 400, false, "", "", "limit", ""},
		{"sources.json, store down", down, "/sources.json", []string{"Accept", browserAccept}, 503, false, "", "", "the store is unavailable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := tc.f.request(t, tc.path, tc.headers...)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.code, body)
			}
			if tc.code == 503 && res.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			ctype := res.Header.Get("Content-Type")
			if !tc.html {
				if !strings.HasPrefix(ctype, "text/plain") || !strings.Contains(body, tc.message) {
					t.Errorf("Content-Type %q, body %q: want plain text with %q", ctype, body, tc.message)
				}
				return
			}
			if !strings.HasPrefix(ctype, "text/html") {
				t.Fatalf("Content-Type %q, want an HTML page: %s", ctype, body)
			}
			if err := checkHTML(body); err != nil {
				t.Error(err)
			}
			if got := res.Header.Get("Content-Language"); got != tc.lang {
				t.Errorf("Content-Language %q, want %q", got, tc.lang)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Vary %q, Cache-Control %q", res.Header.Get("Vary"), res.Header.Get("Cache-Control"))
			}
			doc := htmlParse(t, body)
			if h := htmlFind(doc, func(n *htmlnode.Node) bool { return n.Data == "html" }); htmlAttr(h, "lang") != tc.lang {
				t.Errorf("<html lang=%q>, want %q", htmlAttr(h, "lang"), tc.lang)
			}
			if h1 := htmlFind(doc, func(n *htmlnode.Node) bool { return n.Data == "h1" }); h1 == nil || htmlText(h1) != tc.heading {
				t.Errorf("heading %v, want %q", h1, tc.heading)
			}
			text := html.UnescapeString(body)
			if !strings.Contains(text, tc.message) {
				t.Errorf("page lacks the message %q", tc.message)
			}
			main := htmlFind(doc, func(n *htmlnode.Node) bool { return n.Data == "main" })
			if htmlFind(main, func(n *htmlnode.Node) bool { return n.Data == "a" && htmlAttr(n, "href") == tc.homeLink }) == nil {
				t.Errorf("no link to the river (%s) in <main>", tc.homeLink)
			}
		})
	}
}

// TestHTMLPagesRevalidate: the river, member pages, dashboard and share page carry an
// ETag and answer a request that names it (If-None-Match) with 304 and no body, while
// the page in another language, or after the store changed, is sent again. Before,
// they had no validator: every revalidation sent the whole page.
func TestHTMLPagesRevalidate(t *testing.T) {
	f := newPageFixture(t)
	for _, path := range []string{"/", "/?country=JP&limit=5", "/members/iss-gs", "/sources?problems=1", "/share?member=iss-gs"} {
		t.Run(path, func(t *testing.T) {
			res, body := f.request(t, path, "Accept-Language", "fr")
			etag := res.Header.Get("ETag")
			if res.StatusCode != 200 || etag == "" {
				t.Fatalf("status %d, ETag %q", res.StatusCode, etag)
			}
			res, body = f.request(t, path, "Accept-Language", "fr", "If-None-Match", etag)
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Fatalf("If-None-Match %s: status %d with %d bytes, want 304", etag, res.StatusCode, len(body))
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") || res.Header.Get("ETag") != etag {
				t.Errorf("304: Vary %q, ETag %q", res.Header.Get("Vary"), res.Header.Get("ETag"))
			}
			if res, _ := f.request(t, path, "Accept-Language", "es", "If-None-Match", etag); res.StatusCode != 200 {
				t.Errorf("in another language: status %d, want 200", res.StatusCode)
			}
		})
	}
	res, _ := f.request(t, "/")
	etag := res.Header.Get("ETag")
	it := news.Item{ID: "item-new", Key: "item-new", Member: "iss-gs", Country: "CH", Source: "https://gs.example/news", Title: "Fresh news",
		Language: "en", Link: "https://gs.example/fresh", Published: pageNow, Updated: pageNow, FirstSeen: pageNow}
	if _, err := f.store.Upsert(context.Background(), []news.Item{it}); err != nil {
		t.Fatal(err)
	}
	if res, body := f.request(t, "/", "If-None-Match", etag); res.StatusCode != 200 || !strings.Contains(body, "Fresh news") {
		t.Errorf("river after a new item, If-None-Match %s: status %d, want 200 with the item", etag, res.StatusCode)
	}
}

// TestEmbedScriptRevalidatedWithinAnHour: the snippet members paste names no version of
// /embed.js, so browsers must not keep it a day after an upgrade (max-age=86400 did):
// they keep it an hour at most, then revalidate it with its ETag.
func TestEmbedScriptRevalidatedWithinAnHour(t *testing.T) {
	f := newPageFixture(t)
	res, _ := f.request(t, "/embed.js")
	cc := res.Header.Get("Cache-Control")
	var maxAge time.Duration
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			maxAge, _ = time.ParseDuration(v + "s")
		}
	}
	if maxAge <= 0 || maxAge > time.Hour || strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q: want a max-age of an hour at most", cc)
	}
	etag := res.Header.Get("ETag")
	if res, _ := f.request(t, "/embed.js", "If-None-Match", etag); etag == "" || res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %q: status %d, want 304", etag, res.StatusCode)
	}
}
