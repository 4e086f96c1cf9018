package clean

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTML sanitises s with the Cleaner's policy, then makes every link and image URL
// absolute against base (a nil base leaves relative URLs unresolvable, so they are
// dropped). Links get rel="nofollow noopener"; links whose URL is not http, https or
// mailto lose their href; images whose src is not http or https are dropped (data:
// images included). Scripts, styles, frames, objects, forms and event handlers never
// survive.
func (c *Cleaner) HTML(s string, base *url.URL) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	safe := c.policy.Sanitize(s)
	return strings.TrimSpace(absolutise(safe, base))
}

// absolutise parses already-sanitised HTML as a fragment of a <div>, rewrites the
// URL attributes of links, images and quotes, and renders it again, which also closes
// every element the source left open (so content can never break the page it is
// shown in).
func absolutise(s string, base *url.URL) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return "" // nesting too deep for x/net/html (over 512 elements): fail closed, the item keeps its summary
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	for _, n := range nodes {
		rewrite(n, base)
		if n.Type == html.ElementNode && n.DataAtom == atom.Img && !hasAttr(n.Attr, "src") {
			continue
		}
		if err := html.Render(&b, n); err != nil {
			return ""
		}
	}
	return b.String()
}

// rewrite resolves URL attributes in the tree under n, removing images left without
// a usable src.
func rewrite(n *html.Node, base *url.URL) {
	if n.Type == html.ElementNode {
		rewriteAttrs(n, base)
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		rewrite(c, base)
		if c.Type == html.ElementNode && c.DataAtom == atom.Img && !hasAttr(c.Attr, "src") {
			n.RemoveChild(c)
		}
		c = next
	}
}

// rewriteAttrs resolves the URL attributes of one element: href of links (which then
// get rel="nofollow noopener"), src of images, cite of quotes. Unusable URLs are dropped.
func rewriteAttrs(n *html.Node, base *url.URL) {
	switch n.DataAtom {
	case atom.A, atom.Img, atom.Blockquote, atom.Q, atom.Del, atom.Ins:
	default:
		return
	}
	attrs := n.Attr[:0]
	hasHref := false
	for _, at := range n.Attr {
		switch {
		case at.Key == "rel" || at.Key == "target":
			continue // set below
		case at.Key == "href" && n.DataAtom == atom.A:
			if at.Val = linkURL(base, at.Val); at.Val == "" {
				continue
			}
			hasHref = true
		case at.Key == "src" && n.DataAtom == atom.Img:
			if at.Val = AbsURL(base, at.Val); at.Val == "" {
				continue
			}
		case at.Key == "cite":
			if at.Val = AbsURL(base, at.Val); at.Val == "" {
				continue
			}
		}
		attrs = append(attrs, at)
	}
	if hasHref {
		attrs = append(attrs, html.Attribute{Key: "rel", Val: "nofollow noopener"})
	}
	n.Attr = attrs
}

func hasAttr(attrs []html.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// linkURL is AbsURL that also keeps mailto: links.
func linkURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if len(ref) > 7 && strings.EqualFold(ref[:7], "mailto:") {
		u, err := url.Parse(ref)
		if err != nil || u.Opaque == "" {
			return ""
		}
		return "mailto:" + u.Opaque
	}
	return AbsURL(base, ref)
}

// AbsURL resolves ref against base and returns it when the result is an http or https
// URL with a host, at most MaxURL bytes long, else "". A nil base accepts only absolute
// refs.
func AbsURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > MaxURL {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if s := u.String(); len(s) <= MaxURL {
		return s
	}
	return ""
}

// Title returns s as plain text on one line: tags stripped, entities unescaped
// (twice-escaped ones too, as some feeds send them), white space collapsed, at most
// MaxTitle runes, cut at a word boundary with "…".
func Title(s string) string {
	if s == "" {
		return ""
	}
	t := s
	if strings.ContainsAny(s, "<&") { // else the tokenizer would give s back (line breaks aside)
		t = plain(s, false)
		if strings.Contains(t, "&") {
			t = unescapeEntities(t)
		}
	}
	return truncate(collapse(t, ' '), MaxTitle)
}

// rxEntity matches what may be a character reference written out whole, semicolon included.
var rxEntity = regexp.MustCompile(`&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});`)

// unescapeEntities unescapes the character references left in text taken out of HTML, those
// of a feed that escaped its HTML twice ("&amp;nbsp;" gives "&nbsp;"): only whole ones
// ("&nbsp;", "&#8217;"). What is left is the text's own: "&region=africa" in a URL escaped
// once, which html.UnescapeString, reading legacy references without their semicolon, made
// "®ion=africa".
func unescapeEntities(text string) string {
	return rxEntity.ReplaceAllStringFunc(text, func(ref string) string {
		if u := html.UnescapeString(ref); u != ref && utf8.RuneCountInString(u) <= 2 {
			return u // a reference is one character, or two ("&NotEqualTilde;")
		}
		return ref // "&region;": a legacy "&reg" and text
	})
}

// Text returns the plain text of an HTML fragment: block elements end lines, table
// cells are separated by spaces, scripts and styles are dropped, runs of white space
// within a line become one space and empty lines are removed.
func Text(s string) string {
	if s == "" {
		return ""
	}
	if !strings.ContainsAny(s, "<&") {
		return collapse(s, ' ') // no markup: the tokenizer would give s back, one line
	}
	return plain(s, true)
}

// Summary returns the plain text of s (HTML) on one line, cut to at most max runes at
// a word boundary (at a rune boundary in CJK text) with "…" appended when cut.
func Summary(s string, max int) string {
	return summarise(Text(s), max)
}

// summarise is Summary of text Text already returned (cut first: truncate sees a line break as
// the space it becomes).
func summarise(text string, max int) string {
	return strings.ReplaceAll(truncate(text, max), "\n", " ")
}

// collapse returns s with each line's runs of white space (unicode.IsSpace, as strings.Fields)
// turned into one space, lines trimmed and empty lines dropped, the lines left joined by nl. With
// nl ' ' every line break is white space: collapse(s, ' ') is strings.Join(strings.Fields(s), " ").
// It is one pass, and returns s itself when s is already collapsed.
func collapse(s string, nl byte) string {
	if collapsed(s, nl) {
		return s
	}
	l := lines{b: make([]byte, 0, len(s))}
	for nl == '\n' {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		l.text([]byte(s[:i]))
		l.lineBreak()
		s = s[i+1:]
	}
	l.text([]byte(s))
	return string(l.b)
}

// lines accumulates collapsed text: text appends, its runs of white space (line breaks included)
// becoming one space between words; lineBreak ends the line. Empty lines are never written.
type lines struct {
	b                   []byte
	line, space, broken bool // content on this line; a space, a line break pending
}

func (l *lines) text(t []byte) {
	for i := 0; i < len(t); {
		c, w, isSpace := t[i], 1, false
		if c < utf8.RuneSelf {
			isSpace = asciiSpace[c]
		} else {
			var r rune
			r, w = utf8.DecodeRune(t[i:])
			isSpace = unicode.IsSpace(r)
		}
		if isSpace {
			l.space = l.space || l.line
			i += w
			continue
		}
		if l.broken && !l.line {
			l.b = append(l.b, '\n')
		} else if l.space {
			l.b = append(l.b, ' ')
		}
		// Copy the run of ASCII non-space bytes (and this rune) at once.
		j := i + w
		for j < len(t) && t[j] < utf8.RuneSelf && !asciiSpace[t[j]] {
			j++
		}
		l.b = append(l.b, t[i:j]...)
		l.line, l.space, l.broken = true, false, false
		i = j
	}
}

func (l *lines) lineBreak() {
	l.broken = l.broken || l.line
	l.line, l.space = false, false
}

// collapsed reports whether collapse(s, nl) is s: white space is only single spaces (or single
// line breaks when nl is '\n') between other characters.
func collapsed(s string, nl byte) bool {
	prevSpace := true // no leading white space
	for i := 0; i < len(s); {
		c, w, isSpace := s[i], 1, false
		if c < utf8.RuneSelf {
			isSpace = asciiSpace[c]
		} else {
			var r rune
			r, w = utf8.DecodeRuneInString(s[i:])
			isSpace = unicode.IsSpace(r)
		}
		if isSpace {
			if prevSpace || (c != ' ' && (c != '\n' || nl != '\n')) {
				return false
			}
		}
		prevSpace = isSpace
		i += w
	}
	return !prevSpace || s == ""
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// plain extracts text from HTML, collapsed as collapse does. With blocks, block-level elements
// end lines; without, every tag boundary of a line break is a space and the result is one line.
func plain(s string, blocks bool) string {
	var l lines
	l.b = make([]byte, 0, len(s)/2)
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // depth inside elements whose content is never text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return string(l.b)
		case html.TextToken:
			if skip == 0 {
				l.text(z.Text()) // line breaks in the source are white space; only elements end lines
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipped[a] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			switch {
			case (a == atom.Br || a == atom.Hr || block[a]) && blocks:
				l.lineBreak()
			case a == atom.Br || a == atom.Hr || block[a] || a == atom.Td || a == atom.Th || a == atom.Img:
				l.space = l.space || l.line
			}
		}
	}
}

var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Head: true, atom.Iframe: true, atom.Object: true, atom.Svg: true, atom.Math: true,
	atom.Select: true, atom.Textarea: true,
}

var block = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true,
	atom.Tr: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Aside: true, atom.Nav: true, atom.Figure: true, atom.Figcaption: true, atom.Caption: true,
	atom.Address: true, atom.Main: true, atom.Body: true, atom.Html: true,
}

// truncate cuts s to at most max runes. When cut, it ends at the last word boundary
// (or at a rune when the text around the cut is CJK, which has no spaces, or when a
// single word fills most of the room), trailing spaces and separators are trimmed and
// "…" is appended, within max.
func truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	// One forward pass over the first max runes notes what the cut needs, by byte offset.
	cut := max - 1 // room for the ellipsis
	n, end := 0, len(s)
	cutOff, sp, spOff := 0, -1, 0
	var before, at rune // the runes before and at the cut
	for i, c := range s {
		switch {
		case n == max:
			end = i
		case n == cut:
			at, cutOff = c, i
		case n == cut-1:
			before = c
		}
		if n == max {
			break
		}
		if n > 0 && n < cut && unicode.IsSpace(c) {
			sp, spOff = n, i
		}
		n++
	}
	if end == len(s) {
		return s // at most max runes
	}
	if max == 1 {
		return "…"
	}
	if !utf8.ValidString(s[:end]) {
		return truncateRunes(s, max) // invalid bytes become U+FFFD, as converting to runes makes them
	}
	if !(isCJK(at) || isCJK(before)) && !unicode.IsSpace(at) && sp > cut/2 {
		cutOff = spOff // the last word boundary, unless a single word fills most of the room
	}
	out := strings.TrimRightFunc(s[:cutOff], trimmedAtCut)
	return out + "…"
}

// truncateRunes is truncate for s holding invalid UTF-8 before the cut.
func truncateRunes(s string, max int) string {
	r := []rune(s)[:max]
	cut := max - 1
	if !(isCJK(r[cut]) || isCJK(r[cut-1])) && !unicode.IsSpace(r[cut]) {
		sp := -1
		for i := cut - 1; i > 0; i-- {
			if unicode.IsSpace(r[i]) {
				sp = i
				break
			}
		}
		if sp > cut/2 {
			cut = sp
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), trimmedAtCut) + "…"
}

// trimmedAtCut says which runes a cut text may not end with before its "…".
func trimmedAtCut(c rune) bool {
	return unicode.IsSpace(c) || strings.ContainsRune(",;:.-–—(、。", c)
}

// isCJK reports whether r belongs to a script written without spaces between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// rxFileName matches an image's file name, which some sites give as its alt text
// ("IMG_2041.jpg"): no description of it.
var rxFileName = regexp.MustCompile(`(?i)^\S+\.(?:jpe?g|png|gif|webp|avif|heic|svg)$`)

// imageAlt is the alt text of the first image in docs (HTML) that has one describing it, as a
// title (plain text on one line), or "".
func imageAlt(docs ...string) string {
	for _, doc := range docs {
		if !strings.Contains(doc, "alt") {
			continue
		}
		z := html.NewTokenizer(strings.NewReader(doc))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			name, more := z.TagName()
			if atom.Lookup(name) != atom.Img {
				continue
			}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if string(k) != "alt" {
					continue
				}
				// The tokenizer unescaped the value once: it is text, whose "<" is no tag.
				if alt := Title(html.EscapeString(string(v))); alt != "" && !rxFileName.MatchString(alt) {
					return alt
				}
			}
		}
	}
	return ""
}
