package publish

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// ErrNoUpdated is returned by Atom for a feed with neither an Updated time nor any dated
// item: Atom requires a non-empty feed <updated>.
var ErrNoUpdated = errors.New("feed has no updated time")

// atomFeed extends feeds.AtomFeed with xml:lang and several links; Entries shadows the
// embedded ones.
type atomFeed struct {
	feeds.AtomFeed
	Lang      string           `xml:"xml:lang,attr,omitempty"`
	Links     []feeds.AtomLink `xml:"link"`
	Generator string           `xml:"generator,omitempty"`
	Entries   []*atomEntry     `xml:"entry"`
}

// atomEntry extends feeds.AtomEntry with xml:lang, several categories and a <source> element.
type atomEntry struct {
	feeds.AtomEntry
	Lang       string         `xml:"xml:lang,attr,omitempty"`
	Categories []atomCategory `xml:"category"`
	Source     *atomSource    `xml:"source"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

type atomSource struct {
	ID    string           `xml:"id,omitempty"`
	Title string           `xml:"title"`
	Links []feeds.AtomLink `xml:"link"`
}

// Atom writes f as Atom 1.0. The feed <id> is SelfURL and <updated> is never empty (it
// returns ErrNoUpdated when no time is known). Each entry has <id> AtomID(item.ID),
// <updated>, <published> (omitted for items their source gave no date), an <author>
// naming the member (<uri> its homepage), a <contributor> for the item's own author, a
// <source> for the member, <summary type="text"> (summaries are plain text),
// <content type="html">, a <link rel="enclosure"> per enclosure, xml:lang, <category term> for each category, and one category
// with scheme AlsoByScheme per other member that published the story.
func Atom(w io.Writer, f Feed) error {
	updated := f.updated()
	if updated.IsZero() {
		return fmt.Errorf("write atom: %w", ErrNoUpdated)
	}
	feedUpdated := formatTime(updated, time.RFC3339)
	title := clean(f.Title)
	self, home := clean(f.SelfURL), clean(f.HTMLURL)
	id := self
	if id == "" {
		id = home
	}
	af := &atomFeed{
		AtomFeed: feeds.AtomFeed{
			Xmlns:    nsAtom,
			Title:    title,
			Id:       id,
			Updated:  feedUpdated,
			Subtitle: clean(f.Description),
			Author:   &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: title, Uri: home}},
		},
		Lang:      clean(f.Language),
		Generator: generator,
		Entries:   make([]*atomEntry, 0, len(f.Items)),
	}
	add := func(rel, href, typ string) {
		if href != "" {
			af.Links = append(af.Links, feeds.AtomLink{Rel: rel, Href: href, Type: typ})
		}
	}
	add("self", self, mediaType(FormatAtom))
	add("alternate", home, "text/html")
	for _, alt := range f.alternates(FormatAtom) {
		add("alternate", alt[1], mediaType(alt[0]))
	}
	for _, l := range f.pagingLinks() {
		add(l[0], l[1], mediaType(FormatAtom))
	}
	add("hub", clean(f.Hub), "")

	for i := range f.Items {
		it := &f.Items[i]
		m := f.member(it.Member)
		link, summary, content := clean(it.Link), clean(it.Summary), clean(it.Content)
		up := formatTime(itemUpdated(it), time.RFC3339)
		if up == "" {
			up = feedUpdated
		}
		e := &atomEntry{
			AtomEntry: feeds.AtomEntry{
				Title:     clean(it.Title),
				Id:        AtomID(it.ID),
				Updated:   up,
				Published: formatTime(itemPublished(it), time.RFC3339),
				Author:    &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: m.Name, Uri: m.Homepage}},
			},
			Lang: clean(it.Language),
		}
		if link != "" {
			e.Links = []feeds.AtomLink{{Rel: "alternate", Href: link}}
		}
		for _, enc := range enclosures(it) {
			e.Links = append(e.Links, feeds.AtomLink{Rel: "enclosure", Href: enc.URL, Type: enc.Type, Length: enc.Length})
		}
		if summary != "" {
			e.Summary = &feeds.AtomSummary{Type: "text", Content: summary}
		}
		switch {
		case content != "":
			e.Content = &feeds.AtomContent{Type: "html", Content: content}
		case link == "":
			// An entry without an alternate link must have content (RFC 4287 4.1.2).
			e.Content = &feeds.AtomContent{Type: "text", Content: summary}
		}
		if a := clean(it.Author); a != "" {
			e.Contributor = &feeds.AtomContributor{AtomPerson: feeds.AtomPerson{Name: a}}
		}
		src := &atomSource{ID: clean(it.Source), Title: m.Name}
		if src.ID == "" {
			src.ID = m.Homepage
		}
		if m.Homepage != "" {
			src.Links = []feeds.AtomLink{{Rel: "alternate", Href: m.Homepage, Type: "text/html"}}
		}
		e.Source = src
		for _, c := range cleanAll(it.Categories) {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		for _, id := range it.AlsoBy {
			om := f.member(id)
			e.Categories = append(e.Categories, atomCategory{Term: om.ID, Scheme: AlsoByScheme, Label: om.Name})
		}
		af.Entries = append(af.Entries, e)
	}
	if err := writeXML(w, af); err != nil {
		return fmt.Errorf("write atom: %w", err)
	}
	return nil
}
