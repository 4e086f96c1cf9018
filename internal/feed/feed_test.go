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
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/clean"
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
	for _, n := range []string{"rss2.xml", "rss1.xml", "atom10.xml", "atom-text.xml", "jsonfeed.json", "truncated.xml"} {
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
			// Parse's doc: an item without a date gets PrecisionNone and a zero Published;
			// a dated one is not before earliest (an epoch placeholder is no date).
			if (it.Precision == news.PrecisionNone) != it.Published.IsZero() {
				t.Fatalf("precision %q with published %s", it.Precision, it.Published)
			}
			if !it.Published.IsZero() && it.Published.Before(earliest) {
				t.Fatalf("published %s, before %s", it.Published, earliest)
			}
			// A UTF-8 document gives UTF-8 items (the store and the web view take them as is).
			if utf8.Valid(b) {
				for _, s := range []string{it.GUID, it.Title, it.Link, it.Summary, it.Content, it.Author, it.Image, it.Language} {
					if !utf8.ValidString(s) {
						t.Fatalf("invalid UTF-8 from a UTF-8 document: %.80q", s)
					}
				}
			}
			if it.GUID != strings.TrimSpace(it.GUID) || it.Link != strings.TrimSpace(it.Link) {
				t.Fatalf("untrimmed guid %q or link %q", it.GUID, it.Link)
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

// TestAtomTextConstructs: an Atom title, summary or content of type text (type="text", or no
// type) is plain text, whose "<" and "&" are characters, not markup; type="html" is escaped
// HTML and type="xhtml" markup (RFC 4287 3.1). gofeed gives all three decoded alike: text
// reached the cleaner as HTML, so "a <b> tag" lost its "<b>" and a text summary's "<img …>"
// became the item's image. The items are cleaned as the poller cleans them; python3-feedparser
// reads testdata/atom-text.xml the same way.
func TestAtomTextConstructs(t *testing.T) {
	f, err := Parse(load(t, "atom-text.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ title, summary, content, image string }{
		{"Children <3 families & a <b> tag mention", `if a < b then c && d <img src="https://e.org/x.png">`,
			"<p>Line one &lt;br&gt; stays text.</p><p>Second paragraph &amp;amp; more.</p>", ""},
		{"if a < b then", "Kids <5 & <i>parents</i>", "", ""}, // no type: text
		{"Cross-border mediation & more", "Hello world", "", ""},
		{"Rights first", "Markup kept", "<p>Markup <em>kept</em></p>", ""},
		{"Youth <3 sport & <b>play</b>", "CDATA HTML", "", ""}, // text in CDATA
	}
	if len(f.Items) != len(want) {
		t.Fatalf("%d items, want %d", len(f.Items), len(want))
	}
	c := clean.New()
	for i, w := range want {
		it := f.Items[i]
		if it.Image != w.image {
			t.Errorf("item %d: image %q, want %q", i, it.Image, w.image)
		}
		c.Item(&it, nil, "en")
		if it.Title != w.title || it.Summary != w.summary || it.Content != w.content {
			t.Errorf("item %d:\n title %q\n summary %q\n content %q\nwant\n title %q\n summary %q\n content %q",
				i, it.Title, it.Summary, it.Content, w.title, w.summary, w.content)
		}
	}
}

// TestAtomTexts: the scan that finds an Atom entry's text constructs keeps to gofeed's
// entries and their own title, summary and content (not an atom:source's, an extension's or
// one in xhtml markup), knows Atom under a prefix, and reads types as gofeed does.
func TestAtomTexts(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      []textKinds
	}{
		{"fixture", string(load(t, "atom-text.xml")), []textKinds{{true, true, true}, {true, true, false}, {false, false, false}, {false, false, false}, {true, false, false}}},
		{"prefixed", `<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:entry><a:title>x</a:title><a:summary type="html">y</a:summary></a:entry></a:feed>`, []textKinds{{true, false, false}}},
		{"other prefix", `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x"><entry><x:title type="html">x</x:title><title type="html">t</title></entry></feed>`, []textKinds{{false, false, false}}},
		{"last wins", `<feed><entry><title type="html">a</title><title>b</title></entry><entry/></feed>`, []textKinds{{true, false, false}, {}}},
		{"atom 0.3", `<feed version="0.3"><entry><title type="text/plain" mode="escaped">a</title><summary type="text/html" mode="escaped">b</summary><content mode="xml">c</content></entry></feed>`, []textKinds{{true, false, false}}},
		{"comment and cdata", `<feed><!-- <entry> --><entry><summary type='TEXT'><![CDATA[<title type="html">]]></summary></entry></feed>`, []textKinds{{false, true, false}}},
		{"xhtml inside", `<feed><entry><content type="xhtml"><div><title>in markup</title></div></content></entry></feed>`, []textKinds{{false, false, false}}},
	} {
		if got := atomTexts([]byte(c.doc)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestOffsetDates: a date whose zone is an offset from GMT or UTC, as some members' feeds
// write it ("GMT+2", "UTC+02:00", "GMT+0200"), is read with that offset. gofeed read
// "GMT+2", "GMT-5" and "UTC+02:00" as GMT (the item two or five hours off) and could not read
// "GMT+02:00" or "UTC+2" at all; one it cannot read in another form is left to DatesIn, never
// dated wrong.
func TestOffsetDates(t *testing.T) {
	want := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		raw  string
		want time.Time
	}{
		{"Mon, 02 Mar 2026 10:00:00 GMT+2", want},
		{"Mon, 2 Mar 2026 10:00:00 GMT+02:00", want},
		{"Mon, 02 Mar 2026 10:00:00 GMT+0200", want},
		{"Mon, 02 Mar 2026 10:00:00 UTC+02:00", want},
		{"Mon, 02 Mar 2026 10:00 UTC+2", want},
		{"Mon, 02 Mar 2026 03:00:00 GMT-5", want},
		{"Mon, 02 Mar 2026 13:30:00 GMT+5:30", want},
		{"2026-03-02T10:00:00 GMT+2", want},
		{"2026-03-02 10:00:00 gmt+0200", want},
		{"Mon Mar 02 2026 10:00:00 GMT+0200 (Central European Summer Time)", want},
		{"Mon, 02 Mar 2026 10:00:00 +0200", want},       // gofeed's
		{"Mon, 02 Mar 2026 08:00:00 GMT", want},         // gofeed's
		{"Mo, 02 Mär 2026 10:00:00 GMT+2", time.Time{}}, // for DatesIn
		{"Mon, 02 Mar 2026 10:00:00 GMT+25", time.Time{}},
	} {
		for _, doc := range []string{
			`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title><link>https://e.org/1</link><pubDate>` + c.raw + `</pubDate></item></channel></rss>`,
			`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>t</id><entry><title>x</title><id>1</id><updated>` + c.raw + `</updated></entry></feed>`,
		} {
			f, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			it := f.Items[0]
			if !it.Published.Equal(c.want) || !it.Updated.Equal(c.want) {
				t.Errorf("%s %q: published %v, updated %v, want %v", f.Type, c.raw, it.Published, it.Updated, c.want)
			}
			if c.want.IsZero() && f.Unread[0] != c.raw {
				t.Errorf("%s %q: unread %q, want the date for DatesIn", f.Type, c.raw, f.Unread[0])
			}
		}
	}
}

// TestImageOnlyItems: a WordPress post that is only a picture (an Instagram post syndicated
// to the site) has no title and no words: it takes its image's caption, else its alt text,
// as an untitled item with words takes its first ones. Such posts showed as empty links.
func TestImageOnlyItems(t *testing.T) {
	f, err := Parse(load(t, "wp-image-only.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Children and volunteers at the ISS Australia family day", "Walk for Children, Melbourne", ""}
	if len(f.Items) != len(want) {
		t.Fatalf("%d items, want %d", len(f.Items), len(want))
	}
	c := clean.New()
	for i, w := range want {
		it := f.Items[i]
		c.Item(&it, nil, "en")
		if it.Title != w {
			t.Errorf("item %d: title %q, want %q", i, it.Title, w)
		}
	}
}

// BenchmarkOffsetDate: the look for a GMT offset that every item's dates go through; most
// dates have none ("GMT" alone, "+0000").
func BenchmarkOffsetDate(b *testing.B) {
	dates := []string{"Mon, 02 Jan 2006 15:04:05 GMT", "Mon, 02 Jan 2006 15:04:05 +0000", "2006-01-02T15:04:05Z", "Mon, 02 Jan 2006 15:04:05 GMT+2"}
	for b.Loop() {
		for _, d := range dates {
			offsetDate(d)
		}
	}
}
