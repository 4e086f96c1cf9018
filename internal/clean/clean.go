// Package clean normalises an item before it is keyed and stored: it sanitises HTML
// content, turns titles and authors into plain text, makes links absolute, writes a
// plain-text summary and settles the item's language.
//
// Everything here is pure string work with no I/O; a Cleaner is safe for concurrent use.
package clean

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"github.com/iss-network/networkfeed/internal/news"
)

// MaxTitle is the longest title, in runes, that Title returns.
const MaxTitle = 300

// UntitledLength is the length, in runes, of the title Item gives an item that has none, from
// the first words of its text.
const UntitledLength = 100

// SummaryLength is the length, in runes, of the summary Item writes.
const SummaryLength = 400

// Bounds on what one item may carry into every feed that shows it: a member's site is
// not trusted to keep its items a sane size (one item with 8 MB of content and 20,000
// categories made the network's combined feed 9.8 MB, and fifty such items would make
// every render of it half a gigabyte).
const (
	// MaxContent is the longest sanitised content, in bytes, that Item keeps; longer
	// content is dropped (the item keeps its summary, made from it, and its link).
	MaxContent = 256 << 10
	// MaxCategories is the number of categories Item keeps (the first ones).
	MaxCategories = 50
	// MaxEnclosures is the number of enclosures Item keeps (the first ones).
	MaxEnclosures = 10
	// MaxURL is the longest URL, in bytes, that AbsURL returns.
	MaxURL = 8 << 10
)

// Cleaner sanitises HTML with a bluemonday policy built once.
type Cleaner struct {
	policy *bluemonday.Policy
}

// New builds a Cleaner. Build one and share it: building the policy is the costly part.
func New() *Cleaner {
	return &Cleaner{policy: newPolicy()}
}

var langAttr = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// newPolicy allows the markup news articles use (text structure, lists, tables,
// figures, links and images) and nothing that runs code, loads frames or styles the
// page. URL attributes must parse and be http, https (or mailto for links) or
// relative; HTML then resolves relative ones against the item's base.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"p", "br", "div", "span", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"b", "strong", "i", "em", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
		"blockquote", "q", "cite", "abbr", "code", "pre", "kbd",
		"ul", "ol", "li", "dl", "dt", "dd",
		"figure", "figcaption",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
	)
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(langAttr).Globally()
	p.AllowAttrs("title").OnElements("a", "abbr", "img")
	p.AllowAttrs("datetime").Matching(bluemonday.ISO8601).OnElements("time", "del", "ins")
	p.AllowElements("time")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")

	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("cite").OnElements("blockquote", "q")
	p.AllowAttrs("src").OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("img")

	p.AddSpaceWhenStrippingTag(true)
	return p
}

// Item cleans it in place: Title and Author become plain text (an item without a title takes
// the first line of its text, at most UntitledLength runes, else its first image's alt text), Link and Image absolute
// (resolved against base, or dropped when not http/https or longer than MaxURL),
// Content sanitised HTML with absolute links (dropped when longer than MaxContent),
// Summary a plain-text summary of about SummaryLength runes (from Summary, else
// Content), Language settled by Language, Categories trimmed, made plain and
// de-duplicated (case-insensitively, first spelling kept), at most MaxCategories.
//
// Content is resolved against base when given, else against the item's own link.
func (c *Cleaner) Item(it *news.Item, base *url.URL, fallbackLang string) {
	it.Title = Title(it.Title)
	it.Author = Title(it.Author)
	it.Link = AbsURL(base, it.Link)
	contentBase := base
	if contentBase == nil && it.Link != "" {
		contentBase, _ = url.Parse(it.Link)
	}
	it.Image = AbsURL(contentBase, it.Image)
	it.Enclosures = enclosures(it.Enclosures, contentBase)
	it.Content = c.HTML(it.Content, contentBase)

	// Each HTML-to-text conversion is done once: the summary's source and the body the language
	// is detected from share them, and the body is only made when the item has no language tag.
	summaryHTML := it.Summary
	text := Text(it.Summary)
	var contentText string
	contentDone := false
	if text == "" {
		contentText, contentDone = Text(it.Content), true
		text = contentText
	}
	text = unescapeAgain(text)
	it.Summary = summarise(text, SummaryLength)
	if it.Title == "" {
		// An item with no title (a social network's post through a bridge, a JSON Feed note,
		// a Blogger post left untitled) showed as an empty link: its first words are its title.
		first, _, _ := strings.Cut(text, "\n")
		it.Title = truncate(first, UntitledLength)
	}
	if it.Title == "" {
		// A post that is only a picture (an Instagram post through WordPress) has no words but
		// its image's: a caption is text and gave the title above; its alt text is the rest.
		it.Title = truncate(imageAlt(it.Content, summaryHTML), UntitledLength)
	}

	if l := normaliseTag(it.Language); l != "" {
		it.Language = l
	} else {
		if !contentDone {
			contentText = Text(it.Content)
		}
		body := contentText
		if body == "" {
			body = it.Summary
		}
		it.Language = Language("", it.Title+"\n"+body, fallbackLang)
	}
	it.Categories = categories(it.Categories)
	if len(it.Content) > MaxContent {
		it.Content = "" // after the summary and language, which it may have given
	}
}

// unescapeAgain unescapes the entities left in text taken out of HTML: those of a feed that
// escaped its HTML twice ("A&amp;amp;nbsp;B" in the XML), which showed as "A&nbsp;B" in every
// summary. Title does the same for titles.
func unescapeAgain(text string) string {
	if !strings.Contains(text, "&") {
		return text
	}
	return collapse(unescapeEntities(text), '\n')
}

// enclosures resolves enclosure URLs against base, dropping those that are not http or
// https and repeats of one URL, and keeps the first MaxEnclosures; types become plain
// one-line text.
func enclosures(in []news.Enclosure, base *url.URL) []news.Enclosure {
	if len(in) == 0 {
		return in
	}
	out := in[:0]
	seen := make(map[string]bool, len(in))
	for _, e := range in {
		e.URL = AbsURL(base, e.URL)
		if e.URL == "" || seen[e.URL] {
			continue
		}
		seen[e.URL] = true
		e.Type = Title(e.Type)
		out = append(out, e)
		if len(out) == MaxEnclosures {
			break
		}
	}
	return slices.Clip(out)
}

// categories trims, flattens and de-duplicates category names, keeping the first spelling.
func categories(in []string) []string {
	if len(in) == 0 {
		return in
	}
	out := in[:0]
	seen := make(map[string]bool, len(in))
	for _, c := range in {
		c = Title(c)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
		if len(out) == MaxCategories {
			break
		}
	}
	return slices.Clip(out)
}
