package page

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/iss-network/networkfeed/internal/news"
)

// Extract reads the news items of a page with explicit selectors, in page order. Titles and summaries
// are plain text; links and images are absolute (resolved against <base href>, then pageURL). The date
// comes from the date element (its datetime or content attribute first), or, when sel.Date is empty,
// from a <time> element or date-like text in the item; undated items get news.PrecisionNone.
// It returns ErrNoMatch when the item selector matches nothing.
func Extract(doc []byte, pageURL string, sel Selectors, o Options) ([]news.Item, error) {
	items, _, err := ExtractChecked(doc, pageURL, sel, o)
	return items, err
}

// ExtractChecked is Extract that also reports the field selectors (title, link, date,
// summary, image) given in sel that found nothing in any of the items: after a partial
// redesign the item selector still matches and items keep coming, but, with no error,
// they quietly lost their dates (each dated when first seen), summaries or images.
func ExtractChecked(doc []byte, pageURL string, sel Selectors, o Options) ([]news.Item, []Miss, error) {
	if err := sel.Validate(); err != nil {
		return nil, nil, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	p, err := parsePage(doc, pageURL, o)
	if err != nil {
		return nil, nil, fmt.Errorf("extract %s: %w", pageURL, err)
	}
	items, h := p.extractWhere(sel, nil, false)
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("extract %s: item %q: %w", pageURL, sel.Item, ErrNoMatch)
	}
	return items, h.misses(sel), nil
}

// Miss is a field selector that found nothing in any item of a page.
type Miss struct {
	Field    string // title, link, date, summary or image
	Selector string
	Items    int // the items read
	// Matched: the date selector matched, but no date could be read from what it matched.
	Matched bool
}

// String says it in words for the dashboard: "date selector `.date` matched none of 12 items".
func (m Miss) String() string {
	if m.Matched {
		return fmt.Sprintf("%s selector `%s` matched, but no date could be read in any of %d items", m.Field, m.Selector, m.Items)
	}
	return fmt.Sprintf("%s selector `%s` matched none of %d items", m.Field, m.Selector, m.Items)
}

// hits counts, over the items read, those in which each field selector matched (dated:
// those dated from what the date selector matched).
type hits struct{ items, title, link, date, dated, summary, image int }

func (h hits) misses(sel Selectors) []Miss {
	var out []Miss
	for _, f := range []struct {
		name, sel string
		n         int
	}{{"title", sel.Title, h.title}, {"link", sel.Link, h.link}, {"date", sel.Date, h.date}, {"summary", sel.Summary, h.summary}, {"image", sel.Image, h.image}} {
		switch {
		case f.sel == "" || h.items == 0:
		case f.n == 0:
			out = append(out, Miss{Field: f.name, Selector: f.sel, Items: h.items})
		case f.name == "date" && h.dated == 0:
			out = append(out, Miss{Field: f.name, Selector: f.sel, Items: h.items, Matched: true})
		}
	}
	return out
}

// pageDoc is one parsed page and what every item read from it shares.
type pageDoc struct {
	root    *html.Node
	base    *url.URL
	pageURL string
	lang    string // <html lang>
	o       Options
	dates   *dateParser
}

func parsePage(doc []byte, pageURL string, o Options) (*pageDoc, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	base, err := url.Parse(strings.TrimSpace(pageURL))
	if err != nil {
		return nil, fmt.Errorf("parse page url: %w", err)
	}
	if b := cascadia.Query(root, mBase); b != nil {
		if u, err := base.Parse(strings.TrimSpace(attr(b, "href"))); err == nil && attr(b, "href") != "" {
			base = u
		}
	}
	p := &pageDoc{root: root, base: base, pageURL: pageURL, o: o}
	if h := cascadia.Query(root, mHTML); h != nil {
		p.lang = normLang(attr(h, "lang"))
		if p.lang == "" {
			p.lang = normLang(attr(h, "xml:lang"))
		}
	}
	return p, nil
}

var (
	mBase     = cascadia.MustCompile("base[href]")
	mHTML     = cascadia.MustCompile("html")
	mHeading  = cascadia.MustCompile("h1, h2, h3, h4, h5, h6")
	mTitleish = cascadia.MustCompile(`[itemprop=headline], [itemprop=name], .p-name, .entry-title, .post-title, .title, .news-title, .card-title, .article-title`)
	mAnchor   = cascadia.MustCompile("a[href]")
	mImg      = cascadia.MustCompile("img")
	mTimeAttr = cascadia.MustCompile("time[datetime], [itemprop=datePublished], [itemprop=dateCreated], .dt-published")
	mDateish  = cascadia.MustCompile(`time, [class*=date], [class*=Date], [class*=time], [class*=published], [class*=posted], [class*=meta], [class*=byline]`)
	mSummary  = cascadia.MustCompile(`[itemprop=description], .p-summary, [class*=summary], [class*=excerpt], [class*=teaser], [class*=intro], [class*=description], [class*=desc]`)
	mPara     = cascadia.MustCompile("p")
)

// parts are the elements of one item; nil ones are looked for with the defaults.
type parts struct {
	block, title, link, date, summary, image *html.Node
	// dateSet: a date selector was given, so no fallback search for dates.
	dateSet, summarySet, imageSet bool
}

// extractWhere reads the items whose blocks pass keep (all when keep is nil). For a
// detection tier (detected), sel.Summary is what such items usually hold: an item where it
// matches nothing takes the default summary, as when no summary selector is given. A
// Joomla blog marks each item up as a microdata BlogPosting, but its intro text carries no
// itemprop: the General Secretariat's page read by the microdata tier had no summaries.
// It also counts in how many of the items each field selector matched.
func (p *pageDoc) extractWhere(sel Selectors, keep func(*html.Node) bool, detected bool) ([]news.Item, hits) {
	mItem := cascadia.MustCompile(sel.Item)
	compile := func(s string) cascadia.Matcher {
		if s == "" {
			return nil
		}
		return cascadia.MustCompile(s)
	}
	mT, mL, mD, mS, mI := compile(sel.Title), compile(sel.Link), compile(sel.Date), compile(sel.Summary), compile(sel.Image)
	blocks := outermost(cascadia.QueryAll(p.root, mItem))
	var items []news.Item
	var h hits
	read := 0
	for _, b := range blocks {
		if keep != nil && !keep(b) {
			continue
		}
		if read++; read > MaxItems {
			break
		}
		pt := parts{block: b, dateSet: mD != nil, summarySet: mS != nil && !detected, imageSet: mI != nil}
		if mT != nil {
			pt.title = cascadia.Query(b, mT)
		}
		if mL != nil {
			pt.link = cascadia.Query(b, mL)
		}
		if mD != nil {
			pt.date = cascadia.Query(b, mD)
		}
		if mS != nil {
			pt.summary = cascadia.Query(b, mS)
		}
		if mI != nil {
			pt.image = cascadia.Query(b, mI)
		}
		if it, ok := p.item(pt); ok {
			items = append(items, it)
			h.items++
			for _, c := range []struct {
				n   *html.Node
				hit *int
			}{{pt.title, &h.title}, {pt.link, &h.link}, {pt.date, &h.date}, {pt.summary, &h.summary}, {pt.image, &h.image}} {
				if c.n != nil {
					*c.hit++
				}
			}
			if pt.date != nil && it.Precision != news.PrecisionNone {
				h.dated++
			}
		}
	}
	return items, h
}

// outermost drops the nodes nested inside another node of the list, keeping document order.
func outermost(nodes []*html.Node) []*html.Node {
	in := make(map[*html.Node]bool, len(nodes))
	for _, n := range nodes {
		in[n] = true
	}
	out := nodes[:0:0]
	for _, n := range nodes {
		nested := false
		for a := n.Parent; a != nil; a = a.Parent {
			if in[a] {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, n)
		}
	}
	return out
}

// item builds a news item from its parts; ok is false when it has neither title nor link.
func (p *pageDoc) item(pt parts) (news.Item, bool) {
	b := pt.block
	if pt.title == nil {
		pt.title = defaultTitle(b)
	}
	var it news.Item
	if pt.title != nil {
		it.Title = CleanText(text(pt.title, nil))
		if it.Title == "" {
			// The title selector matched a read-more link ("Lire la suite"), which text
			// leaves out; the item may still have a heading.
			if t := defaultTitle(b); t != nil && t != pt.title {
				pt.title = t
				it.Title = CleanText(text(t, nil))
			}
		}
	}
	if pt.link == nil {
		pt.link = defaultLink(b, pt.title)
	}
	if pt.link != nil {
		it.Link = p.linkOf(pt.link)
	}
	if it.Title == "" && pt.link != nil {
		it.Title = CleanText(text(pt.link, nil))
	}
	if it.Title == "" && it.Link == "" {
		return it, false
	}
	it.Title = truncate(it.Title, summaryLen)

	var dateNode *html.Node
	it.Published, it.Precision, dateNode = p.dateOf(pt)
	if it.Precision == news.PrecisionDay && dateNode != nil && !rxYear.MatchString(text(dateNode, nil)+" "+attr(dateNode, "datetime")+" "+attr(dateNode, "content")) {
		it.Published = p.linkYear(it.Link, it.Published)
	}
	if pt.date == nil {
		pt.date = dateNode // left out of the summary ("5 juin 2018" was an item's summary)
	}
	if it.Precision == news.PrecisionNone {
		it.Published = time.Time{}
	}
	if it.Title == "" {
		// Its only title was a read-more phrase ("Click here for more", "Weiterlesen"),
		// which is no title: the item's first words are, as for a feed item without one
		// (clean.Item). It came out untitled when its text was too short for a summary.
		skip := map[*html.Node]bool{}
		if pt.date != nil {
			skip[pt.date] = true
		}
		it.Title = truncate(CleanText(text(b, skip)), untitledLen)
	}
	it.Summary = p.summaryOf(pt)
	if pt.image == nil && !pt.imageSet {
		pt.image = cascadia.Query(b, mImg)
	}
	if pt.image != nil {
		it.Image = p.imageOf(pt.image)
	}
	it.Language = p.languageOf(b, it.Title+". "+it.Summary)
	return it, true
}

func defaultTitle(b *html.Node) *html.Node {
	if h := cascadia.Query(b, mHeading); h != nil && collapse(text(h, nil)) != "" {
		return h
	}
	if t := cascadia.Query(b, mTitleish); t != nil && collapse(text(t, nil)) != "" {
		return t
	}
	for _, a := range cascadia.QueryAll(b, mAnchor) {
		if t := collapse(text(a, nil)); t != "" && !isReadMore(t) {
			return a
		}
	}
	return nil
}

// defaultLink is the anchor of the title (itself, around it, or inside it), else the item's first link.
func defaultLink(b, title *html.Node) *html.Node {
	if title != nil {
		for a := title; a != nil && a != b.Parent; a = a.Parent {
			if a.Type == html.ElementNode && a.Data == "a" && usableHref(attr(a, "href")) {
				return a
			}
		}
		for _, a := range cascadia.QueryAll(title, mAnchor) {
			if usableHref(attr(a, "href")) {
				return a
			}
		}
	}
	for _, a := range cascadia.QueryAll(b, mAnchor) {
		if usableHref(attr(a, "href")) {
			return a
		}
	}
	return nil
}

func usableHref(h string) bool {
	h = strings.TrimSpace(h)
	if h == "" || strings.HasPrefix(h, "#") {
		return false
	}
	l := strings.ToLower(h)
	return !strings.HasPrefix(l, "javascript:") && !strings.HasPrefix(l, "mailto:") && !strings.HasPrefix(l, "tel:")
}

// linkOf is the absolute URL of a link element: its href (or content, for microdata <meta>), or the
// href of the first link inside it.
func (p *pageDoc) linkOf(n *html.Node) string {
	for _, k := range []string{"href", "content", "data-href"} {
		if v := attr(n, k); usableHref(v) {
			return p.resolve(v)
		}
	}
	for _, a := range cascadia.QueryAll(n, mAnchor) {
		if usableHref(attr(a, "href")) {
			return p.resolve(attr(a, "href"))
		}
	}
	return ""
}

func (p *pageDoc) resolve(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := p.base.Parse(ref)
	if err != nil {
		return ""
	}
	return u.String()
}

// dateOf reads the item's date: the date element's datetime/content attribute or text; without a date
// selector, a <time> or microdata date, then date-like labels, then date-like text in the item. It
// also returns the date element or label the date was read from (nil for a date in running text).
func (p *pageDoc) dateOf(pt parts) (time.Time, news.Precision, *html.Node) {
	if p.dates == nil {
		p.dates = newDateParser(p.o)
	}
	try := func(n *html.Node) (time.Time, news.Precision, bool) {
		for _, k := range []string{"datetime", "content", "data-date", "title"} {
			if v := attr(n, k); v != "" {
				if t, pr, ok := p.dates.parse(v); ok {
					return t, pr, true
				}
			}
		}
		return p.dates.parse(text(n, nil))
	}
	if pt.dateSet {
		if pt.date != nil {
			if t, pr, ok := try(pt.date); ok {
				return t, pr, pt.date
			}
		}
		return time.Time{}, news.PrecisionNone, nil
	}
	if ns := publishedFirst(cascadia.QueryAll(pt.block, mTimeAttr)); len(ns) > 0 {
		if t, pr, ok := try(ns[0]); ok {
			return t, pr, ns[0]
		}
	}
	for i, n := range publishedFirst(cascadia.QueryAll(pt.block, mDateish)) {
		if i >= 4 {
			break
		}
		if isInside(n, pt.title) || len(text(n, nil)) > 120 {
			continue
		}
		if t, pr, ok := try(n); ok {
			return t, pr, n
		}
	}
	// A <dd> item's date is in the <dt> before it.
	if b := pt.block; b.Data == "dd" {
		for s := b.PrevSibling; s != nil; s = s.PrevSibling {
			if s.Type == html.ElementNode {
				if s.Data == "dt" {
					if t, pr, ok := try(s); ok {
						return t, pr, nil // outside the item
					}
				}
				break
			}
		}
	}
	// Date-like text at the start of the item's paragraphs ("May 2017: ISS ...", "Posted on ...").
	// An element that holds nothing but the date is its label ("<em>5 juin 2018</em>").
	for i, l := range leadTexts(pt.block, pt.title, 4) {
		if i >= 4 {
			break
		}
		if t, pr, ok := p.dates.parse(l.text); ok {
			if l.whole && utf8.RuneCountInString(l.text) <= 40 {
				return t, pr, l.node
			}
			return t, pr, nil
		}
	}
	// A date leading the title, set off by a colon or a dash ("April 2017: ISS network
	// submits its first activity report", on the General Secretariat's page): the item had
	// no date, and an item new at a later poll took that poll's time.
	// The lead must hold a year, and the date be of that year: a lead such as "1 in 4
	// children" or "3 weeks in Geneva" reads as a day of the poll's year, or one relative
	// to the poll, which a later poll moves.
	if pt.title != nil {
		if m := rxTitleDate.FindStringSubmatch(text(pt.title, nil)); m != nil && rxYear.MatchString(m[1]) {
			if t, pr, ok := p.dates.parse(m[1]); ok && yearWritten(m[1], t, p.dates.loc) {
				return t, pr, nil
			}
		}
	}
	return time.Time{}, news.PrecisionNone, nil
}

// rxLinkMonth is the year and month of a dated permalink ("/2018/05/12/slug",
// "/2018/05/slug"), as WordPress writes them.
var rxLinkMonth = regexp.MustCompile(`/((?:19|20)\d\d)/(0[1-9]|1[0-2])/`)

// linkYear gives t, a day read from a date label without its year ("12 May", "05.03."),
// the year of the item's link when the link is dated in the same month: the label is read
// as the latest such day not after the poll, right for this year's news but a year or
// more too late on an archive page ("/2018/05/12/…" with "12 May" was 12 May of the
// year before the poll). Without such a link the latest such day stays.
func (p *pageDoc) linkYear(link string, t time.Time) time.Time {
	m := rxLinkMonth.FindStringSubmatch(link)
	if m == nil {
		return t
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if time.Month(mo) != t.Month() || y == t.Year() {
		return t
	}
	d := time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	if d.Month() != t.Month() || d.After(p.o.now()) {
		return t // 29 February of a year without it, or a link dated later than the poll
	}
	return d
}

// publishedFirst puts the date elements that mark an update date only (itemprop
// dateModified, class "updated" or "modified" without "published") after the others.
// WordPress themes such as GeneratePress and Astra write a modified post's update time
// before its publication time ('<time class="updated">' then '<time class="entry-date
// published">', the first hidden by the theme's style): the item took its update date,
// which moved it at each update.
func publishedFirst(ns []*html.Node) []*html.Node {
	if len(ns) < 2 {
		return ns
	}
	var pub, upd []*html.Node
	for _, n := range ns {
		if updateOnly(n) {
			upd = append(upd, n)
		} else {
			pub = append(pub, n)
		}
	}
	return append(pub, upd...)
}

// updateOnly reports whether n is marked as a date of update and not of publication.
func updateOnly(n *html.Node) bool {
	prop := strings.ToLower(attr(n, "itemprop"))
	if strings.Contains(prop, "published") || strings.Contains(prop, "created") {
		return false
	}
	if prop == "datemodified" {
		return true
	}
	class := strings.ToLower(attr(n, "class"))
	return !strings.Contains(class, "published") && (strings.Contains(class, "updated") || strings.Contains(class, "modified"))
}

// yearWritten tells whether t's year, in loc (a day's midnight in the member's zone) or
// in UTC (a month's first), is written in s, or s gives its year as a Chinese or
// Japanese one ("令和6年").
func yearWritten(s string, t time.Time, loc *time.Location) bool {
	if strings.Contains(s, "年") {
		return true
	}
	for _, l := range []*time.Location{loc, time.UTC} {
		if l != nil && strings.Contains(s, strconv.Itoa(t.In(l).Year())) {
			return true
		}
	}
	return false
}

// untitledLen is the length, in runes, of the title taken from an untitled item's first
// words (clean.UntitledLength, for feed items).
const untitledLen = 100

// rxTitleDate is a short lead of a title holding a digit and ending in a colon or a dash
// ("April 2017: …", "12.03.2024 – …"): a date there dates the item. "Geneva: …" has no digit,
// "Annual report 2023" no colon.
var rxTitleDate = regexp.MustCompile(`^\s*([^:–—]{0,30}\d[^:–—]{0,30}?)\s*(?::|\s[–—-])\s+\S`)

// leadRunes is how far into a paragraph a date is looked for: dates further in are about something else.
const leadRunes = 200

// leadText is the opening words of one of an item's text blocks: whole when they are all of it.
type leadText struct {
	node  *html.Node
	text  string
	whole bool
}

// leadTexts returns the opening words (up to leadRunes) of the item's text blocks that hold digits,
// title excluded.
func leadTexts(b, title *html.Node, max int) []leadText {
	var out []leadText
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if len(out) >= max || n == title || n.Type == html.ElementNode && skipText[n.Data] {
			return
		}
		if n.Type == html.ElementNode && (blockElems[n.Data] || n.Data == "span" || n.Data == "strong" || n.Data == "em") && !hasBlockChild(n) {
			s := CleanText(text(n, nil))
			if strings.ContainsAny(s, "0123456789") {
				r := []rune(s)
				whole := len(r) <= leadRunes
				if !whole {
					r = r[:leadRunes]
				}
				out = append(out, leadText{n, string(r), whole})
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(b)
	return out
}

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && blockElems[c.Data] && c.Data != "br" {
			return true
		}
	}
	return false
}

// summaryOf is the summary element's text, or else the item's teaser, first real paragraph, or text
// without its title; cleaned and cut at a word boundary.
func (p *pageDoc) summaryOf(pt parts) string {
	skip := map[*html.Node]bool{}
	if pt.title != nil {
		skip[pt.title] = true
	}
	if pt.date != nil {
		skip[pt.date] = true
	}
	var s string
	switch {
	case pt.summary != nil:
		s = CleanText(text(pt.summary, skip))
	case pt.summarySet:
		return ""
	default:
		if n := cascadia.Query(pt.block, mSummary); n != nil && !isInside(pt.title, n) {
			s = CleanText(text(n, skip))
		}
		if len(s) < 20 {
			for _, para := range cascadia.QueryAll(pt.block, mPara) {
				if isInside(para, pt.title) || isInside(pt.title, para) {
					continue
				}
				if t := CleanText(text(para, skip)); len([]rune(t)) >= 40 || (len([]rune(t)) >= 12 && hasCJK(t)) {
					s = t
					break
				}
			}
		}
		if s == "" {
			for _, n := range cascadia.QueryAll(pt.block, mTimeAttr) {
				skip[n] = true
			}
			// What is left of the block, when it has some words: a Joomla list's row
			// has, beside its title and date, only its hits ("Visitas: 100").
			if t := CleanText(text(pt.block, skip)); letters(t) >= 20 || hasCJK(t) && letters(t) >= 6 {
				s = t
			}
		}
	}
	return truncate(s, summaryLen)
}

// letters counts the letters of s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x3040 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// imageOf is the absolute image URL: src (unless a data: placeholder), else the first srcset URL, else data-src.
func (p *pageDoc) imageOf(n *html.Node) string {
	if n.Data != "img" {
		if img := cascadia.Query(n, mImg); img != nil {
			n = img
		} else if v := attr(n, "content"); v != "" { // microdata <meta itemprop=image content=...>
			return p.resolve(v)
		}
	}
	if v := strings.TrimSpace(attr(n, "src")); v != "" && !strings.HasPrefix(v, "data:") {
		return p.resolve(v)
	}
	for _, k := range []string{"srcset", "data-srcset"} {
		if v := strings.TrimSpace(attr(n, k)); v != "" {
			first, _, _ := strings.Cut(v, ",")
			if f := strings.Fields(first); len(f) > 0 {
				return p.resolve(f[0])
			}
		}
	}
	for _, k := range []string{"data-src", "data-lazy-src", "data-original"} {
		if v := strings.TrimSpace(attr(n, k)); v != "" {
			return p.resolve(v)
		}
	}
	return ""
}

// languageOf is the nearest lang attribute, else <html lang>, else the language detected from the
// item's text, else the member's first language.
func (p *pageDoc) languageOf(b *html.Node, sample string) string {
	for n := b; n != nil; n = n.Parent {
		if n.Type == html.ElementNode && n.Data != "html" {
			if l := normLang(attr(n, "lang")); l != "" {
				return l
			}
		}
	}
	if p.lang != "" {
		return p.lang
	}
	if l := detectLanguage(sample, p.o.Languages); l != "" {
		return l
	}
	if len(p.o.Languages) > 0 {
		return normLang(p.o.Languages[0])
	}
	return ""
}

// text is the text content of n without scripts, styles, the skipped nodes, and read-more links.
func text(n *html.Node, skip map[*html.Node]bool) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.CommentNode:
			return
		case html.ElementNode:
			if skipText[n.Data] || skip[n] || cloakedMail(n) {
				return
			}
			if n.Data == "a" && readMoreLink(n) {
				return
			}
			if n.Data == "img" {
				return
			}
		}
		block := n.Type == html.ElementNode && blockElems[n.Data]
		if block {
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if block {
			b.WriteByte(' ')
		}
	}
	walk(n)
	return b.String()
}

// readMoreLink reports whether a link's text only says "read more". No such text is long, so
// the text is read up to readMoreMax bytes only: read whole at each of nested links (MathML lets
// <a> nest, up to the parser's 512 levels), a 1 MB page took minutes of CPU in Detect.
//
// The text a theme adds for screen readers is left out, and a read-more phrase followed by
// a colon makes the whole link one: WordPress's "Continue reading<span
// class="screen-reader-text"> "Title"</span>" and Joomla's "Read more: Title" (its default,
// in the site's language) were left at the end of summaries.
func readMoreLink(n *html.Node) bool {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if screenReaderOnly(c) {
			continue
		}
		if !nodeText(&b, c, readMoreMax) {
			return false
		}
	}
	return isReadMore(b.String()) || rxReadMoreLabel.MatchString(b.String())
}

// screenReaderOnly reports whether n is hidden from sight for screen readers by the usual
// CMS classes (WordPress, Bootstrap, Drupal).
func screenReaderOnly(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, c := range strings.Fields(attr(n, "class")) {
		switch c {
		case "screen-reader-text", "sr-only", "visually-hidden", "element-invisible", "visuallyhidden", "screen-reader-only":
			return true
		}
	}
	return false
}

const readMoreMax = 256

// plainText is all text under n, nothing skipped.
func plainText(n *html.Node) string {
	var b strings.Builder
	nodeText(&b, n, math.MaxInt)
	return b.String()
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// isInside reports whether n is inside (or is) anc.
func isInside(n, anc *html.Node) bool {
	if n == nil || anc == nil {
		return false
	}
	for ; n != nil; n = n.Parent {
		if n == anc {
			return true
		}
	}
	return false
}
