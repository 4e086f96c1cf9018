package publish

import (
	"encoding/xml"
	"fmt"
	"io"
)

// OPMLOutline is one outline of an OPML document: a feed (Type "rss", XMLURL set) or a
// folder of Children.
type OPMLOutline struct {
	Text, Title, Type, XMLURL, HTMLURL, Category string
	Children                                     []OPMLOutline
}

type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Title   string   `xml:"head>title"`
	Body    opmlBody `xml:"body"`
}

// opmlBody is a struct so that <body> is written even with no outlines.
type opmlBody struct {
	Outlines []opmlOutline `xml:"outline"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr,omitempty"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Category string        `xml:"category,attr,omitempty"`
	Children []opmlOutline `xml:"outline"`
}

// OPML writes an OPML 2.0 subscription list. An outline's required text attribute falls
// back to its title, then its XMLURL. The document carries no creation date, so the same
// outlines always give the same bytes.
func OPML(w io.Writer, title string, outlines []OPMLOutline) error {
	doc := &opmlDoc{Version: "2.0", Title: clean(title), Body: opmlBody{opmlOutlines(outlines)}}
	if err := writeXML(w, doc); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	return nil
}

func opmlOutlines(in []OPMLOutline) []opmlOutline {
	if len(in) == 0 {
		return nil
	}
	out := make([]opmlOutline, 0, len(in))
	for _, o := range in {
		x := opmlOutline{
			Text: clean(o.Text), Title: clean(o.Title), Type: clean(o.Type),
			XMLURL: clean(o.XMLURL), HTMLURL: clean(o.HTMLURL), Category: clean(o.Category),
			Children: opmlOutlines(o.Children),
		}
		if x.Text == "" {
			x.Text = x.Title
		}
		if x.Text == "" {
			x.Text = x.XMLURL
		}
		out = append(out, x)
	}
	return out
}
