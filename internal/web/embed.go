package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// Limits on the embedded list's ?limit=.
const (
	EmbedDefaultLimit = 10
	EmbedMaxLimit     = 50
)

// embedCSS is the embedded list's only style: inline, allowed by its hash in the CSP.
// Its background is opaque, in the colours of the web view's schemes: the list cannot
// see the page around it, and a transparent one showed the dark scheme's light text on
// a member's white page (1.8:1) whenever that page declares color-scheme light dark.
const embedCSS = `:root{color-scheme:light dark}body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;background:#fff;color:#1a1a1a}` +
	`ul{list-style:none;margin:0;padding:0}li{padding:.45em .2em;border-bottom:1px solid rgba(128,128,128,.35);overflow-wrap:anywhere}` +
	`a{color:#0b57a4}small{display:block;color:#555}.more{margin:.5em .2em;font-size:.9em}` +
	`@media (prefers-color-scheme:dark){body{background:#121417;color:#e8e8e8}a{color:#8cc4ff}small{color:#b0b4ba}}`

// embedCSP lets the list do nothing but show itself: no script, no subresource, no form;
// links open in a new browsing context. It may be framed anywhere.
var embedCSP = func() string {
	sum := sha256.Sum256([]byte(embedCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors *; sandbox allow-popups allow-popups-to-escape-sandbox"
}()

// embedView is what embed.html shows. Lang is the interface language (of "More news",
// the dates, the empty list), not the items': each item carries its own.
type embedView struct {
	Lang, Title, More, Empty, MoreURL string
	CSS                               template.CSS
	Items                             []itemView
}

// embedQuery parses the filters of the embedded list (and of the share page that makes
// its snippets): as a feed's, with the list's own bound on limit, which a limit out of
// range in either direction is told (the feeds' 500 was named for limit=0).
func (s *Server) embedQuery(v url.Values, cfg *config.Config) (news.Query, error) {
	if l := v.Get("limit"); l != "" {
		if n, err := strconv.Atoi(l); err != nil || n < 1 || n > EmbedMaxLimit {
			return news.Query{}, bad("limit must be a whole number from 1 to %d", EmbedMaxLimit)
		}
	}
	return s.parseQuery(v, cfg, EmbedDefaultLimit)
}

// varyLangH is the Vary of an embedded list whose language comes from Accept-Language.
var varyLangH = []string{"Accept-Encoding, Accept-Language"}

// embed serves a small self-contained HTML list of the newest items for an iframe, in
// the interface language chosen as the pages choose it (?hl=, else Accept-Language): a
// member's site asks for its own language with hl=.
func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	l := chooseLocale(r)
	q, err := s.embedQuery(r.URL.Query(), cfg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !q.Before.IsZero() {
		s.fail(w, r, bad("the embedded list has no pages: before is not allowed"))
		return
	}
	q.Clustered = clustered(q)
	w.Header().Set("Content-Security-Policy", embedCSP)
	w.Header().Set("Content-Language", l.Code)
	if !l.Explicit {
		w.Header()["Vary"] = varyLangH
	}
	// The language is part of the key, and whether hl= chose it: the list's links keep an
	// explicit choice.
	lang := l.Code
	if l.Explicit {
		lang = "hl=" + l.Code
	}
	key := cacheKey{cfg: cfg, addr: "/embed?" + canonicalQuery(r.URL.Query()), lang: lang, since: q.Since.Unix()}
	version, ok := s.version(r.Context())
	err = s.cache.serve(w, r, key, version, ok, func() ([]byte, string, time.Time, error) {
		items, err := s.items(r.Context(), q)
		if err != nil {
			return nil, "", time.Time{}, fmt.Errorf("read items: %w", err)
		}
		v := embedView{Lang: l.Code, More: l.T("More news from %s", cfg.Network.Title), Empty: l.T("No news yet."),
			CSS: template.CSS(embedCSS), Items: s.localItemViews(cfg, l, items)}
		more, _ := url.ParseQuery(feedQuery(r.URL.Query()))
		v.Title, v.MoreURL = cfg.Network.Title, withQuery(cfg.Network.URL, l.keep(more).Encode())
		if len(q.Members) == 1 {
			m, _ := cfg.Member(q.Members[0])
			v.Title = m.Name + " – " + cfg.Network.Title
			v.MoreURL = withQuery(cfg.Network.URL+"members/"+url.PathEscape(m.ID), l.keep(url.Values{}).Encode())
		}
		for i := range v.Items {
			if v.Items[i].Link == "" {
				v.Items[i].Link = cfg.Network.URL + "members/" + url.PathEscape(v.Items[i].Member)
			}
		}
		var buf bytes.Buffer
		if err := s.tmpl.ExecuteTemplate(&buf, "embed.html", v); err != nil {
			return nil, "", time.Time{}, fmt.Errorf("render embed.html: %w", err)
		}
		return buf.Bytes(), "text/html; charset=utf-8", newest(items), nil
	})
	if err != nil {
		s.fail(w, r, err)
	}
}

// newest is the last time items changed here: the latest of their Updated and
// FirstSeen times. Updated alone is the source's own date, so an item that arrives late
// (a member polled hours after it published, a date-only page) would leave it where it
// was, and a reader revalidating with If-Modified-Since would be told nothing changed.
func newest(items []news.Item) time.Time {
	var t time.Time
	for _, it := range items {
		for _, u := range []time.Time{it.Updated, it.FirstSeen} {
			if u.After(t) {
				t = u
			}
		}
	}
	return t
}

// embedJS finds its own <script> element and puts a sandboxed iframe of /embed after it,
// passing on its data-member, data-lang, data-limit (and other filter) attributes and
// data-hl, the list's interface language. It sizes the iframe through the CSSOM, which
// a page's Content-Security-Policy allows where it refuses style attributes. The
// list's address is resolved against the script's own, so it works under any sub-path.
const embedJS = `(function () {
  "use strict";
  var s = document.currentScript;
  if (!s || !s.parentNode) { return; }
  var src = new URL("embed", s.src);
  ["member", "country", "region", "lang", "category", "q", "limit", "hl"].forEach(function (k) {
    var v = s.getAttribute("data-" + k);
    if (v) { src.searchParams.set(k, v); }
  });
  var f = document.createElement("iframe");
  f.src = src.href;
  f.title = s.getAttribute("data-title") || "News";
  f.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
  f.setAttribute("loading", "lazy");
  f.setAttribute("referrerpolicy", "no-referrer");
  f.style.width = "100%";
  f.style.border = "0";
  f.style.height = (parseInt(s.getAttribute("data-height"), 10) || 400) + "px";
  s.parentNode.insertBefore(f, s.nextSibling);
})();
`

var embedJSETag = func() string {
	sum := sha256.Sum256([]byte(embedJS))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}()

// embedScriptCacheControl lets browsers keep /embed.js an hour, then revalidate it (its
// ETag: a 304 costs a few hundred bytes). The snippet members paste names no version, so
// a day's max-age kept the previous release's script on their sites that long after an
// upgrade.
const embedScriptCacheControl = "public, max-age=3600"

func (s *Server) embedScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", embedScriptCacheControl)
	w.Header().Set("ETag", embedJSETag)
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "embed.js", time.Time{}, strings.NewReader(embedJS))
}

// embedSnippets are the copy-paste snippets for one selection.
type embedSnippets struct {
	EmbedURL, IFrame, Script string
}

// embedParams are the parameters the snippets pass on to the list: its filters, limit
// and interface language (hl).
var embedParams = []string{"member", "country", "region", "lang", "category", "q", "limit", "hl"}

// snippets builds the iframe and script snippets for the filters in v under cfg's URL.
// The iframe is sized by its width, height and frameborder attributes, not a style
// attribute: members' sites whose Content-Security-Policy refuses inline styles
// (style-src without 'unsafe-inline') would show it 300×150 with a border. Its class
// lets a site restyle it from its own stylesheet.
func snippets(cfg *config.Config, v url.Values, title string) embedSnippets {
	q := url.Values{}
	for _, k := range embedParams {
		if s := param(v, k); s != "" {
			q.Set(k, s)
		}
	}
	src := withQuery(cfg.Network.URL+"embed", q.Encode())
	esc := template.HTMLEscapeString
	var attrs strings.Builder
	for _, k := range embedParams {
		if s := q.Get(k); s != "" {
			fmt.Fprintf(&attrs, ` data-%s="%s"`, k, esc(s))
		}
	}
	return embedSnippets{
		EmbedURL: src,
		IFrame: fmt.Sprintf(`<iframe src="%s" title="%s" sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" referrerpolicy="no-referrer" class="networkfeed-embed" width="100%%" height="400" frameborder="0"></iframe>`,
			esc(src), esc(title)),
		Script: fmt.Sprintf(`<script src="%s" data-title="%s"%s async></script>`, esc(cfg.Network.URL+"embed.js"), esc(title), attrs.String()),
	}
}
