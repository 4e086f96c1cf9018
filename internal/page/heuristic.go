package page

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// noiseTags never hold a page's news list.
var noiseTags = map[string]bool{"nav": true, "aside": true, "form": true, "dialog": true, "menu": true}

// noiseTokens in a class or id (split at spaces, - and _) mark navigation, banners and widgets.
var noiseTokens = map[string]bool{
	"nav": true, "navbar": true, "navigation": true, "menu": true, "menubar": true, "breadcrumb": true, "breadcrumbs": true,
	"pagination": true, "pager": true, "pages": false, "sidebar": true, "cookie": true, "cookies": true, "consent": true,
	"gdpr": true, "cookiebanner": true, "cookieconsent": true, "aside": true, "footer": true, "masthead": true, "social": true, "share": true, "sharing": true,
	"offcanvas": true, "modal": true, "popup": true, "skip": true, "topbar": true, "toolbar": true, "sidebar1": true,
	"newsletter": true, "subscribe": true, "related": true, "tags": true, "tagcloud": true,
}

// noiseClasses are whole class or id values meaning the page header.
var noiseClasses = map[string]bool{"header": true, "site-header": true, "main-header": true, "top-header": true, "global-header": true, "page-top": true}

var noiseRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true, "menu": true, "menubar": true,
	"dialog": true, "alertdialog": true, "search": true,
}

// noise reports whether n lies in navigation, a header, footer, sidebar, banner or similar region.
type noiseCache map[*html.Node]bool

func (c noiseCache) in(n *html.Node) bool {
	if n == nil || n.Type == html.DocumentNode {
		return false
	}
	if v, ok := c[n]; ok {
		return v
	}
	v := c.self(n) || c.in(n.Parent)
	c[n] = v
	return v
}

func (c noiseCache) self(n *html.Node) bool {
	if n.Type != html.ElementNode || n.Data == "body" || n.Data == "html" {
		return false
	}
	if noiseTags[n.Data] || noiseRoles[strings.ToLower(attr(n, "role"))] {
		return true
	}
	if (n.Data == "header" || n.Data == "footer") && !hasAncestor(n, "article", "main") {
		return true
	}
	for _, k := range []string{"class", "id"} {
		for _, v := range strings.Fields(strings.ToLower(attr(n, k))) {
			if noiseClasses[strings.ReplaceAll(v, "_", "-")] {
				return true
			}
		}
	}
	if hasClassToken(n, noiseTokens) {
		return true
	}
	return strings.EqualFold(attr(n, "aria-hidden"), "true") || attr(n, "hidden") != ""
}

func hasAncestor(n *html.Node, tags ...string) bool {
	for a := n.Parent; a != nil; a = a.Parent {
		if a.Type == html.ElementNode && (slices.Contains(tags, a.Data) || strings.EqualFold(attr(a, "role"), "main")) {
			return true
		}
	}
	return false
}

// candidate is a title-like element: a heading, or a link with a title's worth of text.
type candidate struct {
	title, link *html.Node
	heading     bool
	sig         string
}

type group struct {
	cands  []candidate
	blocks []*html.Node
	score  float64
}

// heuristic finds the news list as the best-scoring group of title elements that share a local
// structure, each title's block being its largest ancestor holding no other title of the group.
func (p *pageDoc) heuristic(noise noiseCache) (Detection, bool) {
	var cands []candidate
	paraRunes := map[*html.Node]int{} // inlineLink's cache
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if skipText[n.Data] || noise.self(n) {
				return
			}
			switch {
			case n.Data == "h1" || n.Data == "h2" || n.Data == "h3" || n.Data == "h4" || n.Data == "h5" || n.Data == "h6":
				if t := collapse(plainText(n)); titleLike(t, 3) {
					cands = append(cands, candidate{title: n, link: headingLink(n), heading: true})
				}
				return
			case n.Data == "a" && usableHref(attr(n, "href")) && cascadia.Query(n, mHeading) == nil:
				t := collapse(plainText(n))
				if titleLike(t, 12) && !isReadMore(t) && !inlineLink(n, t, paraRunes) {
					cands = append(cands, candidate{title: n, link: n})
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.root)

	groups := map[string]*group{}
	var order []string
	for i := range cands {
		cands[i].sig = signature(cands[i])
		c := cands[i]
		g := groups[c.sig]
		if g == nil {
			g = &group{}
			groups[c.sig] = g
			order = append(order, c.sig)
		}
		g.cands = append(g.cands, c)
	}
	var best *group
	for _, sig := range order {
		g := groups[sig]
		if len(g.cands) < 2 {
			continue
		}
		p.scoreGroup(g)
		if g.score > 0 && (best == nil || g.score > best.score) {
			best = g
		}
	}
	if best == nil {
		return Detection{}, false
	}
	best = p.withLeading(best, cands)
	d := Detection{Tier: TierHeuristic}
	for i, b := range best.blocks[:min(len(best.blocks), MaxItems)] {
		c := best.cands[i]
		pt := parts{block: b, title: c.title, link: c.link}
		if it, ok := p.item(pt); ok && it.Link != "" {
			d.Items = append(d.Items, it)
		}
	}
	if len(d.Items) < 2 {
		return Detection{}, false
	}
	d.Selectors = p.inferSelectors(best)
	return d, true
}

// withLeading adds to the best group the titles of the same list that its parent's class set
// apart. A blog layout gives its first items a wrapper of their own: Joomla's "items-leading"
// holds div.leading-0 before the "items-row"s' div.item, so the newest article's title had a
// signature of its own, a group of one that never scores, and the page's lead story was left
// out (and out of the inferred selectors). A title joins when it matches the group's titles
// in all but its parent's classes and lies inside the element that holds the group's blocks.
func (p *pageDoc) withLeading(best *group, cands []candidate) *group {
	lca := commonAncestor(best.blocks)
	if lca == nil || lca.Type != html.ElementNode || lca.Data == "body" || lca.Data == "html" {
		return best
	}
	loose := looseSignature(best.cands[0].title)
	var merged []candidate
	added := false
	for _, c := range cands { // document order
		switch {
		case c.sig == best.cands[0].sig:
			merged = append(merged, c)
		case isInside(c.title, lca) && looseSignature(c.title) == loose:
			merged = append(merged, c)
			added = true
		}
	}
	if !added {
		return best
	}
	g := &group{cands: merged}
	p.scoreGroup(g)
	if g.score <= 0 || g.score < best.score {
		return best // the titles joined make a worse list: not the same list
	}
	return g
}

// looseSignature is a title's signature without its parent's classes.
func looseSignature(t *html.Node) string {
	var b strings.Builder
	b.WriteString(t.Data)
	for _, cl := range stableClasses(t) {
		b.WriteString("." + cl)
	}
	n := t
	for i := 0; i < 2 && n.Parent != nil && n.Parent.Type == html.ElementNode; i++ {
		n = n.Parent
		b.WriteString("<" + n.Data)
	}
	return b.String()
}

// titleLike: a title has some words: at least minRunes letters (fewer for CJK), and is not a long text.
func titleLike(t string, minRunes int) bool {
	n := utf8.RuneCountInString(t)
	if n > 250 {
		return false
	}
	if hasCJK(t) {
		return n >= 4
	}
	letters := 0
	for _, r := range t {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= minRunes && (minRunes <= 3 || strings.Contains(t, " "))
}

// inlineLink: a link inside running text is no title. paraRunes caches the length of each
// paragraph's text: a paragraph (or table cell) of n links was otherwise read n times, and a
// 740 KB page of links in one <p> took minutes of CPU in Detect.
func inlineLink(a *html.Node, t string, paraRunes map[*html.Node]int) bool {
	for n := a.Parent; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if n.Data == "p" || n.Data == "td" || n.Data == "blockquote" {
			r, ok := paraRunes[n]
			if !ok {
				r = utf8.RuneCountInString(collapse(plainText(n)))
				paraRunes[n] = r
			}
			return r > 2*utf8.RuneCountInString(t)+20
		}
		if blockElems[n.Data] && n.Data != "span" {
			return false
		}
	}
	return false
}

// headingLink is the link of a heading: an <a> around it (up to 3 levels) or the first one inside.
func headingLink(h *html.Node) *html.Node {
	for a, i := h.Parent, 0; a != nil && i < 3; a, i = a.Parent, i+1 {
		if a.Type == html.ElementNode && a.Data == "a" && usableHref(attr(a, "href")) {
			return a
		}
	}
	for _, a := range cascadia.QueryAll(h, mAnchor) {
		if usableHref(attr(a, "href")) {
			return a
		}
	}
	return nil
}

// signature groups titles of one list: the title's tag and stable classes, and its parent and
// grandparent tags.
func signature(c candidate) string {
	var b strings.Builder
	b.WriteString(c.title.Data)
	for _, cl := range stableClasses(c.title) {
		b.WriteString("." + cl)
	}
	n := c.title
	for i := 0; i < 2 && n.Parent != nil && n.Parent.Type == html.ElementNode; i++ {
		n = n.Parent
		b.WriteString("<" + n.Data)
		if i == 0 {
			for _, cl := range stableClasses(n) {
				b.WriteString("." + cl)
			}
		}
	}
	return b.String()
}

// unstableTokens are class names that vary between items of one list.
var unstableTokens = map[string]bool{"first": true, "last": true, "odd": true, "even": true, "active": true, "sticky": true, "featured": true, "current": true, "new": true, "clearfix": true}

// stableClasses are n's class names that items of one list share: no numbers, no per-item categories.
func stableClasses(n *html.Node) []string {
	var out []string
	for _, cl := range strings.Fields(attr(n, "class")) {
		l := strings.ToLower(cl)
		if strings.ContainsAny(cl, "0123456789:/[]()@!%") || unstableTokens[l] {
			continue
		}
		bad := false
		for _, pre := range []string{"category-", "tag-", "post-", "type-", "status-", "format-", "has-", "hentry", "is-", "node-", "views-row-", "cat-", "tx-"} {
			if strings.HasPrefix(l, pre) && l != "post-item" && l != "post-entry" && l != "post-preview" && l != "post-card" {
				bad = true
				break
			}
		}
		if !bad {
			out = append(out, cl)
		}
	}
	sort.Strings(out)
	return out
}

// scoreGroup finds each title's block and rates the group as a news list: many distinct article links,
// with text beside the titles, under headings.
func (p *pageDoc) scoreGroup(g *group) {
	count := map[*html.Node]int{}
	for _, c := range g.cands {
		for a := c.title.Parent; a != nil; a = a.Parent {
			count[a]++
		}
	}
	g.blocks = make([]*html.Node, len(g.cands))
	links := map[string]bool{}
	external, withText, titleRunes, dated := 0, 0, 0, 0
	for i, c := range g.cands {
		b := c.title
		for b.Parent != nil && b.Parent.Type == html.ElementNode && b.Parent.Data != "body" && count[b.Parent] == 1 {
			b = b.Parent
		}
		g.blocks[i] = b
		if looksDated(b) {
			dated++
		}
		link := c.link
		if link == nil {
			link = defaultLink(b, c.title)
		}
		g.cands[i].link = link
		if link == nil {
			continue
		}
		u := p.resolve(attr(link, "href"))
		if u == "" || sameDocument(u, p.pageURL) {
			continue
		}
		links[u] = true
		if pu, err := url.Parse(u); err == nil && p.base != nil && pu.Host != "" && !strings.EqualFold(strings.TrimPrefix(pu.Host, "www."), strings.TrimPrefix(p.base.Host, "www.")) {
			external++
		}
		tl := utf8.RuneCountInString(collapse(plainText(c.title)))
		titleRunes += tl
		if utf8.RuneCountInString(collapse(text(b, nil)))-tl >= 30 {
			withText++
		}
	}
	n := len(links)
	if n < 2 || (!g.cands[0].heading && n < 3) {
		g.score = 0
		return
	}
	s := float64(n) * (1 + 2*float64(withText)/float64(len(g.cands)))
	if g.cands[0].heading {
		s *= 1.5
	}
	if avg := titleRunes / n; avg < 15 && !hasCJK(collapse(plainText(g.cands[0].title))) {
		s *= 0.4
	}
	if dated*2 >= len(g.blocks) {
		s *= 1.5
	}
	if external*2 > n {
		s *= 0.6
	}
	g.score = s
}

// sameDocument reports whether u points at the page itself (a fragment, or the same URL).
func sameDocument(u, page string) bool {
	a, err1 := url.Parse(u)
	b, err2 := url.Parse(page)
	if err1 != nil || err2 != nil {
		return false
	}
	a.Fragment, b.Fragment = "", ""
	return strings.TrimSuffix(a.String(), "/") == strings.TrimSuffix(b.String(), "/")
}

// looksDated is a cheap test for a date in a block: a <time>, a date-classed element, or a year in its text.
func looksDated(b *html.Node) bool {
	if cascadia.Query(b, mTimeAttr) != nil {
		return true
	}
	for _, n := range cascadia.QueryAll(b, mDateish) {
		if strings.ContainsFunc(plainText(n), unicode.IsDigit) {
			return true
		}
	}
	return rxYear.MatchString(plainText(b))
}
