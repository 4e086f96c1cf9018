package feed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFormats(t *testing.T) {
	cases := []struct {
		file, typ, title, link, guid, lang string
		n                                  int
		published                          time.Time
	}{
		{"rss2.xml", "rss", "Reuniting families across borders", "https://www.iss.org.au/news/reuniting/", "https://www.iss.org.au/?p=101", "en-AU", 2, time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)},
		{"rss1.xml", "rss", "Kafalah explained", "https://example.org/a", "", "fr", 1, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)},
		{"rss091.xml", "rss", "Alte Meldung", "https://old.example.org/1", "", "de", 1, time.Time{}},
		{"atom10.xml", "atom", "Cross-border <em>mediation</em>", "https://www.iss-usa.org/news/1", "tag:iss-usa.org,2026:1", "en", 1, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"atom03.xml", "atom", "Old Atom entry", "https://a03.example.org/e1", "urn:a03:e1", "", 1, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"jsonfeed.json", "json", "国際養子縁組のガイド", "https://www.issj.jp/news/42", "issj-42", "ja", 1, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := Parse(load(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != c.typ || len(f.Items) != c.n {
				t.Fatalf("type %q with %d items, want %q with %d", f.Type, len(f.Items), c.typ, c.n)
			}
			it := f.Items[0]
			if it.Title != c.title || it.Link != c.link || it.GUID != c.guid || it.Language != c.lang {
				t.Errorf("item = %+v", it)
			}
			if !it.Published.Equal(c.published) {
				t.Errorf("published = %v, want %v", it.Published, c.published)
			}
			if c.published.IsZero() != (it.Precision == news.PrecisionNone) {
				t.Errorf("precision = %q for published %v", it.Precision, it.Published)
			}
		})
	}
}

func TestParseRSSDetails(t *testing.T) {
	f, err := Parse(load(t, "rss2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	it := f.Items[0]
	if it.Author != "Jane Smith" || len(it.Categories) != 2 || it.Image != "https://www.iss.org.au/img/r.jpg" || it.Content != "<p>Full <b>text</b>.</p>" || it.Summary != "Short summary." {
		t.Errorf("details = %+v", it)
	}
	if f.Items[1].Precision != news.PrecisionNone || !f.Items[1].Published.IsZero() {
		t.Errorf("undated item = %+v", f.Items[1])
	}
	j, _ := Parse(load(t, "jsonfeed.json"))
	if j.Items[0].Author != "ISS Japan" || j.Items[0].Image != "https://www.issj.jp/i.png" {
		t.Errorf("json item = %+v", j.Items[0])
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(load(t, "notfeed.html")); !errors.Is(err, ErrNotFeed) {
		t.Errorf("html page: err = %v, want ErrNotFeed", err)
	}
	if _, err := Parse(load(t, "truncated.xml")); err == nil {
		t.Errorf("truncated feed parsed without error")
	}
	if _, err := Parse(nil); !errors.Is(err, ErrNotFeed) {
		t.Errorf("empty body: err = %v", err)
	}
}

// FuzzParse: any input gives a feed or an error, and an entity a document declares is
// never expanded (seeds in testdata/fuzz/FuzzParse: billion laughs, an external entity,
// invalid UTF-8, odd JSON types; and the fixtures below).
func FuzzParse(f *testing.F) {
	for _, n := range []string{"rss2.xml", "rss1.xml", "atom10.xml", "jsonfeed.json", "truncated.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fd, err := Parse(b)
		if err == nil && fd == nil {
			t.Fatal("nil feed without error")
		}
		if err != nil {
			return
		}
		for _, it := range fd.Items {
			// Parse's doc: an item without a date gets PrecisionNone and a zero Published.
			if it.Precision == news.PrecisionNone && !it.Published.IsZero() {
				t.Fatalf("undated item (precision none) published %s", it.Published)
			}
			for _, s := range []string{it.Title, it.Summary, it.Content} {
				for _, marker := range []string{"lollollol", "root:x:0:0"} { // billion laughs, /etc/passwd
					if strings.Contains(s, marker) && !bytes.Contains(b, []byte(marker)) {
						t.Fatalf("an entity was expanded: %.80q", s)
					}
				}
			}
		}
	})
}

func BenchmarkParseRSS(b *testing.B) {
	body, _ := os.ReadFile("testdata/rss2.xml")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestItemImageFromHTML pins the image an RSS item gets when only its HTML shows one: the first
// img with a src, in content:encoded before the description, as gofeed's own scan found it.
func TestItemImageFromHTML(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
<item><title>upper case</title><description>&lt;p&gt;x &lt;IMG SRC="https://e.org/a.png"&gt;&lt;/p&gt;</description></item>
<item><title>image tag</title><description>&lt;image src="https://e.org/b.png"&gt;</description></item>
<item><title>content first</title><description>&lt;img src="https://e.org/d.png"&gt;</description><content:encoded>&lt;img alt=x&gt;&lt;img src="https://e.org/c.png"&gt;</content:encoded></item>
<item><title>enclosure wins</title><enclosure url="https://e.org/e.jpg" type="image/jpeg" length="1"/><description>&lt;img src="https://e.org/f.png"&gt;</description></item>
<item><title>no image</title><description>&lt;p&gt;a &amp;lt; b, immense&lt;/p&gt; &lt;i&gt;m&lt;/i&gt;</description></item>
<item><title>escaped text only</title><description>&amp;lt;img src="https://e.org/g.png"&amp;gt;</description></item>
</channel></rss>`
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://e.org/a.png", "https://e.org/b.png", "https://e.org/c.png", "https://e.org/e.jpg", "", ""}
	if len(f.Items) != len(want) {
		t.Fatalf("%d items, want %d", len(f.Items), len(want))
	}
	for i, it := range f.Items {
		if it.Image != want[i] {
			t.Errorf("%s: image %q, want %q", it.Title, it.Image, want[i])
		}
	}
}

// TestIsFeedLongPrologue: a root element past the first 4 KiB (a long comment first) is still found.
func TestIsFeedLongPrologue(t *testing.T) {
	pad := "<!--" + strings.Repeat("x", 5000) + "-->"
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`<?xml version="1.0"?>` + pad + `<rss version="2.0"><channel><title>T</title></channel></rss>`, true},
		{`<?xml version="1.0"?>` + pad + `<html><body>no</body></html>`, false},
		{`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">` + pad + `</feed>`, true},
		{`<html><body>` + pad + `</body></html>`, false},
	} {
		if got := IsFeed([]byte(c.doc)); got != c.want {
			t.Errorf("IsFeed(%.60q...) = %v, want %v", c.doc, got, c.want)
		}
	}
}

// TestJSONFeedTextAndLanguage: content_text is plain text (JSON Feed: "the only place HTML
// is allowed in this format is in content_html"), so its "<", "&" and paragraphs must
// reach the item as text, and an item's own "language" (JSON Feed 1.1) is its language.
func TestJSONFeedTextAndLanguage(t *testing.T) {
	body := []byte(`{"version": "https://jsonfeed.org/version/1.1", "title": "МСС", "language": "bg",
	  "items": [
	    {"id": "1", "url": "https://example.org/1", "language": "el",
	     "content_text": "Children <5 years & <b>families</b>\n\nSecond paragraph\nsecond line"},
	    {"id": "2", "url": "https://example.org/2", "content_html": "<p>HTML <b>kept</b></p>", "content_text": "ignored"}
	  ]}`)
	f, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	want := "<p>Children &lt;5 years &amp; &lt;b&gt;families&lt;/b&gt;</p><p>Second paragraph<br>second line</p>"
	if got := f.Items[0].Content; got != want {
		t.Errorf("content_text item content = %q, want %q", got, want)
	}
	if got := f.Items[0].Language; got != "el" {
		t.Errorf("item language = %q, want el (the item's own)", got)
	}
	if got := f.Items[1].Content; got != "<p>HTML <b>kept</b></p>" {
		t.Errorf("content_html item content = %q", got)
	}
	if got := f.Items[1].Language; got != "bg" {
		t.Errorf("item without a language: %q, want the feed's bg", got)
	}
}

// TestEnclosures: the files an item carries (RSS <enclosure>, Atom rel="enclosure" links,
// JSON Feed attachments) are kept with their type and length, image or not.
func TestEnclosures(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"rss", `<?xml version="1.0"?><rss version="2.0"><channel><title>P</title><item><title>Ep 1</title>
		  <enclosure url="/media/ep1.mp3" length="123456" type="audio/mpeg"/>
		  <enclosure url="https://example.org/report.pdf" length="x" type="application/pdf"/></item></channel></rss>`},
		{"atom", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>P</title><id>p</id><updated>2024-06-06T00:00:00Z</updated>
		  <entry><title>Ep 1</title><id>e1</id><updated>2024-06-06T00:00:00Z</updated>
		  <link rel="enclosure" href="/media/ep1.mp3" length="123456" type="audio/mpeg"/>
		  <link rel="enclosure" href="https://example.org/report.pdf" type="application/pdf"/></entry></feed>`},
		{"json", `{"version": "https://jsonfeed.org/version/1.1", "title": "P", "items": [{"id": "1", "title": "Ep 1", "content_text": "x",
		  "attachments": [{"url": "/media/ep1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 123456},
		                  {"url": "https://example.org/report.pdf", "mime_type": "application/pdf"}]}]}`},
	} {
		f, err := Parse([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := []news.Enclosure{{URL: "/media/ep1.mp3", Type: "audio/mpeg", Length: 123456}, {URL: "https://example.org/report.pdf", Type: "application/pdf"}}
		if got := f.Items[0].Enclosures; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: enclosures %+v, want %+v", c.name, got, want)
		}
	}
}

// TestAtomEntryImageFromHTML: an Atom entry whose only image is in its HTML gets it, as an RSS
// item does (TestItemImageFromHTML). Joomla's Atom feed (?format=feed&type=atom) shows its
// article images only there; gofeed gives Atom entries no image at all.
func TestAtomEntryImageFromHTML(t *testing.T) {
	f, err := Parse(load(t, "joomla-atom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Items[0].Image; got != "/images/aktuelles/kinder.jpg" {
		t.Errorf("Joomla Atom entry image %q, want its content's", got)
	}
	doc := `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>t</id><updated>2026-03-01T00:00:00Z</updated>
<entry><title>summary only</title><id>1</id><updated>2026-03-01T00:00:00Z</updated><summary type="html">&lt;img src="https://e.org/s.png"&gt;</summary></entry>
<entry><title>content first</title><id>2</id><updated>2026-03-01T00:00:00Z</updated><summary type="html">&lt;img src="https://e.org/s.png"&gt;</summary><content type="html">&lt;p&gt;&lt;img src="https://e.org/c.png"&gt;&lt;/p&gt;</content></entry>
<entry><title>enclosure wins</title><id>3</id><updated>2026-03-01T00:00:00Z</updated><link rel="enclosure" type="image/jpeg" href="https://e.org/e.jpg"/><content type="html">&lt;img src="https://e.org/c.png"&gt;</content></entry>
<entry><title>no image</title><id>4</id><updated>2026-03-01T00:00:00Z</updated><content type="html">&lt;p&gt;text&lt;/p&gt;</content></entry>
</feed>`
	if f, err = Parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	want := []string{"https://e.org/s.png", "https://e.org/c.png", "https://e.org/e.jpg", ""}
	for i, it := range f.Items {
		if it.Image != want[i] {
			t.Errorf("%s: image %q, want %q", it.Title, it.Image, want[i])
		}
	}
}

// TestAuthorGofeedCannotSplit: an author gofeed cannot read as "email (Name)" or "Name <email>",
// such as "SSI (Suisse)", is its own name; gofeed gave an empty one and the item lost it.
func TestAuthorGofeedCannotSplit(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
<item><title>dc</title><dc:creator>SSI (Suisse)</dc:creator></item>
<item><title>author</title><author>Team ISS (Geneva office)</author></item>
<item><title>itunes</title><itunes:author>(ISS USA)</itunes:author></item>
<item><title>email and name</title><author>info@ssiss.ch (SSI Suisse)</author></item>
<item><title>none</title></item>
</channel></rss>`
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SSI (Suisse)", "Team ISS (Geneva office)", "(ISS USA)", "SSI Suisse", ""}
	for i, it := range f.Items {
		if it.Author != want[i] {
			t.Errorf("%s: author %q, want %q", it.Title, it.Author, want[i])
		}
	}
}

// TestDayOnlyDates: a date with no time of day is a day (news.PrecisionDay), which DaysIn
// places at midnight in the source's zone; a full date, midnight included, stays exact.
func TestDayOnlyDates(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>rss day</title><pubDate>Sun, 01 Mar 2026</pubDate></item>
<item><title>midnight</title><pubDate>Sun, 01 Mar 2026 00:00:00 +0000</pubDate></item>
<item><title>afternoon</title><pubDate>Sun, 01 Mar 2026 15:00:00 +0000</pubDate></item>
</channel></rss>`
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := Parse([]byte(`{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "title": "json day", "content_text": "x", "date_published": "2026-03-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	items := append(slices.Clone(f.Items), j.Items...)
	before := slices.Clone(items)
	want := []news.Precision{news.PrecisionDay, news.PrecisionExact, news.PrecisionExact, news.PrecisionDay}
	for i, it := range items {
		if it.Precision != want[i] {
			t.Errorf("%s: precision %q, want %q", it.Title, it.Precision, want[i])
		}
	}
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Skip(err)
	}
	DaysIn(items, loc)
	for i, it := range items {
		got := it.Published.In(loc).Format(time.DateTime)
		if it.Precision == news.PrecisionDay && (got != "2026-03-01 00:00:00" || !it.Updated.Equal(it.Published)) {
			t.Errorf("%s: %s in Bogotá (updated %s), want 1 March", it.Title, got, it.Updated)
		}
		if it.Precision == news.PrecisionExact && !it.Published.Equal(before[i].Published) {
			t.Errorf("%s moved to %s", it.Title, it.Published)
		}
	}
}
