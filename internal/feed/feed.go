// Package feed turns RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed documents into neutral
// items with gofeed. It knows nothing of storage or identity: it reports what the feed says.
package feed

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
	"golang.org/x/net/html"

	"github.com/iss-network/networkfeed/internal/news"
)

// ErrNotFeed means the document is not RSS, Atom or JSON Feed (often an HTML page).
var ErrNotFeed = errors.New("not a feed")

// Feed is what one feed document says.
type Feed struct {
	Title    string
	Link     string // the site
	Language string
	Type     string // rss, atom, json
	Items    []news.Item
	// Unread holds, by index in Items, the dates gofeed could not read ("Mo, 02 Mär 2026
	// 10:00:00 +0100", "02 Mar 26 …", "02.03.2026"): those items are undated until
	// DatesWith reads them in their member's languages.
	Unread map[int]string
}

// IsFeed reports whether body looks like RSS, Atom or JSON Feed.
func IsFeed(body []byte) bool {
	// gofeed copies all it is given before looking for the root element. A root found in the
	// first 4 KiB is the one the whole body has; only when none is found there is the rest read.
	if len(body) > detectPrefix && gofeed.DetectFeedType(bytes.NewReader(body[:detectPrefix])) != gofeed.FeedTypeUnknown {
		return true
	}
	return gofeed.DetectFeedType(bytes.NewReader(body)) != gofeed.FeedTypeUnknown
}

// detectPrefix is how much of a body IsFeed looks at first (gofeed's Parse detects on as much).
const detectPrefix = 4096

// Parse parses a feed document (already UTF-8). Items carry GUID, Title, Link, Summary,
// Content, Author, Image, Categories, Language and dates as the feed gives them; an item
// without a date gets news.PrecisionNone and a zero Published. Title, Summary and Content
// are HTML: plain text (an Atom text construct of type text, a JSON Feed's content_text)
// is given escaped.
func Parse(body []byte) (*Feed, error) {
	if !IsFeed(body) {
		return nil, ErrNotFeed
	}
	if b := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(b) > 0 && b[0] == '<' { // not JSON Feed
		if err := checkDepth(b); err != nil {
			return nil, fmt.Errorf("parse feed: %w", err)
		}
	}
	p := gofeed.NewParser()
	p.RSSTranslator = rssTranslator{}
	p.AtomTranslator = atomTranslator{body: body}
	p.JSONTranslator = jsonTranslator{}
	f, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse feed: %w", describe(err))
	}
	out := &Feed{Title: f.Title, Link: f.Link, Language: f.Language, Type: f.FeedType}
	out.Items = make([]news.Item, 0, len(f.Items))
	for _, gi := range f.Items {
		if gi == nil {
			continue
		}
		it := item(gi, f)
		if raw := firstNonEmpty(gi.Published, gi.Updated); it.Published.IsZero() && raw != "" {
			if out.Unread == nil {
				out.Unread = map[int]string{}
			}
			out.Unread[len(out.Items)] = raw
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// earliest is the earliest date an item is taken to have: before it, an epoch-zero
// placeholder that no member really published at.
var earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// DatesIn settles the items' dates for a member whose zone is loc: the days alone at
// midnight in loc (DaysIn), then the dates gofeed could not read (Unread) read with read
// (the page date parser in the member's languages, which knows localized month and day
// names and other orders; a day it reads is at midnight in the zone already), leaving
// undated those it cannot read either or reads before 1990.
func (f *Feed) DatesIn(loc *time.Location, read func(raw string) (time.Time, news.Precision, bool)) {
	DaysIn(f.Items, loc)
	for i, raw := range f.Unread {
		if i >= len(f.Items) {
			continue
		}
		t, p, ok := read(raw)
		if !ok || p == news.PrecisionNone || t.Before(earliest) {
			continue
		}
		it := &f.Items[i]
		it.Published, it.Updated, it.Precision = t.UTC(), t.UTC(), p
	}
}

// rssTranslator is gofeed's RSS translator with its image fallback made cheap. When an item (or
// the channel) names no image, gofeed parses its content and description as whole HTML documents
// for the first <img src>: about a fifth of parsing a feed, spent on HTML that mostly holds no
// image. This translator runs the same search only on HTML that can hold an img element.
type rssTranslator struct{}

func (rssTranslator) Translate(feed any) (*gofeed.Feed, error) {
	t := gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	f, err := t.Translate(feed)
	if err != nil {
		return nil, err
	}
	rf := feed.(*rss.Feed) // Translate checked it
	if f.Image == nil {
		f.Image = firstImage(rf.Description)
	}
	for i, ri := range rf.Items {
		if i >= len(f.Items) || f.Items[i] == nil || ri == nil {
			continue
		}
		gi := f.Items[i]
		if gi.Image == nil {
			if gi.Image = firstImage(ri.Content); gi.Image == nil {
				gi.Image = firstImage(ri.Description)
			}
		}
		if gi.Author == nil || (strings.TrimSpace(gi.Author.Name) == "" && strings.TrimSpace(gi.Author.Email) == "") {
			// gofeed reads an author as "email (Name)" or "Name <email>" and gives nothing for
			// a name it cannot split so, such as "SSI (Suisse)": the text is the name then.
			if name := rawAuthor(ri); name != "" {
				gi.Author = &gofeed.Person{Name: name}
				gi.Authors = []*gofeed.Person{gi.Author}
			}
		}
	}
	return f, nil
}

// hasImageFile reports whether an item names an image file of its own, which item prefers to
// one in its HTML (as gofeed's RSS translator does): an image enclosure or media:content.
func hasImageFile(gi *gofeed.Item) bool {
	for _, e := range gi.Enclosures {
		if e != nil && strings.HasPrefix(e.Type, "image/") {
			return true
		}
	}
	for _, c := range gi.Extensions["media"]["content"] {
		if c.Attrs["url"] != "" && (strings.HasPrefix(c.Attrs["type"], "image/") || c.Attrs["medium"] == "image") {
			return true
		}
	}
	return false
}

// rawAuthor is the text of an RSS item's author, from the elements gofeed reads it from, in
// its order.
func rawAuthor(ri *rss.Item) string {
	if s := strings.TrimSpace(ri.Author); s != "" {
		return s
	}
	if dc := ri.DublinCoreExt; dc != nil {
		for _, v := range [][]string{dc.Author, dc.Creator} {
			if len(v) > 0 && strings.TrimSpace(v[0]) != "" {
				return strings.TrimSpace(v[0])
			}
		}
	}
	if ri.ITunesExt != nil {
		return strings.TrimSpace(ri.ITunesExt.Author)
	}
	return ""
}

// atomTranslator is gofeed's Atom translator with an entry's text constructs of type text
// written as HTML (escaped: the rest of the pipeline reads titles, summaries and content as
// HTML), and an entry's image looked for in its HTML content and summary, as gofeed does for
// RSS items (it gives Atom entries none): Joomla's, WordPress's and Blogger's Atom feeds carry
// their images only there. body is the document, where the types of the text constructs are
// read (atomTexts).
type atomTranslator struct{ body []byte }

func (t atomTranslator) Translate(feed any) (*gofeed.Feed, error) {
	f, err := (&gofeed.DefaultAtomTranslator{}).Translate(feed)
	if err != nil {
		return nil, err
	}
	af := feed.(*atom.Feed) // Translate checked it
	texts := atomTexts(t.body)
	if len(texts) != len(af.Entries) {
		texts = nil // the scan did not find gofeed's entries: they stay as gofeed gives them
	}
	for i, e := range af.Entries {
		if i >= len(f.Items) || f.Items[i] == nil || e == nil {
			continue
		}
		gi := f.Items[i]
		var text textKinds
		if texts != nil {
			text = texts[i]
		}
		if text.title {
			gi.Title = html.EscapeString(gi.Title)
		}
		if text.summary {
			gi.Description = textHTML(gi.Description)
		}
		if text.content && e.Content != nil {
			gi.Content = textHTML(gi.Content)
		}
		if gi.Image != nil || hasImageFile(gi) {
			continue
		}
		if e.Content != nil && !text.content {
			gi.Image = firstImage(e.Content.Value)
		}
		if gi.Image == nil && !text.summary {
			gi.Image = firstImage(e.Summary)
		}
	}
	return f, nil
}

// jsonTranslator is gofeed's JSON Feed translator with what it drops put back: an item's
// own "language" (JSON Feed 1.1), and content_text as text. gofeed gives content_text as
// an item's content when it has no content_html, which the rest of the pipeline reads as
// HTML: its "<" and "&" were taken for markup and its paragraphs ran together.
type jsonTranslator struct{}

func (jsonTranslator) Translate(feed any) (*gofeed.Feed, error) {
	f, err := (&gofeed.DefaultJSONTranslator{}).Translate(feed)
	if err != nil {
		return nil, err
	}
	jf := feed.(*json.Feed) // Translate checked it
	for i, ji := range jf.Items {
		if i >= len(f.Items) || f.Items[i] == nil || ji == nil {
			continue
		}
		gi := f.Items[i]
		if ji.ContentHTML == "" && ji.ContentText != "" {
			gi.Content = textHTML(ji.ContentText)
		}
		if ji.Language != "" {
			if gi.Custom == nil {
				gi.Custom = map[string]string{}
			}
			gi.Custom["language"] = ji.Language
		}
	}
	return f, nil
}

// textHTML writes plain text as HTML: escaped, a paragraph per run of lines between blank
// lines, a line break between the lines of one.
func textHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// firstImage is the src of the first img element with one in doc (as gofeed finds it), or nil.
func firstImage(doc string) *gofeed.Image {
	if !mayHoldImg(doc) {
		return nil
	}
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return nil
	}
	var find func(n *html.Node) *gofeed.Image
	find = func(n *html.Node) *gofeed.Image {
		if n.Type == html.ElementNode && n.Data == "img" {
			for _, a := range n.Attr {
				if a.Key == "src" {
					return &gofeed.Image{URL: a.Val}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if img := find(c); img != nil {
				return img
			}
		}
		return nil
	}
	return find(root)
}

// mayHoldImg reports whether doc has a tag starting "<im" in any case: an img element needs one
// ("<img", or "<image", which HTML parsers read as img).
func mayHoldImg(doc string) bool {
	for i := strings.IndexByte(doc, '<'); i >= 0 && i+2 < len(doc); {
		if doc[i+1]|0x20 == 'i' && doc[i+2]|0x20 == 'm' {
			return true
		}
		j := strings.IndexByte(doc[i+1:], '<')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func item(gi *gofeed.Item, f *gofeed.Feed) news.Item {
	it := news.Item{
		GUID:       strings.TrimSpace(gi.GUID),
		Title:      gi.Title,
		Link:       strings.TrimSpace(gi.Link),
		Summary:    gi.Description,
		Content:    gi.Content,
		Categories: gi.Categories,
	}
	if it.Link == "" && len(gi.Links) > 0 {
		it.Link = strings.TrimSpace(gi.Links[0])
	}
	if it.Summary == it.Content {
		it.Summary = ""
	}
	switch {
	case len(gi.Authors) > 0 && gi.Authors[0] != nil:
		it.Author = firstNonEmpty(gi.Authors[0].Name, gi.Authors[0].Email)
	case gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Creator) > 0:
		it.Author = gi.DublinCoreExt.Creator[0]
	}
	if gi.Image != nil {
		it.Image = gi.Image.URL
	}
	for _, e := range gi.Enclosures {
		if e == nil || strings.TrimSpace(e.URL) == "" {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
		it.Enclosures = append(it.Enclosures, news.Enclosure{URL: strings.TrimSpace(e.URL), Type: strings.TrimSpace(e.Type), Length: max(n, 0)})
	}
	if it.Image == "" {
		for _, e := range gi.Enclosures {
			if e != nil && strings.HasPrefix(e.Type, "image/") {
				it.Image = e.URL
				break
			}
		}
	}
	if it.Image == "" {
		if m, ok := gi.Extensions["media"]; ok {
			for _, name := range []string{"thumbnail", "content"} {
				for _, e := range m[name] {
					if u := e.Attrs["url"]; u != "" && (name == "thumbnail" || strings.HasPrefix(e.Attrs["type"], "image/") || e.Attrs["medium"] == "image") {
						it.Image = u
						break
					}
				}
				if it.Image != "" {
					break
				}
			}
		}
	}
	if gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Language) > 0 {
		it.Language = gi.DublinCoreExt.Language[0]
	}
	if lang, ok := gi.Custom["language"]; ok && it.Language == "" {
		it.Language = lang
	}
	if it.Language == "" {
		it.Language = f.Language
	}
	pub, upd := gi.PublishedParsed, gi.UpdatedParsed
	if t, ok := offsetDate(gi.Published); ok {
		pub = t
	}
	if t, ok := offsetDate(gi.Updated); ok {
		upd = t
	}
	switch {
	case pub != nil:
		it.Published = pub.UTC()
	case upd != nil:
		it.Published = upd.UTC()
	}
	if upd != nil {
		it.Updated = upd.UTC()
	} else {
		it.Updated = it.Published
	}
	raw := gi.Published
	if pub == nil {
		raw = gi.Updated
	}
	if dayOnly(raw, it.Published) {
		it.Precision = news.PrecisionDay // "2026-03-01", "Sun, 01 Mar 2026": placed by DaysIn
	}
	if it.Published.IsZero() || it.Published.Before(earliest) {
		it.Published, it.Updated = time.Time{}, time.Time{}
		it.Precision = news.PrecisionNone
	}
	return it
}

// rxGMTOffset matches a zone written as an offset from GMT or UTC at the end of a date ("GMT+2",
// "UTC+02:00", "GMT+0200", "GMT-5"), with the zone's name in brackets after it as JavaScript
// writes it ("GMT+0200 (Central European Summer Time)").
var rxGMTOffset = regexp.MustCompile(`(?i)\s*(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?:\s*\([^()]*\))?\s*$`)

// mayHaveGMTOffset is a quick look for what rxGMTOffset matches: "GMT" or "UTC" (in any
// case) followed by a sign. Most dates have none, and the expression costs about 1.4 µs a
// date: 0.5 s of CPU in a first poll of 10,000 feeds.
func mayHaveGMTOffset(raw string) bool {
	for i := 0; i+3 < len(raw); i++ {
		if c := raw[i] | 0x20; (c == 'g' || c == 'u') && (strings.EqualFold(raw[i:i+3], "GMT") || strings.EqualFold(raw[i:i+3], "UTC")) {
			rest := strings.TrimLeft(raw[i+3:], "\t\n\f\r ")
			if rest != "" && (rest[0] == '+' || rest[0] == '-') {
				return true
			}
		}
	}
	return false
}

// offsetLayouts are the dates offsetDate reads before their offset.
var offsetLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05", "Mon, 2 Jan 2006 15:04", "2 Jan 2006 15:04:05", "2 Jan 2006 15:04",
	"Mon Jan 2 2006 15:04:05", "Mon Jan 2 15:04:05 2006",
	"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04",
}

// offsetDate reads a date whose zone is written as an offset from GMT or UTC (rxGMTOffset):
// gofeed read "GMT+2", "GMT-5" and "UTC+02:00" as GMT itself, hours off, and "GMT+02:00" and
// "UTC+2" not at all. ok is false for a date written otherwise, which gofeed reads; a date so
// written in another form (another language's day and month names) is given as nil, for
// DatesIn to read it.
func offsetDate(raw string) (t *time.Time, ok bool) {
	if !mayHaveGMTOffset(raw) {
		return nil, false
	}
	m := rxGMTOffset.FindStringSubmatchIndex(raw)
	if m == nil {
		return nil, false
	}
	h, _ := strconv.Atoi(raw[m[4]:m[5]])
	mins := 0
	if m[6] >= 0 {
		mins, _ = strconv.Atoi(raw[m[6]:m[7]])
	}
	if h > 14 || mins > 59 {
		return nil, true
	}
	offset := h*3600 + mins*60
	if raw[m[2]] == '-' {
		offset = -offset
	}
	rest := strings.TrimSpace(raw[:m[0]])
	for _, layout := range offsetLayouts {
		if d, err := time.Parse(layout, rest); err == nil {
			d = time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), time.FixedZone("", offset))
			return &d, true
		}
	}
	return nil, true
}

// dayOnly reports whether a date written raw, parsed as t, names a day and no time of day
// (gofeed gives such a date at midnight UTC).
func dayOnly(raw string, t time.Time) bool {
	return raw != "" && !strings.Contains(raw, ":") && !t.IsZero() && t.Equal(t.Truncate(24*time.Hour))
}

// DaysIn places the items dated by a day alone (news.PrecisionDay: "2026-03-01" in a JSON Feed,
// "Sun, 01 Mar 2026" in RSS, which Parse gives at midnight UTC) at midnight in loc, the zone of
// their source, as a page's dates are: shown in that zone, midnight UTC was the day before
// anywhere west of Greenwich.
func DaysIn(items []news.Item, loc *time.Location) {
	if loc == nil {
		return
	}
	for i := range items {
		it := &items[i]
		if it.Precision != news.PrecisionDay || it.Published.IsZero() {
			continue
		}
		old := it.Published.UTC()
		y, m, d := old.Date()
		it.Published = time.Date(y, m, d, 0, 0, 0, 0, loc)
		if it.Updated.Equal(old) {
			it.Updated = it.Published
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// describe keeps the parser's message but makes it read as plain words.
func describe(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "EOF") {
		return fmt.Errorf("the feed ends too early (truncated XML?): %w", err)
	}
	return err
}
