package page

import (
	"net/url"
	"strings"

	"github.com/andybalholm/cascadia"
)

// FeedLink is a feed a page advertises.
type FeedLink struct {
	URL   string `json:"url"`
	Type  string `json:"type"` // rss, atom or json
	Title string `json:"title,omitempty"`
}

var mAlternate = cascadia.MustCompile(`link[href]`)

// feedTypes maps <link type> values onto feed kinds.
var feedTypes = map[string]string{
	"application/rss+xml":   "rss",
	"application/rdf+xml":   "rss",
	"application/atom+xml":  "atom",
	"application/feed+json": "json",
	"application/json":      "json",
	"text/xml":              "rss",
	"application/xml":       "rss",
}

// DiscoverFeeds lists the RSS, Atom and JSON feeds a page advertises with <link rel="alternate">, as
// absolute URLs in page order, comment feeds last. Plain application/json links count only when they name
// a JSON Feed (WordPress's REST links and oEmbed do not).
func DiscoverFeeds(doc []byte, pageURL string) []FeedLink {
	p, err := parsePage(doc, pageURL, Options{})
	if err != nil {
		return nil
	}
	var feeds, comments []FeedLink
	seen := map[string]bool{}
	for _, l := range cascadia.QueryAll(p.root, mAlternate) {
		rels := strings.Fields(strings.ToLower(attr(l, "rel")))
		if !contains(rels, "alternate") && !contains(rels, "feed") {
			continue
		}
		typ := strings.ToLower(strings.TrimSpace(attr(l, "type")))
		if i := strings.IndexByte(typ, ';'); i >= 0 {
			typ = strings.TrimSpace(typ[:i])
		}
		kind, ok := feedTypes[typ]
		if !ok {
			continue
		}
		href, title := attr(l, "href"), collapse(attr(l, "title"))
		if typ == "application/json" && !strings.Contains(strings.ToLower(href+" "+title), "feed") {
			continue
		}
		u := p.resolve(href)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		f := FeedLink{URL: u, Type: kind, Title: title}
		lt := strings.ToLower(title + " " + href)
		if strings.Contains(lt, "comment") || strings.Contains(lt, "commentaire") || strings.Contains(lt, "comentario") || strings.Contains(lt, "kommentar") {
			comments = append(comments, f)
			continue
		}
		feeds = append(feeds, f)
	}
	return append(feeds, comments...)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// CMSFeedCandidates lists the feed URLs the common CMSs serve for a page even when it advertises none:
// Joomla's ?format=feed&type=rss (and atom) on the page itself, WordPress's /feed/ under the page's path
// and at the site root, and Drupal's /rss.xml.
func CMSFeedCandidates(pageURL string) []string {
	u, err := url.Parse(strings.TrimSpace(pageURL))
	if err != nil || u.Host == "" {
		return nil
	}
	u.Fragment = ""
	var out []string
	add := func(s string) {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	for _, t := range []string{"rss", "atom"} {
		j := *u
		q := j.Query()
		q.Set("format", "feed")
		q.Set("type", t)
		j.RawQuery = q.Encode()
		add(j.String())
	}
	if strings.Trim(u.Path, "/") != "" {
		w := *u
		w.RawQuery = ""
		w.Path = strings.TrimSuffix(w.Path, "/") + "/feed/"
		w.RawPath = ""
		add(w.String())
	}
	root := url.URL{Scheme: u.Scheme, Host: u.Host}
	root.Path = "/feed/"
	add(root.String())
	root.Path = "/rss.xml"
	add(root.String())
	return out
}
