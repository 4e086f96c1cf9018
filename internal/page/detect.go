package page

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/iss-network/networkfeed/internal/news"
)

// Detection tiers, from the most to the least explicit.
const (
	TierJSONLD    = "json-ld"
	TierMicrodata = "microdata"
	TierHEntry    = "h-entry"
	TierHeuristic = "heuristic"
)

// Detection is what automatic detection found on a page: the items, the tier that found them, and the
// selectors that pick them (empty for JSON-LD), ready to be pasted into feeds.yaml.
type Detection struct {
	Selectors Selectors
	Tier      string
	Items     []news.Item
}

// Detect finds a page's news list without selectors. It tries, in order: schema.org ItemList,
// BlogPosting or NewsArticle in JSON-LD; the same types in microdata; h-entry microformats; and a
// structural heuristic that looks for repeated sibling blocks carrying a title and a link to an article,
// ignoring navigation, headers, footers, sidebars, cookie banners, menus and pagination. It returns
// ErrNoMatch when no tier finds a list.
func Detect(doc []byte, pageURL string, o Options) (Detection, error) {
	p, err := parsePage(doc, pageURL, o)
	if err != nil {
		return Detection{}, fmt.Errorf("detect %s: %w", pageURL, err)
	}
	if items := p.jsonLDItems(); len(items) >= 2 {
		return Detection{Tier: TierJSONLD, Items: items}, nil
	}
	noise := noiseCache{}
	for _, t := range []struct {
		tier string
		sel  Selectors
	}{
		{TierMicrodata, microdataSelectors},
		{TierHEntry, hEntrySelectors},
	} {
		if items, _ := p.extractWhere(t.sel, func(b *html.Node) bool { return !noise.in(b) }, true); len(items) >= 2 {
			return Detection{Tier: t.tier, Selectors: t.sel, Items: items}, nil
		}
	}
	if d, ok := p.heuristic(noise); ok {
		return d, nil
	}
	return Detection{}, fmt.Errorf("detect %s: %w", pageURL, ErrNoMatch)
}

var (
	// The tiers leave Date empty: Extract then reads [itemprop=datePublished] or .dt-published, and falls
	// back to dates in the text when an item has neither.
	microdataSelectors = Selectors{
		Item:    `[itemscope][itemtype$="/BlogPosting"], [itemscope][itemtype$="/NewsArticle"], [itemscope][itemtype$="/Article"], [itemscope][itemtype$="/Report"]`,
		Title:   `[itemprop=headline], [itemprop=name]`,
		Summary: `[itemprop=description], [itemprop=articleBody], [itemprop=text]`,
	}
	hEntrySelectors = Selectors{
		Item:    `.h-entry`,
		Title:   `.p-name`,
		Summary: `.p-summary, .e-content`,
	}
)

// jsonLDItems reads schema.org ItemList, BlogPosting, NewsArticle and Article objects from the page's
// JSON-LD, in document order.
func (p *pageDoc) jsonLDItems() []news.Item {
	var items []news.Item
	seen := map[string]bool{}
	for _, s := range cascadia.QueryAll(p.root, mJSONLD) {
		var v any
		if err := json.Unmarshal([]byte(rawText(s)), &v); err != nil {
			continue
		}
		p.walkJSONLD(v, &items, seen, 0)
	}
	return items
}

var mJSONLD = cascadia.MustCompile(`script[type="application/ld+json"]`)

var articleTypes = map[string]bool{
	"BlogPosting": true, "NewsArticle": true, "Article": true, "Report": true, "PressRelease": true,
	"SocialMediaPosting": true, "AnalysisNewsArticle": true, "ReportageNewsArticle": true,
}

func (p *pageDoc) walkJSONLD(v any, items *[]news.Item, seen map[string]bool, depth int) {
	if depth > 8 {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			p.walkJSONLD(e, items, seen, depth+1)
		}
	case map[string]any:
		types := ldTypes(x["@type"])
		switch {
		case types["ItemList"]:
			p.walkJSONLD(x["itemListElement"], items, seen, depth+1)
			return
		case types["ListItem"]:
			if inner, ok := x["item"].(map[string]any); ok {
				p.walkJSONLD(inner, items, seen, depth+1)
				return
			}
			if it, ok := p.ldItem(x); ok && !seen[it.Link] {
				seen[it.Link] = true
				*items = append(*items, it)
			}
			return
		case anyArticle(types):
			if it, ok := p.ldItem(x); ok && !seen[it.Link] {
				seen[it.Link] = true
				*items = append(*items, it)
			}
			return
		}
		for _, k := range []string{"@graph", "blogPost", "hasPart", "mainEntity", "itemListElement"} {
			if e, ok := x[k]; ok {
				p.walkJSONLD(e, items, seen, depth+1)
			}
		}
	}
}

func ldTypes(v any) map[string]bool {
	out := map[string]bool{}
	switch t := v.(type) {
	case string:
		out[t[strings.LastIndex(t, "/")+1:]] = true
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out[s[strings.LastIndex(s, "/")+1:]] = true
			}
		}
	}
	return out
}

func anyArticle(types map[string]bool) bool {
	for t := range types {
		if articleTypes[t] {
			return true
		}
	}
	return false
}

func (p *pageDoc) ldItem(x map[string]any) (news.Item, bool) {
	var it news.Item
	it.Title = truncate(CleanText(ldString(x["headline"])), summaryLen)
	if it.Title == "" {
		it.Title = truncate(CleanText(ldString(x["name"])), summaryLen)
	}
	for _, k := range []string{"url", "mainEntityOfPage", "@id"} {
		if u := ldString(x[k]); usableHref(u) {
			it.Link = p.resolve(u)
			break
		}
	}
	if it.Link == "" || it.Title == "" {
		return it, false
	}
	it.Precision = news.PrecisionNone
	if p.dates == nil {
		p.dates = newDateParser(p.o)
	}
	for _, k := range []string{"datePublished", "dateCreated", "uploadDate", "dateModified"} {
		if s := ldString(x[k]); s != "" {
			if t, pr, ok := p.dates.parse(s); ok {
				it.Published, it.Precision = t, pr
				break
			}
		}
	}
	if it.Precision == news.PrecisionNone {
		it.Published = time.Time{}
	}
	it.Summary = truncate(CleanText(ldString(x["description"])), summaryLen)
	if img := ldString(x["image"]); img != "" {
		it.Image = p.resolve(img)
	}
	it.Language = normLang(ldString(x["inLanguage"]))
	if it.Language == "" {
		it.Language = p.lang
	}
	if it.Language == "" {
		it.Language = p.languageOf(p.root, it.Title+". "+it.Summary)
	}
	return it, true
}

// ldString reads a JSON-LD value that may be a string, an object with url/@id/name, or a list of them.
func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case []any:
		if len(x) > 0 {
			return ldString(x[0])
		}
	case map[string]any:
		for _, k := range []string{"url", "@id", "contentUrl", "name", "@value"} {
			if s := ldString(x[k]); s != "" {
				return s
			}
		}
	}
	return ""
}

// rawText is the text of an element's child text nodes, as written (the content of a <script>).
func rawText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// hasClassToken reports whether one of n's class names, or its id, begins or ends with a word in set
// ("site-footer", "cookie-notice"; but not "et_pb_ajax_pagination_container").
func hasClassToken(n *html.Node, set map[string]bool) bool {
	for _, k := range []string{"class", "id"} {
		for _, name := range strings.Fields(strings.ToLower(attr(n, k))) {
			toks := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' })
			if len(toks) > 0 && (set[toks[0]] || set[toks[len(toks)-1]]) {
				return true
			}
		}
	}
	return false
}
