package web

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"testing"
)

// feedLanguage reads the feed-level language of a feed in any format.
func feedLanguage(t *testing.T, format string, b []byte) string {
	t.Helper()
	switch format {
	case "rss":
		var doc struct {
			Language string `xml:"channel>language"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Language
	case "atom":
		var doc struct {
			Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Lang
	default:
		var doc struct {
			Language string `json:"language"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Language
	}
}

// TestFeedLanguageFollowsLangFilter: a feed selected by language holds only items in
// that language, so it must say so. Readers take the feed's language (RSS <language>,
// Atom xml:lang, JSON Feed "language") for its items' direction, fonts and hyphenation:
// a Hebrew or Japanese feed labelled "en" is shown left to right, in the wrong fonts.
func TestFeedLanguageFollowsLangFilter(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	for _, c := range []struct{ path, want string }{
		{"/feed.%s", "en"},
		{"/feed.%s?lang=ja", "ja"},
		{"/feed.%s?lang=fr&country=CH", "fr"},
		{"/members/fr/feed.%s", "fr"},
		{"/members/fr/feed.%s?lang=en", "en"},
	} {
		for _, format := range []string{"rss", "atom", "json"} {
			path := fmt.Sprintf(c.path, format)
			res, body := f.get(t, path)
			if res.StatusCode != 200 {
				t.Fatalf("%s: HTTP %d", path, res.StatusCode)
			}
			if got := feedLanguage(t, format, body); got != c.want {
				t.Errorf("%s: feed language %q, want %q", path, got, c.want)
			}
		}
	}
	for _, format := range []string{"rss", "atom", "json"} {
		b, err := f.web.StaticFeed(t.Context(), format, map[string][]string{"lang": {"ja"}}, "languages/ja/")
		if err != nil {
			t.Fatal(err)
		}
		if got := feedLanguage(t, format, b); got != "ja" {
			t.Errorf("static languages/ja/feed.%s: feed language %q, want ja", format, got)
		}
	}
}
