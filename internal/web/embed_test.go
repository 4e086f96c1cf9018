package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/iss-network/networkfeed/internal/news"
)

func TestOPML(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	// jp has only a homepage: its discovered feed counts as its own.
	if err := f.store.PutSource(t.Context(), news.SourceState{URL: "https://jp.example.org/", Member: "jp", Kind: "homepage", FeedURL: "https://jp.example.org/index.rdf"}); err != nil {
		t.Fatal(err)
	}
	res, body := f.get(t, "/opml")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/x-opml; charset=utf-8" {
		t.Fatalf("GET /opml: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	type outline struct {
		Text     string    `xml:"text,attr"`
		Type     string    `xml:"type,attr"`
		XMLURL   string    `xml:"xmlUrl,attr"`
		HTMLURL  string    `xml:"htmlUrl,attr"`
		Children []outline `xml:"outline"`
	}
	var doc struct {
		Version string    `xml:"version,attr"`
		Title   string    `xml:"head>title"`
		Body    []outline `xml:"body>outline"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("opml: %v\n%s", err, body)
	}
	if doc.Version != "2.0" || doc.Title == "" {
		t.Errorf("version %q, title %q", doc.Version, doc.Title)
	}
	got := map[string][]string{}
	var regions []string
	for _, r := range doc.Body {
		regions = append(regions, r.Text)
		for _, o := range r.Children {
			if o.Type != "rss" || o.HTMLURL == "" {
				t.Errorf("outline %+v lacks type or htmlUrl", o)
			}
			got[r.Text] = append(got[r.Text], o.Text+" "+o.XMLURL)
		}
	}
	want := map[string][]string{
		"Americas":     {"ISS USA https://us.example.org/atom.xml"},
		"Asia-Pacific": {"ISS Australia https://au.example.org/feed/", "ISS Japan https://jp.example.org/index.rdf"},
		"Europe":       {"ISS France https://news.example.org/members/fr/feed.atom", "SSI Suisse https://ch.example.org/rss.xml", "SSI Suisse (2) https://ch.example.org/de/rss.xml"},
	}
	if !slices.Equal(regions, []string{"Americas", "Asia-Pacific", "Europe"}) {
		t.Errorf("regions %v", regions)
	}
	for r, w := range want {
		if !slices.Equal(got[r], w) {
			t.Errorf("%s: %q, want %q", r, got[r], w)
		}
	}
	if res, _ := f.get(t, "/opml?x=1"); res.StatusCode != 400 {
		t.Errorf("/opml?x=1: %d, want 400", res.StatusCode)
	}
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

func TestEmbed(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	tests := []struct {
		query   string
		status  int
		items   int
		lang    string
		message string
	}{
		{query: "", status: 200, items: 10, lang: "en"},
		{query: "member=fr&lang=fr&limit=3", status: 200, items: 2, lang: "en"}, // the interface language: the items carry theirs
		{query: "member=jp&limit=1", status: 200, items: 1, lang: "en"},
		{query: "member=zz", status: 400, message: `unknown member "zz"`},
		{query: "limit=51", status: 400, message: "limit must be a whole number from 1 to 50"},
		// The embed's own bound, not the feeds' 500, whichever way the limit is wrong.
		{query: "limit=0", status: 400, message: "limit must be a whole number from 1 to 50\n"},
		{query: "limit=ten", status: 400, message: "limit must be a whole number from 1 to 50\n"},
		{query: "before=1_x", status: 400, message: "no pages"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res, body := f.get(t, "/embed?"+tc.query)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				if !strings.Contains(string(body), tc.message) {
					t.Errorf("message %q, want %q", body, tc.message)
				}
				return
			}
			csp := res.Header.Get("Content-Security-Policy")
			m := styleRE.FindSubmatch(body)
			if m == nil {
				t.Fatalf("no <style> in %s", body)
			}
			sum := sha256.Sum256(m[1])
			for _, want := range []string{"default-src 'none'", "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", "frame-ancestors *", "sandbox allow-popups"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			doc, err := html.Parse(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			var lis, scripts, external int
			var htmlLang, baseTarget string
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "li":
						lis++
					case "script", "link", "img", "form", "iframe":
						scripts++
					case "html":
						htmlLang = attrValue(n, "lang")
					case "base":
						baseTarget = attrValue(n, "target")
					case "a":
						if h := attrValue(n, "href"); !strings.HasPrefix(h, "https://") {
							external++
						}
					}
					for _, a := range n.Attr {
						if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
							scripts++
						}
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if lis != tc.items || scripts != 0 || external != 0 || htmlLang != tc.lang || baseTarget != "_blank" {
				t.Errorf("%d items (want %d), %d scripts/subresources/inline styles, %d non-https links, lang %q (want %q), base target %q",
					lis, tc.items, scripts, external, htmlLang, tc.lang, baseTarget)
			}
			if res2, _ := f.get(t, "/embed?"+tc.query, "If-None-Match", res.Header.Get("ETag")); res2.StatusCode != 304 {
				t.Errorf("conditional request: %d, want 304", res2.StatusCode)
			}
		})
	}
}

func attrValue(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestEmbedScript(t *testing.T) {
	f := newFeedFixture(t, nil)
	res, body := f.get(t, "/embed.js")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /embed.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"document.currentScript", `new URL("embed", s.src)`, `"sandbox"`, "insertBefore"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("embed.js lacks %q", want)
		}
	}
	if strings.Contains(string(body), "document.write") || strings.Contains(string(body), "innerHTML") {
		t.Error("embed.js writes markup into the page")
	}
	if res2, _ := f.get(t, "/embed.js", "If-None-Match", res.Header.Get("ETag")); res2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional request: %d, want 304", res2.StatusCode)
	}
}

func TestShare(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	tests := []struct {
		query      string
		status     int
		wantIFrame string
		wantScript string
	}{
		{query: "", status: 200,
			wantIFrame: `<iframe src="https://news.example.org/embed" title="Test Network" sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" referrerpolicy="no-referrer" class="networkfeed-embed" width="100%" height="400" frameborder="0"></iframe>`,
			wantScript: `<script src="https://news.example.org/embed.js" data-title="Test Network" async></script>`},
		{query: "member=fr&lang=fr&limit=5", status: 200,
			wantIFrame: `<iframe src="https://news.example.org/embed?lang=fr&amp;limit=5&amp;member=fr" title="ISS France – Test Network" sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" referrerpolicy="no-referrer" class="networkfeed-embed" width="100%" height="400" frameborder="0"></iframe>`,
			wantScript: `<script src="https://news.example.org/embed.js" data-title="ISS France – Test Network" data-member="fr" data-lang="fr" data-limit="5" async></script>`},
		{query: "member=fr&hl=fr", status: 200, // the page's language chosen with hl=: the list speaks it too
			wantIFrame: `<iframe src="https://news.example.org/embed?hl=fr&amp;member=fr" title="ISS France – Test Network" sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" referrerpolicy="no-referrer" class="networkfeed-embed" width="100%" height="400" frameborder="0"></iframe>`,
			wantScript: `<script src="https://news.example.org/embed.js" data-title="ISS France – Test Network" data-member="fr" data-hl="fr" async></script>`},
		{query: "member=nope", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res, body := f.get(t, "/share?"+tc.query)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			doc, err := html.Parse(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			snips := map[string]string{}
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode && n.Data == "textarea" && n.FirstChild != nil {
					snips[attrValue(n, "id")] = n.FirstChild.Data
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if snips["snippet-iframe"] != tc.wantIFrame {
				t.Errorf("iframe snippet\n%s\nwant\n%s", snips["snippet-iframe"], tc.wantIFrame)
			}
			if snips["snippet-script"] != tc.wantScript {
				t.Errorf("script snippet\n%s\nwant\n%s", snips["snippet-script"], tc.wantScript)
			}
			// The snippet's list must exist.
			src := html.UnescapeString(regexp.MustCompile(`src="([^"]*)"`).FindStringSubmatch(tc.wantIFrame)[1])
			if res, _ := f.get(t, src); res.StatusCode != 200 {
				t.Errorf("GET %s: %d", src, res.StatusCode)
			}
		})
	}
}

// TestEmbedLanguage: the embedded list speaks the language a member's site asks for
// with hl= (else the reader's Accept-Language, as the pages do): "More news", the empty
// list and the dates, tagged with that language, while each item keeps its own; the
// render cache keeps one copy per language.
func TestEmbedLanguage(t *testing.T) {
	items := append(filterItems(), mk("h01", "jp", "he", 13, "שירות סוציאלי בינלאומי"))
	f := newFeedFixture(t, items, "languages: [ja]", "languages: [ja, he]")
	tests := []struct {
		name, query, accept string
		lang                string   // <html lang>, Content-Language, the small print's lang
		varyLang            bool     // Vary: Accept-Language
		want                []string // in the text
		itemLangs           []string // the <li>s' lang, in order
		more                string   // the "More news" link
	}{
		{name: "default English", query: "member=fr", lang: "en", varyLang: true,
			want: []string{"More news from Test Network", "1 March 2026"}, itemLangs: []string{"fr", "en", "fr"},
			more: "https://news.example.org/members/fr"},
		{name: "hl=fr", query: "member=fr&hl=fr", lang: "fr",
			want: []string{"Plus d’actualités sur Test Network", "1er mars 2026"}, itemLangs: []string{"fr", "en", "fr"},
			more: "https://news.example.org/members/fr?hl=fr"},
		{name: "hl beats Accept-Language", query: "member=fr&hl=es", accept: "fr", lang: "es",
			want: []string{"Más noticias en Test Network", "1 de marzo de 2026"}, itemLangs: []string{"fr", "en", "fr"},
			more: "https://news.example.org/members/fr?hl=es"},
		{name: "Accept-Language", query: "member=fr", accept: "fr-CH, fr;q=0.9", lang: "fr", varyLang: true,
			want: []string{"Plus d’actualités sur Test Network", "1er mars 2026"}, itemLangs: []string{"fr", "en", "fr"},
			more: "https://news.example.org/members/fr"},
		{name: "Hebrew items, French list", query: "lang=he&hl=fr", lang: "fr",
			want: []string{"Plus d’actualités sur Test Network", "mars 2026"}, itemLangs: []string{"he"},
			more: "https://news.example.org/?hl=fr&lang=he"},
		{name: "empty, Spanish", query: "q=nothing-matches&hl=es", lang: "es",
			want: []string{"Aún no hay noticias.", "Más noticias en Test Network"},
			more: "https://news.example.org/?hl=es&q=nothing-matches"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.accept != "" {
				hdr = []string{"Accept-Language", tc.accept}
			}
			res, body := f.get(t, "/embed?"+tc.query, hdr...)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Content-Language"); got != tc.lang {
				t.Errorf("Content-Language %q, want %q", got, tc.lang)
			}
			if got := strings.Contains(res.Header.Get("Vary"), "Accept-Language"); got != tc.varyLang || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q (Accept-Language wanted: %v)", res.Header.Get("Vary"), tc.varyLang)
			}
			doc, err := html.Parse(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			var liLangs, smallLangs []string
			var htmlLang, htmlDir, more, text string
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				switch {
				case n.Type == html.TextNode:
					text += n.Data
				case n.Type == html.ElementNode && n.Data == "html":
					htmlLang, htmlDir = attrValue(n, "lang"), attrValue(n, "dir")
				case n.Type == html.ElementNode && n.Data == "li" && attrValue(n, "lang") != "":
					liLangs = append(liLangs, attrValue(n, "lang"))
				case n.Type == html.ElementNode && n.Data == "small":
					smallLangs = append(smallLangs, attrValue(n, "lang"))
				case n.Type == html.ElementNode && n.Data == "a" && n.Parent != nil && attrValue(n.Parent, "class") == "more":
					more = attrValue(n, "href")
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if htmlLang != tc.lang || htmlDir != "ltr" {
				t.Errorf("<html lang=%q dir=%q>, want lang %q dir ltr", htmlLang, htmlDir, tc.lang)
			}
			if !slices.Equal(liLangs, tc.itemLangs) {
				t.Errorf("items' lang %q, want %q", liLangs, tc.itemLangs)
			}
			for _, l := range smallLangs {
				if l != tc.lang {
					t.Errorf("member and date tagged %q, want %q", l, tc.lang)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
			if more != tc.more {
				t.Errorf("more link %q, want %q", more, tc.more)
			}
		})
	}
}

// TestEmbedScriptPassesLanguage: embed.js passes data-hl on to the list.
func TestEmbedScriptPassesLanguage(t *testing.T) {
	f := newFeedFixture(t, nil)
	_, body := f.get(t, "/embed.js")
	m := regexp.MustCompile(`\[("member".*?)\]\.forEach`).FindSubmatch(body)
	if m == nil || !strings.Contains(string(m[1]), `"hl"`) {
		t.Errorf("embed.js passes on %s, not hl", m)
	}
}
