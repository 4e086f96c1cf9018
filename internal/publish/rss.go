package publish

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	generator = "networkfeed"
)

// rssRoot is the <rss> element with the namespaces our extensions use.
type rssRoot struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	NSAtom    string      `xml:"xmlns:atom,attr"`
	NSContent string      `xml:"xmlns:content,attr"`
	NSDC      string      `xml:"xmlns:dc,attr"`
	Channel   *rssChannel `xml:"channel"`
}

// rssChannel extends feeds.RssFeed with atom:link elements; Items shadows the embedded ones.
type rssChannel struct {
	feeds.RssFeed
	AtomLinks []rssAtomLink `xml:"atom:link"`
	Items     []*rssItem    `xml:"item"`
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr,omitempty"`
}

// rssItem extends feeds.RssItem: Link may be omitted, several categories with domains,
// <source url>, dc:creator and dc:language.
type rssItem struct {
	feeds.RssItem
	Link       string        `xml:"link,omitempty"`
	Categories []rssCategory `xml:"category"`
	Source     *rssSource    `xml:"source"`
	Creator    string        `xml:"dc:creator,omitempty"`
	Language   string        `xml:"dc:language,omitempty"`
}

type rssCategory struct {
	Domain string `xml:"domain,attr,omitempty"`
	Name   string `xml:",chardata"`
}

type rssSource struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

// RSS writes f as RSS 2.0. Every item has <guid isPermaLink="false"> with the item ID,
// <pubDate> (RFC 1123 with numeric zone, omitted for items their source gave no date),
// <source url> naming the member, <category> elements (the other members that published
// the story with domain "also-published-by"), <description> (the summary, HTML-escaped,
// or else the content), content:encoded (the content) and <enclosure> (the first of the
// item's enclosures: RSS 2.0 allows one). The channel carries
// atom:link rel="self" (and the paging and archive links and "hub" when set), <language> and
// <lastBuildDate>.
func RSS(w io.Writer, f Feed) error {
	title := clean(f.Title)
	desc := clean(f.Description)
	if desc == "" {
		desc = title
	}
	ch := &rssChannel{
		RssFeed: feeds.RssFeed{
			Title:         title,
			Link:          clean(f.HTMLURL),
			Description:   desc,
			Language:      clean(f.Language),
			LastBuildDate: formatTime(f.updated(), time.RFC1123Z),
			Generator:     generator,
		},
		Items: make([]*rssItem, 0, len(f.Items)),
	}
	self := clean(f.SelfURL)
	links := []rssAtomLink{{Rel: "self", Href: self, Type: mediaType(FormatRSS)}}
	for _, l := range f.pagingLinks() {
		links = append(links, rssAtomLink{Rel: l[0], Href: l[1], Type: mediaType(FormatRSS)})
	}
	links = append(links, rssAtomLink{Rel: "hub", Href: clean(f.Hub)})
	for _, l := range links {
		if l.Href != "" {
			ch.AtomLinks = append(ch.AtomLinks, l)
		}
	}
	for i := range f.Items {
		it := &f.Items[i]
		m := f.member(it.Member)
		summary, content := clean(it.Summary), clean(it.Content)
		ri := &rssItem{
			RssItem: feeds.RssItem{
				Title:   clean(it.Title),
				Guid:    &feeds.RssGuid{Id: clean(it.ID), IsPermaLink: "false"},
				PubDate: formatTime(itemPublished(it), time.RFC1123Z),
			},
			Link:     clean(it.Link),
			Creator:  clean(it.Author),
			Language: clean(it.Language),
		}
		switch {
		case summary != "":
			ri.Description = html.EscapeString(summary)
		default:
			ri.Description = content
		}
		if content != "" {
			ri.Content = &feeds.RssContent{Content: content}
		}
		if encs := enclosures(it); len(encs) > 0 {
			// RSS 2.0 allows one enclosure per item, and readers take the first.
			ri.Enclosure = &feeds.RssEnclosure{Url: encs[0].URL, Type: encs[0].Type, Length: encs[0].Length}
		}
		src := clean(it.Source)
		if src == "" {
			src = m.Homepage
		}
		if src == "" {
			src = self
		}
		ri.Source = &rssSource{URL: src, Name: m.Name}
		for _, c := range cleanAll(it.Categories) {
			ri.Categories = append(ri.Categories, rssCategory{Name: c})
		}
		for _, id := range it.AlsoBy {
			ri.Categories = append(ri.Categories, rssCategory{Domain: AlsoByDomain, Name: f.member(id).Name})
		}
		ch.Items = append(ch.Items, ri)
	}
	root := &rssRoot{Version: "2.0", NSAtom: nsAtom, NSContent: nsContent, NSDC: nsDC, Channel: ch}
	if err := writeXML(w, root); err != nil {
		return fmt.Errorf("write rss: %w", err)
	}
	return nil
}
