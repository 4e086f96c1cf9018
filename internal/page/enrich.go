package page

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"

	"github.com/iss-network/networkfeed/internal/news"
)

// Enrichment is what an article page adds to an item found on a list.
type Enrichment struct {
	// Title is the article's title (og:title, else twitter:title, else its first <h1>,
	// else <title>): for an item whose list gives it none but a read-more link.
	Title     string
	Published time.Time
	Precision news.Precision // news.PrecisionNone when the page gives no date
	Summary   string
	Image     string // absolute URL
	Language  string
}

var (
	mMeta        = cascadia.MustCompile(`meta[content]`)
	mH1          = cascadia.MustCompile(`h1`)
	mTitle       = cascadia.MustCompile(`head title, title`)
	mArticleTime = cascadia.MustCompile(`article time[datetime], time[datetime][itemprop=datePublished], [itemprop=datePublished][content]`)
)

// Enrich reads an article page's title, publication date (article:published_time, JSON-LD datePublished, a
// microdata or <time> date), description (og:description, else the meta description), image (og:image)
// and language (<html lang>, else og:locale).
func Enrich(doc []byte, pageURL string, o Options) Enrichment {
	e := Enrichment{Precision: news.PrecisionNone}
	p, err := parsePage(doc, pageURL, o)
	if err != nil {
		return e
	}
	p.dates = newDateParser(o)
	meta := map[string]string{}
	for _, m := range cascadia.QueryAll(p.root, mMeta) {
		k := strings.ToLower(attr(m, "property"))
		if k == "" {
			k = strings.ToLower(attr(m, "name"))
		}
		if k == "" {
			k = "itemprop:" + attr(m, "itemprop")
		}
		if _, ok := meta[k]; !ok && k != "" {
			meta[k] = strings.TrimSpace(attr(m, "content"))
		}
	}
	setDate := func(s string) bool {
		if e.Precision != news.PrecisionNone || s == "" {
			return false
		}
		if t, pr, ok := p.dates.parse(s); ok {
			e.Published, e.Precision = t, pr
			return true
		}
		return false
	}
	for _, k := range []string{"article:published_time", "og:published_time", "datepublished", "dc.date", "dcterms.date", "date"} {
		if setDate(meta[k]) {
			break
		}
	}
	if e.Precision == news.PrecisionNone {
		for _, s := range cascadia.QueryAll(p.root, mJSONLD) {
			var v any
			if json.Unmarshal([]byte(rawText(s)), &v) == nil && setDate(ldDate(v, 0)) {
				break
			}
		}
	}
	if e.Precision == news.PrecisionNone {
		if ns := publishedFirst(cascadia.QueryAll(p.root, mArticleTime)); len(ns) > 0 && !setDate(attr(ns[0], "datetime")) {
			setDate(attr(ns[0], "content"))
		}
	}
	e.Title = CleanText(meta["og:title"])
	if e.Title == "" {
		e.Title = CleanText(meta["twitter:title"])
	}
	for _, m := range []cascadia.Matcher{mH1, mTitle} {
		if e.Title != "" {
			break
		}
		if n := cascadia.Query(p.root, m); n != nil {
			e.Title = CleanText(text(n, nil))
		}
	}
	e.Title = truncate(e.Title, summaryLen)
	e.Summary = meta["og:description"]
	if e.Summary == "" {
		e.Summary = meta["description"]
	}
	if e.Summary == "" {
		e.Summary = meta["twitter:description"]
	}
	e.Summary = truncate(CleanText(e.Summary), summaryLen)
	for _, k := range []string{"og:image", "og:image:url", "og:image:secure_url", "twitter:image"} {
		if v := meta[k]; v != "" {
			e.Image = p.resolve(v)
			break
		}
	}
	e.Language = p.lang
	if e.Language == "" {
		e.Language = normLang(meta["og:locale"])
	}
	return e
}

// ldDate finds the datePublished of the first article object in a JSON-LD value.
func ldDate(v any, depth int) string {
	if depth > 8 {
		return ""
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s := ldDate(e, depth+1); s != "" {
				return s
			}
		}
	case map[string]any:
		if anyArticle(ldTypes(x["@type"])) || ldTypes(x["@type"])["WebPage"] {
			if s := ldString(x["datePublished"]); s != "" {
				return s
			}
		}
		for _, k := range []string{"@graph", "mainEntity", "mainEntityOfPage"} {
			if s := ldDate(x[k], depth+1); s != "" {
				return s
			}
		}
	}
	return ""
}
