package page

import (
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// inferSelectors writes selectors that pick the group's blocks, titles and links, so that an operator can
// pin a detected list in feeds.yaml. Each candidate selector is checked against the page.
func (p *pageDoc) inferSelectors(g *group) Selectors {
	var s Selectors
	s.Item = p.itemSelector(g.blocks)
	if s.Item == "" {
		return s
	}
	titles := make([]*html.Node, len(g.blocks))
	links := make([]*html.Node, len(g.blocks))
	for i, c := range g.cands {
		titles[i], links[i] = c.title, c.link
	}
	s.Title = relativeSelector(g.blocks, titles, nil)
	s.Link = linkSelector(g.blocks, titles, links, s.Title)
	if times := publishedTimes(g.blocks); allFound(times) {
		s.Date = relativeSelector(g.blocks, times, nil)
	}
	return s
}

// publishedTimes is each block's date element (mTimeAttr) that dateOf reads: the first,
// those marked as an update date only put last (publishedFirst). On a WordPress theme
// that writes '<time class="updated">' before '<time class="entry-date published">' the
// selector was "time", the update time, and the pinned list moved at each edit of a post.
func publishedTimes(blocks []*html.Node) []*html.Node {
	out := make([]*html.Node, len(blocks))
	for i, b := range blocks {
		if ns := publishedFirst(cascadia.QueryAll(b, mTimeAttr)); len(ns) > 0 {
			out[i] = ns[0]
		}
	}
	return out
}

// itemSelector builds "tag.class" selectors for the blocks (one per kind of block, joined by commas),
// alone or scoped by the blocks' parent or nearest named ancestor, and keeps the one that matches the
// blocks and the fewest other elements.
func (p *pageDoc) itemSelector(blocks []*html.Node) string {
	want := map[*html.Node]bool{}
	for _, b := range blocks {
		want[b] = true
	}
	type kind struct {
		key     string
		tag     string
		classes []string
		parents map[*html.Node]bool
	}
	keyOf := func(b *html.Node) string { return b.Data + "." + strings.Join(stableClasses(b), ".") }
	distinct := map[string]bool{}
	for _, b := range blocks {
		distinct[keyOf(b)] = true
	}
	if len(distinct) > 3 {
		keyOf = func(b *html.Node) string { return b.Data }
	}
	var kinds []*kind
	for _, b := range blocks {
		key := keyOf(b)
		var k *kind
		for _, e := range kinds {
			if e.key == key {
				k = e
			}
		}
		if k == nil {
			k = &kind{key: key, tag: b.Data, classes: selectorClasses(b), parents: map[*html.Node]bool{}}
			kinds = append(kinds, k)
		} else {
			k.classes = intersect(k.classes, selectorClasses(b))
		}
		k.parents[b.Parent] = true
	}
	anc := ""
	if lca := commonAncestor(blocks); lca != nil {
		for a, i := lca, 0; a != nil && a.Type == html.ElementNode && i < 5; a, i = a.Parent, i+1 {
			if a.Data != "body" && a.Data != "html" && (attr(a, "id") != "" || len(stableClasses(a)) > 0) {
				anc = nodeSelector(a)
				break
			}
		}
	}
	var plain, byParent, byAncestor []string
	for _, k := range kinds {
		simple := k.tag
		for i, c := range k.classes {
			if i == 2 {
				break
			}
			simple += "." + cssIdent(c)
		}
		plain = append(plain, simple)
		q := simple
		if len(k.parents) == 1 {
			for par := range k.parents {
				if ps := nodeSelector(par); ps != "" {
					q = ps + " > " + simple
				}
			}
		}
		byParent = append(byParent, q)
		if anc != "" {
			byAncestor = append(byAncestor, anc+" "+simple)
		}
	}
	type scored struct {
		sel               string
		recall, precision float64
	}
	var best *scored
	for _, list := range [][]string{plain, byParent, byAncestor} {
		if len(list) == 0 {
			continue
		}
		cand := strings.Join(list, ", ")
		m, err := cascadia.Compile(cand)
		if err != nil {
			continue
		}
		got := outermost(cascadia.QueryAll(p.root, m))
		if len(got) == 0 {
			continue
		}
		hit := 0
		for _, n := range got {
			if want[n] {
				hit++
			}
		}
		sc := &scored{cand, float64(hit) / float64(len(blocks)), float64(hit) / float64(len(got))}
		if best == nil || sc.recall >= 0.9 && best.recall < 0.9 ||
			(sc.recall >= 0.9) == (best.recall >= 0.9) && sc.precision > best.precision+1e-9 {
			best = sc
		}
	}
	if best == nil {
		return ""
	}
	return best.sel
}

// selectorClasses are the class names usable in a selector: per-item ones drop out when the classes of
// all blocks are intersected, so only state classes are left out here.
func selectorClasses(n *html.Node) []string {
	var out []string
	for _, cl := range strings.Fields(attr(n, "class")) {
		if !unstableTokens[strings.ToLower(cl)] && !strings.ContainsAny(cl, ":/[]()@!%") {
			out = append(out, cl)
		}
	}
	return out
}

// commonAncestor is the deepest element holding all nodes.
func commonAncestor(nodes []*html.Node) *html.Node {
	if len(nodes) == 0 {
		return nil
	}
	anc := map[*html.Node]bool{}
	for a := nodes[0].Parent; a != nil; a = a.Parent {
		anc[a] = true
	}
	lca := nodes[0].Parent
	for _, n := range nodes[1:] {
		a := n.Parent
		for a != nil && !anc[a] {
			a = a.Parent
		}
		if a == nil {
			return nil
		}
		// keep the highest of the meeting points
		if isInside(lca, a) {
			lca = a
		}
	}
	return lca
}

// nodeSelector names one element: tag#id, else tag.class.class.
func nodeSelector(n *html.Node) string {
	if n == nil || n.Type != html.ElementNode {
		return ""
	}
	if id := attr(n, "id"); id != "" && !strings.ContainsAny(id, "0123456789") {
		return n.Data + "#" + cssIdent(id)
	}
	s := n.Data
	for i, c := range stableClasses(n) {
		if i == 2 {
			break
		}
		s += "." + cssIdent(c)
	}
	return s
}

// relativeSelector finds a selector that, inside each block, first matches that block's target node.
// It returns "" when fallback(block) already finds the targets, or when nothing simple works.
func relativeSelector(blocks, targets []*html.Node, fallback func(*html.Node) *html.Node) string {
	if fallback != nil && matchesAll(blocks, targets, fallback) {
		return ""
	}
	t := targets[0]
	simple := t.Data
	for i, c := range commonClasses(targets) {
		if i == 2 {
			break
		}
		simple += "." + cssIdent(c)
	}
	cands := []string{t.Data, simple}
	if par := t.Parent; par != nil && par.Type == html.ElementNode {
		cands = append(cands, nodeSelector(par)+" > "+simple)
	}
	for _, c := range cands {
		m, err := cascadia.Compile(c)
		if err != nil {
			continue
		}
		if matchesAll(blocks, targets, func(b *html.Node) *html.Node { return firstMatch(b, m) }) {
			return c
		}
	}
	return ""
}

// linkSelector picks the title's link: inside the title, the title itself, or an <a> around it.
func linkSelector(blocks, titles, links []*html.Node, titleSel string) string {
	if titleSel != "" {
		for _, c := range []string{titleSel + " a", titleSel} {
			if m, err := cascadia.Compile(c); err == nil && matchesAll(blocks, links, func(b *html.Node) *html.Node { return firstMatch(b, m) }) {
				return c
			}
		}
	}
	if s := relativeSelector(blocks, links, nil); s != "" {
		return s
	}
	if matchesAll(blocks, links, func(b *html.Node) *html.Node { return defaultLink(b, defaultTitleBy(b, titleSel)) }) {
		return ""
	}
	return ""
}

func defaultTitleBy(b *html.Node, sel string) *html.Node {
	if sel == "" {
		return defaultTitle(b)
	}
	m, err := cascadia.Compile(sel)
	if err != nil {
		return nil
	}
	return cascadia.Query(b, m)
}

// firstMatch is the first node matching m in b, b included (an item may itself be its link).
func firstMatch(b *html.Node, m cascadia.Matcher) *html.Node {
	if m.Match(b) {
		return b
	}
	return cascadia.Query(b, m)
}

// matchesAll reports whether find gives the target in at least 90% of the blocks.
func matchesAll(blocks, targets []*html.Node, find func(*html.Node) *html.Node) bool {
	ok := 0
	for i, b := range blocks {
		if find(b) == targets[i] {
			ok++
		}
	}
	return ok*10 >= len(blocks)*9
}

func allFound(nodes []*html.Node) bool {
	for _, n := range nodes {
		if n == nil {
			return false
		}
	}
	return len(nodes) > 0
}

func commonClasses(nodes []*html.Node) []string {
	var out []string
	for i, n := range nodes {
		if i == 0 {
			out = stableClasses(n)
			continue
		}
		out = intersect(out, stableClasses(n))
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// cssIdent escapes the characters of a class or id that CSS identifiers do not allow.
func cssIdent(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '-' || r == '_' || r >= 0x80 || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('\\')
			b.WriteRune(r)
		}
	}
	return b.String()
}
