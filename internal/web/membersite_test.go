package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/web"
)

// memberSiteApp is the member site's own script: it reads the network's public
// resources with fetch() from its own origin, once plainly and once with a header that
// needs a CORS preflight, and records what it could read.
const memberSiteApp = `window.__results = {};
const front = document.documentElement.dataset.front;
const read = (key, u, init) => fetch(front + u, init)
  .then(r => r.text().then(t => { window.__results[key] = r.status + (u.includes("feed.json") && r.status === 200 ? " items " + JSON.parse(t).items.length : ""); }))
  .catch(e => { window.__results[key] = "refused " + e.name; });
window.__done = Promise.all([
  "/feed.json", "/feed.atom", "/feed.rss", "/members/fr/feed.json", "/sources.json", "/sources.csv",
  "/sources/alerts.atom", "/opml", "/embed?member=fr&hl=fr", "/embed.js", "/feed.json?member=nope", "/share",
].map(u => read(u, u)).concat([read("preflight /feed.json", "/feed.json", {headers: {"If-None-Match": "\"stale\"", "Cache-Control": "no-cache"}})]));`

// TestMemberSiteCrossOrigin is a member's page on another origin, with a strict
// Content-Security-Policy (no inline style or script), that pastes the share page's
// iframe and script snippets and reads the feeds and data with fetch().
func TestMemberSiteCrossOrigin(t *testing.T) {
	ctx, cl := browser(t)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var items []news.Item
	for i, title := range []string{"Médiation familiale internationale", "Journée d'étude à Genève", "Annual report"} {
		p := day.Add(time.Duration(i) * time.Hour)
		items = append(items, news.Item{ID: fmt.Sprintf("nf-%d", i), Key: fmt.Sprint(i), Member: "fr", Country: "FR", Region: "Europe", Language: "fr",
			Source: "https://fr.example.org/feed/", Title: title, Link: fmt.Sprintf("https://fr.example.org/news/%d", i), Published: p, Updated: p, FirstSeen: p})
	}
	if _, err := st.Upsert(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	var cfg *config.Config
	ws, err := web.New(web.Options{Store: st, Config: func() *config.Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(ws.Handler())
	t.Cleanup(front.Close)
	cfg, err = config.Parse("feeds.yaml", []byte(`network: {title: ISS Network News, url: "`+front.URL+`/", language: en}
members:
  - {id: fr, name: ISS France, country: FR, region: Europe, languages: [fr], sources: [{feed: "https://fr.example.org/feed/"}]}
`))
	if err != nil {
		t.Fatal(err)
	}

	// The snippets, as the share page (in French) gives them.
	res, err := http.Get(front.URL + "/share?member=fr&hl=fr")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	snippet := func(id string) string {
		m := regexp.MustCompile(`<textarea id="` + id + `"[^>]*>([^<]*)</textarea>`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no %s on the share page:\n%s", id, b)
		}
		return html.UnescapeString(string(m[1]))
	}
	iframe, script := snippet("snippet-iframe"), snippet("snippet-script")

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+front.URL+"; frame-src "+front.URL+"; connect-src "+front.URL+"; style-src 'self'")
			fmt.Fprintf(w, `<!doctype html><html lang="fr" data-front="%s"><head><meta charset="utf-8"><title>ISS France</title></head><body>
<h1>Le réseau</h1><div id="by-iframe">%s</div><div id="by-script">%s</div><script src="/app.js"></script></body></html>`, front.URL, iframe, script)
		case "/favicon.ico":
			w.WriteHeader(http.StatusNoContent)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, memberSiteApp)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)

	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/"), chromedp.WaitReady(chromedp.CSS("#by-script iframe"))); err != nil {
		t.Fatal(err)
	}
	results, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`window.__done.then(() => window.__results)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/feed.json": "200 items 3", "/feed.atom": "200", "/feed.rss": "200", "/members/fr/feed.json": "200 items 3",
		"/sources.json": "200", "/sources.csv": "200", "/sources/alerts.atom": "200", "/opml": "200",
		"/embed?member=fr&hl=fr": "200", "/embed.js": "200",
		"/feed.json?member=nope": "400",               // its message is readable too
		"preflight /feed.json":   "200 items 3",       // If-None-Match and Cache-Control: preflighted
		"/share":                 "refused TypeError", // an HTML page: same-origin only
	}
	for k, w := range want {
		if results[k] != w {
			t.Errorf("fetch(%s) from another origin: %q, want %q", k, results[k], w)
		}
	}

	// Both iframes are laid out as the snippets intend (full width, 400 px, no border),
	// with no style attribute refused by the page's CSP; the script's passes hl= on.
	frames, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("iframe")].map(f => {
  const cs = getComputedStyle(f);
  return f.parentElement.id + " " + (f.getBoundingClientRect().width === document.body.clientWidth) + " " + cs.height + " " + cs.borderTopWidth + " " + new URL(f.src).searchParams.get("hl");
})`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"by-iframe true 400px 0px fr", "by-script true 400px 0px fr"}; strings.Join(frames, "|") != strings.Join(want, "|") {
		t.Errorf("iframes %q, want %q", frames, want)
	}
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__calls || ["hooks missing"]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) > 0 {
		t.Errorf("the member's page saw %q", calls)
	}
	for _, e := range cl.take() {
		// Expected: the refused read of an HTML page, and the 400 the script asked for.
		if !strings.Contains(e, "/share") && !strings.Contains(e, "member=nope") {
			t.Errorf("console: %s", e)
		}
	}
}
