// Package publish writes the network's output feeds: RSS 2.0, Atom 1.0, JSON Feed 1.1
// and OPML 2.0.
//
// It builds on the wire types of github.com/gorilla/feeds (RssFeed, RssItem, AtomFeed,
// AtomEntry, JSONFeed, JSONItem, ...) and extends them by embedding, but it does not use
// that library's Feed-to-format converters, which omit RSS self links, write an empty
// Atom <updated>, invent random ids for entries without one and drop "items" from an
// empty JSON Feed. Every writer here renders into a buffer and writes it once, so a
// failed render leaves w untouched.
//
// Output is deterministic: the same Feed always gives the same bytes (times are written
// in UTC, maps are read in sorted order, no id is ever generated at random).
//
// Identifiers: an RSS <guid> and a JSON Feed "id" are the item's ID as it is; an Atom
// <id> is AtomID(item.ID), "urn:networkfeed:" followed by the ID (path-escaped, which
// leaves the usual letters, digits and "-._~" as they are). Both are stable for as long
// as the item ID is, which is forever.
//
// Text: every string taken from a Feed is first stripped of characters that XML 1.0
// does not allow (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF; invalid UTF-8
// becomes U+FFFD), then escaped by encoding/xml or encoding/json. Item titles and
// summaries are plain text; item content is HTML (already sanitised upstream).
package publish

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/news"
)

// Format names accepted by Render and ContentType.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
	FormatOPML = "opml"
)

// Category schemes and domains used to mark the other members that published an item.
const (
	// AlsoByDomain is the RSS <category domain> of an "also published by" category.
	AlsoByDomain = "also-published-by"
	// AlsoByScheme is the Atom <category scheme> of an "also published by" category.
	AlsoByScheme = "urn:networkfeed:also-published-by"
	// JSONExtension is the key of the per-item JSON Feed extension object.
	JSONExtension = "_networkfeed"
)

// Member describes a member organisation, as shown in the feeds' author and source elements.
type Member struct {
	ID, Name, Homepage, Country string
}

// Feed is one output feed, already filtered and limited.
type Feed struct {
	Title, Description string
	// HTMLURL is the web page for this feed.
	HTMLURL string
	// SelfURL is the absolute URL of this very feed, in the format being written.
	SelfURL string
	// FeedURLs maps a format ("rss", "atom", "json") to the absolute URL of this feed in
	// that format, for alternate links.
	FeedURLs map[string]string
	// Language is the feed's BCP 47 language tag, if it has one.
	Language string
	// Updated is the newest item's Updated time, or the time to show for an empty feed.
	// When zero, the newest item time is used; an empty Atom feed needs it.
	Updated time.Time
	// Items are newest first.
	Items []news.Item
	// Members maps item.Member to the member's name and homepage.
	Members map[string]Member
	// Paging (RFC 5005 section 3): NextURL is the page of older items, PrevURL the page
	// of newer ones, FirstURL the newest page (the feed without a cursor).
	NextURL, PrevURL, FirstURL string
	// Archives (RFC 5005 section 4): PrevArchiveURL is the archive of older items,
	// NextArchiveURL the archive of newer ones, CurrentURL the subscription document.
	PrevArchiveURL, NextArchiveURL, CurrentURL string
	// Hub is the WebSub hub URL, if any.
	Hub string
}

// ContentType returns the HTTP Content-Type for a format name, or "" for an unknown one.
func ContentType(format string) string {
	switch format {
	case FormatRSS:
		return "application/rss+xml; charset=utf-8"
	case FormatAtom:
		return "application/atom+xml; charset=utf-8"
	case FormatJSON:
		return "application/feed+json"
	case FormatOPML:
		return "text/x-opml; charset=utf-8"
	}
	return ""
}

// mediaType is ContentType without parameters, for link type attributes.
func mediaType(format string) string {
	ct := ContentType(format)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// Render writes f in the named format ("rss", "atom" or "json").
func Render(w io.Writer, format string, f Feed) error {
	switch format {
	case FormatRSS:
		return RSS(w, f)
	case FormatAtom:
		return Atom(w, f)
	case FormatJSON:
		return JSON(w, f)
	}
	return fmt.Errorf("render feed: unknown format %q", format)
}

// AtomID returns the Atom entry id of the item with the given ID.
func AtomID(itemID string) string {
	return "urn:networkfeed:" + url.PathEscape(itemID)
}

// clean removes what XML 1.0 cannot carry: C0 controls except tab, LF and CR, and
// U+FFFE/U+FFFF. Invalid UTF-8 becomes U+FFFD. Strings that need nothing are returned as is.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				ok = false
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !validRune(r) || (r == utf8.RuneError && n == 1) {
			ok = false
			break
		}
		i += n
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // ranging yields U+FFFD for invalid bytes
		if validRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// validRune reports whether r is a character XML 1.0 allows (the Char production).
func validRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	}
	return r <= utf8.MaxRune
}

// cleanAll cleans every string of a slice into a new slice.
func cleanAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = clean(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// enclosure is one of an item's enclosures, cleaned, with the type and length a feed
// must write: the media type guessed from the URL's extension when the source gave
// none (else application/octet-stream), "0" for an unknown length.
type enclosure struct{ URL, Type, Length string }

// enclosures lists an item's enclosures as the feeds write them.
func enclosures(it *news.Item) []enclosure {
	var out []enclosure
	for _, e := range it.Enclosures {
		u := clean(e.URL)
		if u == "" {
			continue
		}
		typ := clean(e.Type)
		if typ == "" {
			if p, err := url.Parse(u); err == nil {
				typ, _, _ = strings.Cut(mime.TypeByExtension(path.Ext(p.Path)), ";")
			}
		}
		if typ == "" {
			typ = "application/octet-stream"
		}
		out = append(out, enclosure{URL: u, Type: typ, Length: strconv.FormatInt(max(e.Length, 0), 10)})
	}
	return out
}

// member returns the member of an item, falling back to the bare ID as its name.
func (f *Feed) member(id string) Member {
	m, ok := f.Members[id]
	if !ok {
		m = Member{ID: id}
	}
	if m.ID == "" {
		m.ID = id
	}
	if m.Name == "" {
		m.Name = id
	}
	m.ID, m.Name, m.Homepage, m.Country = clean(m.ID), clean(m.Name), clean(m.Homepage), clean(m.Country)
	return m
}

// pagingLinks lists the RFC 5005 links that are set, as (rel, cleaned href) pairs, in a
// fixed order.
func (f *Feed) pagingLinks() [][2]string {
	var out [][2]string
	for _, l := range [][2]string{
		{"first", f.FirstURL}, {"next", f.NextURL}, {"previous", f.PrevURL},
		{"current", f.CurrentURL}, {"prev-archive", f.PrevArchiveURL}, {"next-archive", f.NextArchiveURL},
	} {
		if href := clean(l[1]); href != "" {
			out = append(out, [2]string{l[0], href})
		}
	}
	return out
}

// alternates lists FeedURLs other than the one for format, in a fixed order
// (rss, atom, json, then any other format sorted by name).
func (f *Feed) alternates(format string) [][2]string {
	known := []string{FormatRSS, FormatAtom, FormatJSON}
	var others []string
	for k := range f.FeedURLs {
		if !slices.Contains(known, k) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	var out [][2]string
	for _, k := range append(known, others...) {
		if u := clean(f.FeedURLs[k]); u != "" && k != format {
			out = append(out, [2]string{k, u})
		}
	}
	return out
}

// updated is the feed's Updated time, or its newest item time when that is zero.
func (f *Feed) updated() time.Time {
	if !f.Updated.IsZero() {
		return f.Updated.UTC()
	}
	var newest time.Time
	for i := range f.Items {
		if t := itemUpdated(&f.Items[i]); t.After(newest) {
			newest = t
		}
	}
	return newest
}

// itemPublished is the item's own date, zero for an item its source gave no date.
func itemPublished(it *news.Item) time.Time {
	if !it.Dated() {
		return time.Time{}
	}
	return it.Published.UTC()
}

// itemUpdated is the item's Updated time, else Published, else FirstSeen.
func itemUpdated(it *news.Item) time.Time {
	for _, t := range []time.Time{it.Updated, it.Published, it.FirstSeen} {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

func formatTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// writeXML encodes v as indented XML with a declaration into a buffer, then writes it to w.
func writeXML(w io.Writer, v any) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
