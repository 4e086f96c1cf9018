package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"
	"gopkg.in/yaml.v3"
)

// start runs a demo network for the test and closes it afterwards.
func start(t *testing.T) *Network {
	t.Helper()
	n, err := Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, body
}

// demoConfig mirrors the parts of feeds.yaml the tests look at. It is decoded from a
// generic map so that the test does not depend on internal/config.
type demoConfig struct {
	raw     map[string]any
	members []map[string]any
}

func parseConfig(t *testing.T, b []byte) demoConfig {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("config is not valid YAML: %v\n%s", err, b)
	}
	list, ok := raw["members"].([]any)
	if !ok {
		t.Fatalf("members is %T, want a list", raw["members"])
	}
	c := demoConfig{raw: raw}
	for i, m := range list {
		mm, ok := m.(map[string]any)
		if !ok {
			t.Fatalf("members[%d] is %T, want a mapping", i, m)
		}
		c.members = append(c.members, mm)
	}
	return c
}

// source is one URL the app will poll: kind is feed, page or homepage.
type source struct{ member, kind, url string }

func (c demoConfig) sources() []source {
	var out []source
	for _, m := range c.members {
		id, _ := m["id"].(string)
		srcs, _ := m["sources"].([]any)
		if len(srcs) == 0 {
			home, _ := m["homepage"].(string)
			out = append(out, source{id, "homepage", home})
		}
		for _, s := range srcs {
			sm, _ := s.(map[string]any)
			for _, kind := range []string{"feed", "page"} {
				if u, ok := sm[kind].(string); ok {
					out = append(out, source{id, kind, u})
				}
			}
		}
	}
	return out
}

func TestConfig(t *testing.T) {
	n := start(t)
	c := parseConfig(t, n.Config())

	t.Run("settings", func(t *testing.T) {
		net, _ := c.raw["network"].(map[string]any)
		fetch, _ := c.raw["fetch"].(map[string]any)
		for _, tc := range []struct {
			key       string
			got, want any
		}{
			{"network.url", net["url"], "http://localhost:8080/"},
			{"fetch.interval", fetch["interval"], "5m"},
			{"fetch.allow_private_addresses", fetch["allow_private_addresses"], true},
		} {
			if tc.got != tc.want {
				t.Errorf("%s = %v, want %v", tc.key, tc.got, tc.want)
			}
		}
		if strings.Contains(string(n.Config()), placeholder) {
			t.Errorf("config still holds the placeholder %s", placeholder)
		}
	})

	t.Run("members", func(t *testing.T) {
		if len(c.members) < 7 {
			t.Fatalf("%d members, want at least 7", len(c.members))
		}
		idRE := regexp.MustCompile(`^[a-z0-9-]+$`)
		countryRE := regexp.MustCompile(`^[A-Z]{2}$`)
		regions := map[string]bool{"Europe": true, "Americas": true, "Asia-Pacific": true, "Africa": true, "Middle East": true}
		seen := map[string]bool{}
		for i, m := range c.members {
			id, _ := m["id"].(string)
			if !idRE.MatchString(id) {
				t.Errorf("members[%d].id = %q, want [a-z0-9-]+", i, id)
			}
			if seen[id] {
				t.Errorf("members[%d].id %q is a duplicate", i, id)
			}
			seen[id] = true
			if s, _ := m["name"].(string); s == "" {
				t.Errorf("%s: no name", id)
			}
			if s, _ := m["country"].(string); !countryRE.MatchString(s) {
				t.Errorf("%s: country %q, want two capital letters", id, s)
			}
			if s, _ := m["region"].(string); !regions[s] {
				t.Errorf("%s: region %q is not one of the five", id, s)
			}
			if l, _ := m["languages"].([]any); len(l) == 0 {
				t.Errorf("%s: no languages", id)
			}
			if h, _ := m["homepage"].(string); !strings.HasPrefix(h, n.URL+"/") {
				t.Errorf("%s: homepage %q is not under %s", id, h, n.URL)
			}
		}
	})

	t.Run("sources", func(t *testing.T) {
		kinds := map[string]int{}
		for _, s := range c.sources() {
			kinds[s.kind]++
			if !strings.HasPrefix(s.url, n.URL+"/") {
				t.Errorf("%s: %s source %q is not under %s", s.member, s.kind, s.url, n.URL)
			}
		}
		for _, k := range []string{"feed", "page", "homepage"} {
			if kinds[k] == 0 {
				t.Errorf("no %s source: the demo should show every kind", k)
			}
		}
	})
}

// wantType is the media type each member's first source is served with.
var wantType = map[string]string{
	"iss-gs":          "text/html",
	"iss-australia":   "application/rss+xml",
	"iss-usa":         "application/atom+xml",
	"iss-japan":       "application/feed+json",
	"iss-switzerland": "text/html",
	"iss-venezuela":   "text/html",
	"iss-israel":      "application/rss+xml",
	"iss-germany":     "application/rss+xml",
}

func TestSourcesServe(t *testing.T) {
	n := start(t)
	srcs := parseConfig(t, n.Config()).sources()
	for _, s := range srcs {
		t.Run(s.member+"/"+s.kind, func(t *testing.T) {
			resp, body := get(t, s.url)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", s.url, resp.Status)
			}
			mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil {
				t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
			}
			if want, ok := wantType[s.member]; !ok || mt != want {
				t.Errorf("Content-Type %s, want %q", mt, want)
			}
			if cs, ok := params["charset"]; ok && (cs != "utf-8" || !utf8.Valid(body)) {
				t.Errorf("charset=%s on a body that is valid UTF-8: %v", cs, utf8.Valid(body))
			}
			if bytes.Contains(body, []byte(placeholder)) {
				t.Errorf("body still holds %s", placeholder)
			}
			etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
			if etag == "" || lm == "" {
				t.Fatalf("ETag %q, Last-Modified %q: want both", etag, lm)
			}
			for _, cond := range [][2]string{{"If-None-Match", etag}, {"If-Modified-Since", lm}} {
				resp, body := get(t, s.url, cond[0], cond[1])
				if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Errorf("GET with %s: %s and %d bytes, want 304 and none", cond[0], resp.Status, len(body))
				}
			}
			if resp, _ := get(t, s.url, "If-None-Match", `"stale"`); resp.StatusCode != http.StatusOK {
				t.Errorf("GET with a stale ETag: %s, want 200", resp.Status)
			}
		})
	}
}

// itemLinks returns the article links (and image URLs) a source yields, found the way
// an independent reader would: gofeed for feeds, goquery for pages.
func itemLinks(t *testing.T, n *Network, s source, body []byte) []string {
	t.Helper()
	var links []string
	switch s.kind {
	case "feed":
		f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse feed %s: %v", s.url, err)
		}
		if len(f.Items) < 4 {
			t.Errorf("%s has %d items, want at least 4", s.url, len(f.Items))
		}
		for _, it := range f.Items {
			if it.Title == "" || it.PublishedParsed == nil {
				t.Errorf("%s: item %q has no title or date", s.url, it.Link)
			}
			links = append(links, it.Link)
		}
	default:
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse page %s: %v", s.url, err)
		}
		sel := map[string]string{
			"iss-gs":          "div.blog div.items-row div.item h2[itemprop=name] a",
			"iss-switzerland": "article.news-teaser h3 a",
			"iss-venezuela":   "article.post h2.entry-title a",
		}[s.member]
		doc.Find(sel).Each(func(_ int, a *goquery.Selection) {
			links = append(links, n.URL+a.AttrOr("href", ""))
		})
		doc.Find("main img, div.blog img").Each(func(_ int, img *goquery.Selection) {
			links = append(links, n.URL+img.AttrOr("src", ""))
		})
		if len(links) < 4 {
			t.Errorf("%s: %d item links with %q, want at least 4", s.url, len(links), sel)
		}
	}
	return links
}

func TestItemLinksResolve(t *testing.T) {
	n := start(t)
	for _, s := range parseConfig(t, n.Config()).sources() {
		t.Run(s.member, func(t *testing.T) {
			_, body := get(t, s.url)
			for _, link := range itemLinks(t, n, s, body) {
				if !strings.HasPrefix(link, n.URL+"/") {
					t.Errorf("link %q is not under %s", link, n.URL)
					continue
				}
				if resp, _ := get(t, link); resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %s", link, resp.Status)
				}
			}
		})
	}
}

func TestFeedDiscovery(t *testing.T) {
	n := start(t)
	_, body := get(t, n.URL+"/ve/")
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	alts := doc.Find(`link[rel=alternate][type="application/rss+xml"]`)
	if alts.Length() != 2 {
		t.Fatalf("%d RSS alternates, want 2 (posts and comments, as WordPress)", alts.Length())
	}
	for i, want := range []int{5, 0} {
		href := alts.Eq(i).AttrOr("href", "")
		resp, feed := get(t, href)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", href, resp.Status)
		}
		f, err := gofeed.NewParser().Parse(bytes.NewReader(feed))
		if err != nil {
			t.Fatalf("parse %s: %v", href, err)
		}
		if len(f.Items) != want {
			t.Errorf("%s: %d items, want %d", href, len(f.Items), want)
		}
	}
}

func TestContentQuirks(t *testing.T) {
	n := start(t)
	tests := []struct {
		name, path string
		want       []string
	}{
		{"gs header", "/gs/news/", []string{"Protéger les enfants et réunir les familles au-delà des frontières depuis 95 ans"}},
		{"gs month date in text", "/gs/news/", []string{"<strong>May 2026:</strong>", "April 2026: ISS network submits"}},
		{"gs captions", "/gs/news/", []string{`<p class="img_caption">PAC-athens</p>`}},
		{"gs cloaked email", "/gs/news/acerwc-activity-report.html", []string{"This email address is being protected from spambots. You need JavaScript enabled to view it."}},
		{"gs click here", "/gs/news/high-commissioners-dialogue-2025.html", []string{">Click here for more</a>"}},
		{"ch french dates", "/ch/actualites/", []string{"28 octobre 2026", "1er octobre 2026", "12 mars 2026", "17 novembre 2025", "5 juin 2025"}},
		{"ve spanish dates", "/ve/", []string{"3 de febrero de 2026", "14 de octubre de 2026"}},
		{"il right to left", "/il/feed.rss", []string{`dir=&quot;rtl&quot;`, "<language>he</language>"}},
		{"jp json feed", "/jp/feed.json", []string{`"version": "https://jsonfeed.org/version/1.1"`, "国際養子縁組"}},
		{"au syndicated from gs", "/au/feed/", []string{"<title>Vietnam: ISS project completed successfully 1st phase</title>", "<content:encoded>", "<dc:creator>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, n.URL+tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", tc.path, resp.Status)
			}
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("%s does not contain %q", tc.path, w)
				}
			}
		})
	}
	t.Run("gs items", func(t *testing.T) {
		_, body := get(t, n.URL+"/gs/news/")
		if got := bytes.Count(body, []byte(`<div class="item column-1"`)); got < 10 {
			t.Errorf("%d Joomla items, want at least 10", got)
		}
	})
}

func TestLatin1Feed(t *testing.T) {
	n := start(t)
	resp, body := get(t, n.URL+"/de/feed.rss")
	if ct := resp.Header.Get("Content-Type"); ct != "application/rss+xml" {
		t.Errorf("Content-Type %q, want no charset (the XML declaration tells)", ct)
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`)) {
		t.Errorf("feed does not declare ISO-8859-1: %.60q", body)
	}
	if utf8.Valid(body) || !bytes.Contains(body, []byte("Grenz\xfcberschreitende")) {
		t.Errorf("feed is not Latin-1 bytes (ü as 0xFC)")
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := f.Items[0].Title; got != "Grenzüberschreitende Kinderschutzfälle: neue Arbeitshilfe für Jugendämter" {
		t.Errorf("first title decoded as %q", got)
	}
}

func TestSyndicatedStory(t *testing.T) {
	n := start(t)
	_, au := get(t, n.URL+"/au/feed/")
	f, err := gofeed.NewParser().Parse(bytes.NewReader(au))
	if err != nil {
		t.Fatal(err)
	}
	_, gs := get(t, n.URL+"/gs/news/vietnam-project-completed-1st-phase.html")
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(gs))
	if err != nil {
		t.Fatal(err)
	}
	gsTitle := strings.TrimSpace(doc.Find("h2[itemprop=headline]").Text())
	gsText := doc.Find("div[itemprop=articleBody]").Text()
	for _, it := range f.Items {
		if it.Title != gsTitle {
			continue
		}
		c, err := goquery.NewDocumentFromReader(strings.NewReader(it.Content))
		if err != nil {
			t.Fatal(err)
		}
		c.Find("p").Each(func(_ int, p *goquery.Selection) {
			if s := strings.TrimSpace(p.Text()); s != "" && !strings.Contains(gsText, s) {
				t.Errorf("republished paragraph not in the GS article: %.80q", s)
			}
		})
		return
	}
	t.Errorf("ISS Australia does not republish %q", gsTitle)
}

func TestHTTP(t *testing.T) {
	n := start(t)
	tests := []struct {
		name, method, path string
		code               int
		location           string
	}{
		{"index", "GET", "/", 200, ""},
		{"robots", "GET", "/robots.txt", 200, ""},
		{"head", "HEAD", "/au/feed/", 200, ""},
		{"unknown", "GET", "/nope.html", 404, ""},
		{"unknown under a site", "GET", "/gs/news/missing.html", 404, ""},
		{"directory without slash", "GET", "/au/feed", 301, "/au/feed/"},
		{"no directory listing", "GET", "/gs/images/", 404, ""},
		{"dot dot", "GET", "/gs/../../demo.go", 404, ""},
		{"config template not served", "GET", "/feeds.yaml.tmpl", 404, ""},
		{"post", "POST", "/au/feed/", 405, ""},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, n.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
			}
			if loc := resp.Header.Get("Location"); loc != tc.location {
				t.Errorf("Location %q, want %q", loc, tc.location)
			}
		})
	}
}

func TestStop(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		n, err := Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := http.Get(n.URL + "/"); err == nil {
			t.Errorf("GET after Close succeeded")
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		n, err := Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		// Stopping is asynchronous: wait (bounded) until the port refuses connections.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(n.URL + "/")
			if err != nil {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatal("network still serving 10s after its context was cancelled")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := n.Close(); err != nil {
			t.Errorf("Close after cancel: %v", err)
		}
	})
	t.Run("cancelled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		n, err := Start(ctx)
		if err == nil {
			n.Close()
			t.Fatal("Start with a cancelled context succeeded")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

// TestGSSelectors applies the General Secretariat's select: block from Config() to its
// news page, as the page scraper will.
func TestGSSelectors(t *testing.T) {
	n := start(t)
	c := parseConfig(t, n.Config())
	var sel map[string]any
	var pageURL string
	for _, m := range c.members {
		if m["id"] != "iss-gs" {
			continue
		}
		srcs, _ := m["sources"].([]any)
		src, _ := srcs[0].(map[string]any)
		pageURL, _ = src["page"].(string)
		sel, _ = src["select"].(map[string]any)
	}
	if sel == nil || pageURL == "" {
		t.Fatal("iss-gs has no page source with select:")
	}
	str := func(k string) string { s, _ := sel[k].(string); return s }
	_, body := get(t, pageURL)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	items := doc.Find(str("item"))
	if items.Length() != 12 {
		t.Fatalf("select.item %q matches %d, want 12", str("item"), items.Length())
	}
	var withSummary, withImage int
	items.Each(func(i int, it *goquery.Selection) {
		title := strings.TrimSpace(it.Find(str("title")).First().Text())
		href := it.Find(str("link")).First().AttrOr("href", "")
		if title == "" || !strings.HasPrefix(href, "/gs/news/") {
			t.Errorf("item %d: title %q, link %q", i, title, href)
		}
		it.Find(str("summary")).EachWithBreak(func(_ int, p *goquery.Selection) bool {
			if strings.TrimSpace(strings.ReplaceAll(p.Text(), "\u00a0", "")) != "" {
				withSummary++
				return false
			}
			return true
		})
		if it.Find(str("image")).Length() > 0 {
			withImage++
		}
	})
	// "Work with us!" is only an image, as on the real page.
	if withSummary != 11 {
		t.Errorf("%d items with a summary, want 11", withSummary)
	}
	if withImage != 7 {
		t.Errorf("%d items with an image, want 7", withImage)
	}
}
