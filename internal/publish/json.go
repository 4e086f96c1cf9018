package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gorilla/feeds"

	"github.com/iss-network/networkfeed/internal/news"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFeed extends feeds.JSONFeed: Items shadows the embedded field so that an empty feed
// still has "items": [].
type jsonFeed struct {
	feeds.JSONFeed
	Items []jsonItem `json:"items"`
}

// jsonItem extends feeds.JSONItem with RFC 3339 dates without fractions, an item
// language, content_text that may be present and empty, and the networkfeed extension.
type jsonItem struct {
	feeds.JSONItem
	ContentText *string `json:"content_text,omitempty"`
	Published   string  `json:"date_published,omitempty"`
	Modified    string  `json:"date_modified,omitempty"`
	Language    string  `json:"language,omitempty"`
	// Attachments shadows feeds.JSONItem's, which writes "size" where JSON Feed has
	// "size_in_bytes".
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	Ext         *jsonExt         `json:"_networkfeed,omitempty"`
}

// jsonAttachment is one of an item's "attachments".
type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// jsonExt is the per-item "_networkfeed" extension object.
type jsonExt struct {
	Member          string   `json:"member"`
	MemberName      string   `json:"member_name,omitempty"`
	Country         string   `json:"country,omitempty"`
	Author          string   `json:"author,omitempty"`
	DatePrecision   string   `json:"date_precision,omitempty"`
	AlsoPublishedBy []string `json:"also_published_by"`
}

// JSON writes f as JSON Feed 1.1. "items" is always an array. Each item has "id" (the
// item ID), "url", "title", "content_html" (the content) or else "content_text" (the
// summary), "summary", "date_published" (omitted for items their source gave no date)
// and "date_modified" in RFC 3339, "authors" naming the member, "language", "tags",
// "image", "attachments" (the enclosures), and a "_networkfeed" extension object with the member ID, its name and
// country, the item's own author, the date precision when it is not exact ("day", "month", "none"), and
// "also_published_by" (the IDs of the other members that published the story). The feed
// has "feed_url", "home_page_url", "next_url" and "hubs" when set.
func JSON(w io.Writer, f Feed) error {
	jf := &jsonFeed{
		JSONFeed: feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       clean(f.Title),
			Description: clean(f.Description),
			Language:    clean(f.Language),
			HomePageUrl: clean(f.HTMLURL),
			FeedUrl:     clean(f.SelfURL),
			NextUrl:     clean(f.NextURL),
		},
		Items: make([]jsonItem, 0, len(f.Items)),
	}
	if hub := clean(f.Hub); hub != "" {
		jf.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: hub}}
	}
	for i := range f.Items {
		it := &f.Items[i]
		m := f.member(it.Member)
		ji := jsonItem{
			JSONItem: feeds.JSONItem{
				Id:          clean(it.ID),
				Url:         clean(it.Link),
				Title:       clean(it.Title),
				ContentHTML: clean(it.Content),
				Summary:     clean(it.Summary),
				Image:       clean(it.Image),
				Authors:     []*feeds.JSONAuthor{{Name: m.Name, Url: m.Homepage}},
				Tags:        cleanAll(it.Categories),
			},
			Published: formatTime(itemPublished(it), time.RFC3339),
			Modified:  formatTime(itemUpdated(it), time.RFC3339),
			Language:  clean(it.Language),
			Ext: &jsonExt{
				Member:          m.ID,
				Author:          clean(it.Author),
				Country:         clean(it.Country),
				AlsoPublishedBy: make([]string, 0, len(it.AlsoBy)),
			},
		}
		if m.Name != m.ID {
			ji.Ext.MemberName = m.Name
		}
		for _, enc := range enclosures(it) {
			n, _ := strconv.ParseInt(enc.Length, 10, 64)
			ji.Attachments = append(ji.Attachments, jsonAttachment{URL: enc.URL, MIMEType: enc.Type, SizeInBytes: n})
		}
		if ji.Ext.Country == "" {
			ji.Ext.Country = m.Country
		}
		if it.Precision != news.PrecisionExact {
			ji.Ext.DatePrecision = clean(string(it.Precision))
		}
		if ji.ContentHTML == "" {
			text := ji.Summary
			ji.ContentText = &text
		}
		for _, id := range it.AlsoBy {
			ji.Ext.AlsoPublishedBy = append(ji.Ext.AlsoPublishedBy, f.member(id).ID)
		}
		jf.Items = append(jf.Items, ji)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jf); err != nil {
		return fmt.Errorf("write json feed: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write json feed: %w", err)
	}
	return nil
}
