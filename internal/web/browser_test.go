package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/mmcdole/gofeed"
	xhtml "golang.org/x/net/html"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/poll"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/web"
)

const chromium = "/usr/bin/chromium"

// xssVectors reads the shared corpus of XSS vectors.
func xssVectors(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "clean", "testdata", "xss.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "# ") {
			continue
		}
		out = append(out, l)
	}
	if len(out) < 50 {
		t.Fatalf("only %d XSS vectors", len(out))
	}
	return out
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			// not allowed in XML 1.0
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hostileSites serves member sites whose feed and news page carry every vector in
// titles, summaries, content, links and images, and a friendly site in three scripts.
func hostileSites(t *testing.T, vectors []string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL
		day := time.Date(2026, 3, 19, 9, 0, 0, 0, time.UTC)
		switch r.URL.Path {
		case "/xss/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>XSS</title><link>` + base + `/xss/</link><description>x</description>`)
			for i, v := range vectors {
				link := fmt.Sprintf("%s/xss/item/%d", base, i)
				if i%5 == 0 {
					link = "javascript:alert(" + fmt.Sprint(i) + ")"
				}
				fmt.Fprintf(&b, `<item><guid isPermaLink="false">xss-%d</guid><title>Feed vector %d %s</title><link>%s</link><description>%s</description><content:encoded>%s</content:encoded><media:thumbnail url="%s"/><pubDate>%s</pubDate></item>`,
					i, i, xmlEscape(v), xmlEscape(link), xmlEscape(v), xmlEscape("<p>before</p>"+v+"<p>after</p>"), xmlEscape("javascript:alert('thumb')"), day.Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
			}
			b.WriteString(`</channel></rss>`)
			io.WriteString(w, b.String())
		case "/xss/news.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			var b strings.Builder
			b.WriteString(`<!doctype html><html><head><title>News</title></head><body><main>`)
			for i, v := range vectors {
				href := fmt.Sprintf("/xss/page/%d", i)
				if i%4 == 0 {
					href = v // the vector as the link itself
				}
				fmt.Fprintf(&b, "<div class=\"item\"><h2><a href=\"%s\">Page vector %d %s</a></h2><p>%s</p><img src=\"%s\"></div>\n", xmlEscape(href), i, v, v, xmlEscape("javascript:alert('img')"))
			}
			b.WriteString(`</main></body></html>`)
			io.WriteString(w, b.String())
		case "/friends/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			items := []struct{ title, desc, lang string }{
				{"שירות סוציאלי בינלאומי: יום עיון על אימוץ בין-ארצי", "סיכום בעברית של הכנס השנתי, עם הרצאות ודיונים.", "he"},
				{"国際養子縁組に関するオンライン相談会を開催します。海外から養子を迎えたご家族を対象にしています。", "11月29日（土）、海外との養子縁組を検討されている方を対象に、オンライン相談会を開催します。", "ja"},
				{"Mineurs non accompagnés : le SSI renforce l'accompagnement vers la majorité", "À 18 ans, les jeunes arrivés seuls perdent d'un coup une grande partie du soutien.", "fr"},
			}
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Friends</title><link>` + base + `/friends/</link><description>x</description>`)
			for i, it := range items {
				fmt.Fprintf(&b, `<item><guid>%s/friends/%d</guid><title>%s</title><link>%s/friends/%d</link><description>%s</description><pubDate>%s</pubDate></item>`,
					base, i, xmlEscape(it.title), base, i, xmlEscape(it.desc), day.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z))
			}
			b.WriteString(`</channel></rss>`)
			io.WriteString(w, b.String())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pipeline polls the hostile and friendly sites through poll.Refresher (with the alerts
// observer) and returns a web server over the resulting store, and the sites.
func pipeline(t *testing.T, vectors []string) (front, sites *httptest.Server) {
	t.Helper()
	sites = hostileSites(t, vectors)
	cfgText := fmt.Sprintf(`network: {title: ISS Network News, url: "https://news.example.org/", language: en}
fetch: {interval: 30m, timeout: 5s, max_body: 4MiB, allow_private_addresses: true}
members:
  - {id: iss-xss-feed, name: "ISS <b>Feed</b>", country: FR, region: Europe, languages: [fr], sources: [{feed: "%[1]s/xss/feed.xml"}]}
  - id: iss-xss-page
    name: ISS Page
    country: ES
    region: Europe
    languages: [es]
    sources:
      - page: "%[1]s/xss/news.html"
        select: {item: "div.item", title: "h2", link: "h2 a", summary: "p", image: "img"}
  - {id: iss-friends, name: ISS Friends, country: IL, region: Middle East, languages: [he, ja, fr], sources: [{feed: "%[1]s/friends/feed.xml"}]}
  - {id: iss-down, name: ISS Down, country: BE, region: Europe, languages: [fr], sources: [{feed: "%[1]s/missing/feed.xml"}]}
`, sites.URL)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "nf.db")
	st, err := boltstore.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfgFn := func() *config.Config { return cfg }
	fc := fetch.New(fetch.Options{Timeout: 5 * time.Second, MaxBody: 4 << 20, AllowPrivate: true, UserAgent: "networkfeed-test", PerHost: 4})
	defer fc.Close()
	log := slog.New(slog.DiscardHandler)
	ob := alerts.New(alerts.Options{Store: st, Config: cfgFn, Log: log})
	ref := &poll.Refresher{Fetch: fc, Store: st, Clean: clean.New(), Log: log, Now: time.Now, Config: cfgFn, Observe: ob.Observe}
	res := poll.PollAll(t.Context(), ref, poll.Jobs(cfg), 4, nil)
	for _, r := range res {
		t.Logf("polled %s: %d new, err %v", r.URL, r.New, r.Err)
	}
	if err := ob.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(web.Options{Store: st, Config: func() *config.Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	return srv, sites
}

// hooks is installed in every document before its own scripts: it records calls to the
// dialog functions, CSP violations, and anything that looks like script running.
const hooks = `(() => {
  window.__calls = [];
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    window[name] = function(...args) { window.__calls.push(name + "(" + args.join(",") + ")"); };
  }
  const origEval = window.eval;
  window.eval = function(...a) { window.__calls.push("eval"); return origEval(...a); };
  document.addEventListener("securitypolicyviolation", e => window.__calls.push("csp:" + e.violatedDirective + " " + e.blockedURI));
})();`

// domAudit lists whatever in the rendered DOM could run script.
const domAudit = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "frame", "base", "form"].includes(tag) && !(tag === "form" && el.classList.contains("filters"))) bad.push("<" + tag + ">");
    for (const a of el.attributes) {
      const v = a.value.trim().toLowerCase().replace(/[\s\x00-\x1f]/g, "");
      if (a.name.startsWith("on")) bad.push(tag + " " + a.name);
      if (["href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data"].includes(a.name) && (v.startsWith("javascript:") || v.startsWith("vbscript:") || v.startsWith("data:text"))) bad.push(tag + " " + a.name + "=" + a.value);
      if (a.name === "style") bad.push(tag + " style");
    }
  }
  return bad;
})()`

// browser starts headless Chromium; it skips the test when Chromium is missing, unless CI=true.
func browser(t *testing.T) (context.Context, *consoleLog) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("no %s: %v", chromium, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	cl := &consoleLog{}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value))
			}
			cl.add(fmt.Sprintf("console.%s(%s)", e.Type, strings.Join(args, ", ")))
		case *runtime.EventExceptionThrown:
			cl.add("exception: " + e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				cl.add(fmt.Sprintf("log %s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hooks}); err != nil {
		t.Fatalf("install hooks: %v", err)
	}
	return ctx, cl
}

type consoleLog struct {
	mu      sync.Mutex
	entries []string
}

func (c *consoleLog) add(s string) { c.mu.Lock(); c.entries = append(c.entries, s); c.mu.Unlock() }

// take returns and clears the entries.
func (c *consoleLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.entries
	c.entries = nil
	return out
}

func artefactDir(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// visit loads a page and returns the dialog calls and DOM findings.
func visit(ctx context.Context, u string) (calls, dom []string, err error) {
	err = chromedp.Do(ctx,
		chromedp.Navigate(u),
		chromedp.WaitReady(chromedp.CSS("body")),
		chromedp.Sleep(150*time.Millisecond), // let lazy images and timers fire, if any
	)
	if err != nil {
		return nil, nil, err
	}
	if calls, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__calls || ["hooks missing"]`)); err != nil {
		return nil, nil, err
	}
	dom, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](domAudit))
	return calls, dom, err
}

// TestBrowser drives Chromium through the river, filters, language switch, dashboard and
// a member page, with hostile member content polled through the real pipeline.
func TestBrowser(t *testing.T) {
	ctx, cl := browser(t)
	vectors := xssVectors(t)
	srv, sitesSrv := pipeline(t, vectors)
	sitesURL := sitesSrv.URL
	shots := artefactDir(t)
	t.Logf("screenshots in %s", shots)

	// Only resource errors of hostile image URLs (which point nowhere) are expected.
	resourceNoise := func(e string) bool {
		return strings.Contains(e, "Failed to load resource") || strings.Contains(e, "net::ERR_")
	}
	pages := []struct{ name, path, must string }{
		{"river", "/", "vector"},
		{"river-page-items", "/?member=iss-xss-page&limit=100", "Page vector"},
		{"river-feed-items", "/?member=iss-xss-feed&limit=100", "Feed vector"},
		{"filter-language", "/?lang=he", "שירות"},
		{"filter-search", "/?q=養子縁組", "国際養子縁組"},
		{"french", "/?hl=fr", "Tous les membres"},
		{"spanish-dashboard", "/sources?hl=es", "Estado de las fuentes"},
		{"dashboard", "/sources", "Source health"},
		{"dashboard-problems", "/sources?problems=1", "ISS Down"},
		{"member-feed", "/members/iss-xss-feed", "Recent polls"},
		{"member-page", "/members/iss-xss-page?hl=fr", "Collectes récentes"},
		{"member-friends", "/members/iss-friends", "ISS Friends"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			calls, dom, err := visit(ctx, srv.URL+p.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) > 0 {
				t.Errorf("script ran or was attempted: %v", calls)
			}
			if len(dom) > 0 {
				t.Errorf("dangerous markup in the DOM: %v", dom)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, p.must) {
				t.Errorf("page lacks %q", p.must)
			}
			for _, e := range cl.take() {
				if !resourceNoise(e) {
					t.Errorf("console: %s", e)
				}
			}
		})
	}

	// Control: the raw hostile page, opened directly, does run script, so the hooks and
	// the DOM audit above would have seen it.
	t.Run("control: hooks catch the raw vectors", func(t *testing.T) {
		calls, dom, err := visit(ctx, sitesURL+"/xss/news.html")
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 0 || len(dom) == 0 {
			t.Errorf("the raw vectors went unnoticed: calls %v, DOM %v", calls, dom)
		}
		t.Logf("raw page: %d dialog calls, %d dangerous DOM findings", len(calls), len(dom))
		cl.take()
	})

	t.Run("language switch and filters by keyboard-free navigation", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/"),
			chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="fr"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a[hreflang="fr"][aria-current]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		langAttr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
		if err != nil {
			t.Fatal(err)
		}
		lang := langAttr.Value
		err = chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`select[name="lang"]`), "he"),
			chromedp.Submit(chromedp.CSS(`form.filters`)),
			chromedp.WaitVisible(chromedp.CSS(`article[lang="he"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.filters label`)))
		if err != nil {
			t.Fatal(err)
		}
		selected, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
		if err != nil {
			t.Fatal(err)
		}
		if lang != "fr" || !strings.Contains(heading, "Membre") || !strings.Contains(selected, "hl=fr") || !strings.Contains(selected, "lang=he") {
			t.Errorf("after switching to French and filtering: lang %q, label %q, query %q", lang, heading, selected)
		}
		dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('article[lang="he"] h2')).direction`))
		if err != nil {
			t.Fatal(err)
		}
		if dir != "rtl" {
			t.Errorf("Hebrew title direction %q, want rtl", dir)
		}
	})

	t.Run("no horizontal overflow at 360px and keyboard focus", func(t *testing.T) {
		for _, p := range []string{"/", "/sources", "/members/iss-friends", "/share"} {
			err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("body")))
			if err != nil {
				t.Fatal(err)
			}
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
			if err != nil {
				t.Fatal(err)
			}
			if overflow {
				t.Errorf("%s scrolls sideways at 360px", p)
			}
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className + " " + document.activeElement.getAttribute("href")`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(first, "skip #main") {
			t.Errorf("first Tab stop is %q, want the skip link", first)
		}
		cl.take()
	})

	t.Run("screenshots", func(t *testing.T) {
		for _, w := range []int64{390, 1280} {
			for _, p := range []struct{ name, path string }{{"river", "/?member=iss-friends"}, {"dashboard", "/sources"}, {"member", "/members/iss-xss-feed"}} {
				err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(srv.URL+p.path), chromedp.WaitReady(chromedp.CSS("body")))
				if err != nil {
					t.Fatal(err)
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if len(png) < 1000 {
					t.Fatalf("screenshot of %d bytes", len(png))
				}
				path := filepath.Join(shots, fmt.Sprintf("%s-%d.png", p.name, w))
				if err := os.WriteFile(path, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot %s", path)
			}
		}
	})

	t.Run("no vector in any output feed", func(t *testing.T) {
		for _, p := range []string{"/feed.rss?limit=500", "/feed.atom?limit=500", "/feed.json?limit=500", "/members/iss-xss-feed/feed.atom?limit=500", "/members/iss-xss-page/feed.rss?limit=500", "/members/iss-xss-page/feed.json?limit=500", "/embed?member=iss-xss-page&limit=50"} {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", p, resp.StatusCode)
				continue
			}
			if strings.HasPrefix(p, "/embed") {
				if bad := dangerousHTML(string(body), true); len(bad) > 0 {
					t.Errorf("%s: %v", p, bad)
				}
				continue
			}
			f, err := gofeed.NewParser().ParseString(string(body))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			n := 0
			for _, it := range f.Items {
				if strings.Contains(it.Title, "vector") {
					n++
				}
				for field, v := range map[string]string{"content": it.Content, "description": it.Description} {
					if bad := dangerousHTML(v, false); len(bad) > 0 {
						t.Errorf("%s item %q %s: %v", p, it.Title, field, bad)
					}
				}
				for _, v := range []string{it.Title, it.Link} {
					if bad := dangerousText(v); bad != "" {
						t.Errorf("%s item %q: %s in title or link", p, it.Title, bad)
					}
				}
				if it.Image != nil && dangerousText(it.Image.URL) != "" {
					t.Errorf("%s item %q: image %q", p, it.Title, it.Image.URL)
				}
			}
			if n < len(vectors)/2 {
				t.Errorf("%s: only %d hostile items made it through (want most of %d, rendered harmless)", p, n, len(vectors))
			}
		}
	})
}

// dangerousText reports markup or script URLs in plain text (a title, a link).
func dangerousText(s string) string {
	l := strings.ToLower(strings.Join(strings.Fields(s), ""))
	for _, bad := range []string{"<script", "javascript:", "vbscript:", "data:text/html", "onerror=", "onload="} {
		if strings.Contains(l, bad) {
			return bad
		}
	}
	return ""
}

// dangerousHTML lists what in an HTML fragment could run script; a whole page may have
// its own head elements (style, meta, link, base).
func dangerousHTML(s string, page bool) []string {
	var bad []string
	doc, err := xhtml.Parse(strings.NewReader(s))
	if err != nil {
		return []string{err.Error()}
	}
	for n := range doc.Descendants() {
		if n.Type != xhtml.ElementNode {
			continue
		}
		switch n.Data {
		case "script", "iframe", "object", "embed", "frame", "form":
			bad = append(bad, "<"+n.Data+">")
		case "style", "meta", "link", "base":
			if !page {
				bad = append(bad, "<"+n.Data+">")
			}
		}
		for _, a := range n.Attr {
			v := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, html.UnescapeString(a.Val)))
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				bad = append(bad, n.Data+" "+a.Key)
			}
			if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text") {
				bad = append(bad, n.Data+" "+a.Key+"="+a.Val)
			}
		}
	}
	return bad
}
