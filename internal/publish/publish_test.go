package publish

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var writers = map[string]func(io.Writer, Feed) error{FormatRSS: RSS, FormatAtom: Atom, FormatJSON: JSON}

// goldenCases lists every golden file: each feed format, full and empty.
var goldenCases = []struct {
	name, format string
	empty        bool
}{
	{"full.rss", FormatRSS, false},
	{"empty.rss", FormatRSS, true},
	{"full.atom", FormatAtom, false},
	{"empty.atom", FormatAtom, true},
	{"full.json", FormatJSON, false},
	{"empty.json", FormatJSON, true},
}

func render(t testing.TB, format string, f Feed) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writers[format](&buf, f); err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./internal/publish -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\n--- got ---\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.format, fixtureFeed(tc.format, tc.empty))
			checkGolden(t, tc.name, got)
			// Rendering again gives the same bytes (no random ids, no map order).
			if again := render(t, tc.format, fixtureFeed(tc.format, tc.empty)); !bytes.Equal(got, again) {
				t.Error("two renders of the same feed differ")
			}
		})
	}
	t.Run("opml", func(t *testing.T) {
		var buf bytes.Buffer
		err := OPML(&buf, "ISS network & members", []OPMLOutline{
			{Text: "Europe", Children: []OPMLOutline{
				{Text: "ISS France", Type: "rss", XMLURL: "https://www.iss-france.example.org/actualites/rss.xml", HTMLURL: "https://www.iss-france.example.org/", Category: "/FR"},
				{Title: "SSI Suisse\x00", Type: "rss", XMLURL: "https://www.iss-switzerland.example.org/en/news?format=rss&lang=en"},
			}},
			{Type: "rss", XMLURL: "https://www.iss-japan.example.org/feed", Title: "ISS Japan 日本"},
			{Type: "rss", XMLURL: "https://www.iss-israel.example.org/rss"},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "members.opml", buf.Bytes())
		var doc struct {
			Version string `xml:"version,attr"`
			Title   string `xml:"head>title"`
			Groups  []struct {
				Text     string `xml:"text,attr"`
				Children []struct {
					Text   string `xml:"text,attr"`
					XMLURL string `xml:"xmlUrl,attr"`
				} `xml:"outline"`
			} `xml:"body>outline"`
		}
		if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Version != "2.0" || doc.Title != "ISS network & members" || len(doc.Groups) != 3 ||
			len(doc.Groups[0].Children) != 2 || doc.Groups[0].Children[1].Text != "SSI Suisse" ||
			doc.Groups[0].Children[1].XMLURL != "https://www.iss-switzerland.example.org/en/news?format=rss&lang=en" ||
			doc.Groups[2].Text != "https://www.iss-israel.example.org/rss" {
			t.Errorf("opml read back as %+v", doc)
		}
	})
	t.Run("empty opml", func(t *testing.T) {
		var buf bytes.Buffer
		if err := OPML(&buf, "none", nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte("<body></body>")) {
			t.Errorf("empty OPML lacks <body>:\n%s", buf.Bytes())
		}
	})
}

// TestWellFormed reads every token of each XML output with a strict decoder and checks
// the declaration and that no character invalid in XML 1.0 is present.
func TestWellFormed(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.format == FormatJSON {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, tc.format, fixtureFeed(tc.format, tc.empty))
			if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
				t.Errorf("no XML declaration: %.60q", out)
			}
			if clean(string(out)) != string(out) {
				t.Error("output holds characters invalid in XML 1.0")
			}
			d := xml.NewDecoder(bytes.NewReader(out))
			d.Strict = true
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed: %v", err)
				}
			}
		})
	}
}

type xmlRSS struct {
	Channel struct {
		Title         string `xml:"title"`
		Language      string `xml:"language"`
		LastBuildDate string `xml:"lastBuildDate"`
		AtomLinks     []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Items []struct {
			Title string `xml:"title"`
			Link  string `xml:"link"`
			Guid  struct {
				ID          string `xml:",chardata"`
				IsPermaLink string `xml:"isPermaLink,attr"`
			} `xml:"guid"`
			PubDate     string `xml:"pubDate"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			Source      struct {
				URL  string `xml:"url,attr"`
				Name string `xml:",chardata"`
			} `xml:"source"`
			Categories []struct {
				Domain string `xml:"domain,attr"`
				Name   string `xml:",chardata"`
			} `xml:"category"`
		} `xml:"item"`
	} `xml:"channel"`
}

type xmlAtom struct {
	ID      string `xml:"id"`
	Updated string `xml:"updated"`
	Lang    string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Links   []struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	} `xml:"link"`
	Entries []struct {
		Lang      string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Links     []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"link"`
		Author struct {
			Name string `xml:"name"`
			URI  string `xml:"uri"`
		} `xml:"author"`
		Source struct {
			ID    string `xml:"id"`
			Title string `xml:"title"`
		} `xml:"source"`
		Summary struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"summary"`
		Content struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"content"`
		Categories []struct {
			Term   string `xml:"term,attr"`
			Scheme string `xml:"scheme,attr"`
			Label  string `xml:"label,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

// withArchiveLinks makes f a page in the middle of the archives, with every RFC 5005 link set.
func withArchiveLinks(f Feed) Feed {
	f.CurrentURL = f.SelfURL
	f.SelfURL += "?before=2024-11-10T00%3A00%3A00Z~01HZW9NEWER000000000000000"
	f.PrevURL = f.CurrentURL + "?after=2024-11-10T00%3A00%3A00Z~01HZW9NEWER000000000000000"
	f.NextArchiveURL = f.PrevURL
	return f
}

// TestRSSReadBack parses the RSS output with encoding/xml and checks what must survive.
func TestRSSReadBack(t *testing.T) {
	f := withArchiveLinks(fixtureFeed(FormatRSS, false))
	var doc xmlRSS
	if err := xml.Unmarshal(render(t, FormatRSS, f), &doc); err != nil {
		t.Fatal(err)
	}
	ch := doc.Channel
	if ch.Language != "en" || ch.LastBuildDate != "Wed, 20 Nov 2024 09:00:00 +0000" {
		t.Errorf("channel language %q lastBuildDate %q", ch.Language, ch.LastBuildDate)
	}
	rels := map[string]string{}
	for _, l := range ch.AtomLinks {
		rels[l.Rel] = l.Href
	}
	if rels["self"] != f.SelfURL || rels["next"] != f.NextURL || rels["hub"] != f.Hub ||
		rels["first"] != f.FirstURL || rels["previous"] != f.PrevURL || rels["current"] != f.CurrentURL ||
		rels["prev-archive"] != f.PrevArchiveURL || rels["next-archive"] != f.NextArchiveURL {
		t.Errorf("atom:link elements (namespace-resolved) = %v", rels)
	}
	fixture := fixtureItems()
	if len(ch.Items) != len(fixture) {
		t.Fatalf("%d items, want %d", len(ch.Items), len(fixture))
	}
	for i, fi := range fixture {
		got := ch.Items[i]
		t.Run(fi.item.ID, func(t *testing.T) {
			if got.Guid.ID != fi.item.ID || got.Guid.IsPermaLink != "false" {
				t.Errorf("guid = %+v", got.Guid)
			}
			if got.Title != fi.wantTitle || got.Link != fi.item.Link {
				t.Errorf("title %q link %q", got.Title, got.Link)
			}
			if got.Source.URL != fi.item.Source || got.Source.Name != f.member(fi.item.Member).Name {
				t.Errorf("source = %+v", got.Source)
			}
			if (got.PubDate == "") != (fi.item.Precision == "none") {
				t.Errorf("pubDate %q for precision %q", got.PubDate, fi.item.Precision)
			}
			if got.Description == "" {
				t.Error("empty description")
			}
			if got.Content != fi.item.Content {
				t.Errorf("content:encoded = %q", got.Content)
			}
			var also []string
			for _, c := range got.Categories {
				if c.Domain == AlsoByDomain {
					also = append(also, c.Name)
				}
			}
			var want []string
			for _, id := range fi.item.AlsoBy {
				want = append(want, f.member(id).Name)
			}
			if strings.Join(also, "|") != strings.Join(want, "|") {
				t.Errorf("also-published-by categories %q, want %q", also, want)
			}
		})
	}
	// A plain-text summary is HTML-escaped into the description, so "<script>" stays text.
	if d := ch.Items[4].Description; !strings.Contains(d, "&lt;script&gt;") || strings.Contains(d, "<script>") {
		t.Errorf("summary not HTML-escaped in description: %q", d)
	}
}

// TestAtomReadBack parses the Atom output with encoding/xml and checks what must survive.
func TestAtomReadBack(t *testing.T) {
	f := withArchiveLinks(fixtureFeed(FormatAtom, false))
	var doc xmlAtom
	if err := xml.Unmarshal(render(t, FormatAtom, f), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ID != f.SelfURL || doc.Updated != "2024-11-20T09:00:00Z" || doc.Lang != "en" {
		t.Errorf("feed id %q updated %q lang %q", doc.ID, doc.Updated, doc.Lang)
	}
	links := map[string]bool{}
	for _, l := range doc.Links {
		links[l.Rel+" "+l.Type+" "+l.Href] = true
	}
	for _, want := range []string{
		"self application/atom+xml " + f.SelfURL,
		"alternate text/html " + f.HTMLURL,
		"alternate application/rss+xml " + f.FeedURLs[FormatRSS],
		"alternate application/feed+json " + f.FeedURLs[FormatJSON],
		"next application/atom+xml " + f.NextURL,
		"first application/atom+xml " + f.FirstURL,
		"previous application/atom+xml " + f.PrevURL,
		"current application/atom+xml " + f.CurrentURL,
		"prev-archive application/atom+xml " + f.PrevArchiveURL,
		"next-archive application/atom+xml " + f.NextArchiveURL,
		"hub  " + f.Hub,
	} {
		if !links[want] {
			t.Errorf("missing feed link %q in %v", want, links)
		}
	}
	fixture := fixtureItems()
	if len(doc.Entries) != len(fixture) {
		t.Fatalf("%d entries, want %d", len(doc.Entries), len(fixture))
	}
	for i, fi := range fixture {
		e := doc.Entries[i]
		t.Run(fi.item.ID, func(t *testing.T) {
			m := f.member(fi.item.Member)
			if e.ID != "urn:networkfeed:"+fi.item.ID {
				t.Errorf("id = %q", e.ID)
			}
			if e.Title != fi.wantTitle || len(e.Links) != 1 || e.Links[0].Href != fi.item.Link {
				t.Errorf("title %q links %+v", e.Title, e.Links)
			}
			if e.Updated == "" || (e.Published == "") != (fi.item.Precision == "none") {
				t.Errorf("updated %q published %q for precision %q", e.Updated, e.Published, fi.item.Precision)
			}
			if e.Lang != fi.item.Language {
				t.Errorf("xml:lang = %q", e.Lang)
			}
			if e.Author.Name != m.Name || e.Author.URI != m.Homepage || e.Source.Title != m.Name || e.Source.ID != fi.item.Source {
				t.Errorf("author %+v source %+v", e.Author, e.Source)
			}
			if fi.item.Summary != "" && e.Summary.Type != "text" {
				t.Errorf("summary type %q", e.Summary.Type)
			}
			if fi.item.Content != "" && (e.Content.Type != "html" || e.Content.Text != fi.item.Content) {
				t.Errorf("content = %+v", e.Content)
			}
			var also []string
			for _, c := range e.Categories {
				if c.Scheme == AlsoByScheme {
					also = append(also, c.Term)
				}
			}
			if strings.Join(also, "|") != strings.Join(fi.item.AlsoBy, "|") {
				t.Errorf("also-published-by categories %q, want %q", also, fi.item.AlsoBy)
			}
		})
	}
}

// TestGofeedReadBack parses RSS and Atom with gofeed, the parser the network itself uses.
func TestGofeedReadBack(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.format == FormatJSON {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureFeed(tc.format, tc.empty)
			parsed, err := gofeed.NewParser().ParseString(string(render(t, tc.format, f)))
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Title != f.Title || parsed.Link != f.HTMLURL || parsed.Language != f.Language {
				t.Errorf("feed title %q link %q language %q", parsed.Title, parsed.Link, parsed.Language)
			}
			if parsed.UpdatedParsed == nil || !parsed.UpdatedParsed.Equal(f.Updated) {
				t.Errorf("feed updated = %v, want %v", parsed.UpdatedParsed, f.Updated)
			}
			var fixture []fixtureItem
			if !tc.empty {
				fixture = fixtureItems()
			}
			if len(parsed.Items) != len(fixture) {
				t.Fatalf("%d items, want %d", len(parsed.Items), len(fixture))
			}
			for i, fi := range fixture {
				got := parsed.Items[i]
				wantID := fi.item.ID
				if tc.format == FormatAtom {
					wantID = AtomID(fi.item.ID)
				}
				if got.GUID != wantID || got.Link != fi.item.Link || got.Title != fi.wantTitle {
					t.Errorf("item %d: guid %q link %q title %q", i, got.GUID, got.Link, got.Title)
				}
				if fi.item.Precision != "none" && (got.PublishedParsed == nil || !got.PublishedParsed.Equal(fi.item.Published)) {
					t.Errorf("item %d: published %v, want %v", i, got.PublishedParsed, fi.item.Published)
				}
			}
		})
	}
}

func TestJSONReadBack(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		out := render(t, FormatJSON, fixtureFeed(FormatJSON, true))
		if !bytes.Contains(out, []byte(`"items": []`)) {
			t.Errorf(`empty feed lacks "items": []:\n%s`, out)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		if items, ok := doc["items"].([]any); !ok || len(items) != 0 {
			t.Errorf("items = %#v", doc["items"])
		}
		if doc["version"] != "https://jsonfeed.org/version/1.1" {
			t.Errorf("version = %v", doc["version"])
		}
	})
	t.Run("full", func(t *testing.T) {
		f := fixtureFeed(FormatJSON, false)
		var doc struct {
			Version  string `json:"version"`
			FeedURL  string `json:"feed_url"`
			HomePage string `json:"home_page_url"`
			NextURL  string `json:"next_url"`
			Hubs     []struct{ Type, URL string }
			Items    []struct {
				ID            string  `json:"id"`
				URL           string  `json:"url"`
				Title         string  `json:"title"`
				ContentHTML   *string `json:"content_html"`
				ContentText   *string `json:"content_text"`
				Summary       string  `json:"summary"`
				DatePublished string  `json:"date_published"`
				DateModified  string  `json:"date_modified"`
				Language      string  `json:"language"`
				Authors       []struct{ Name, URL string }
				Tags          []string `json:"tags"`
				Ext           *struct {
					Member          string   `json:"member"`
					AlsoPublishedBy []string `json:"also_published_by"`
					DatePrecision   string   `json:"date_precision"`
				} `json:"_networkfeed"`
			} `json:"items"`
		}
		dec := json.NewDecoder(bytes.NewReader(render(t, FormatJSON, f)))
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc.FeedURL != f.SelfURL || doc.HomePage != f.HTMLURL || doc.NextURL != f.NextURL ||
			len(doc.Hubs) != 1 || doc.Hubs[0].URL != f.Hub || doc.Hubs[0].Type != "WebSub" {
			t.Errorf("feed fields: %+v", doc)
		}
		fixture := fixtureItems()
		if len(doc.Items) != len(fixture) {
			t.Fatalf("%d items, want %d", len(doc.Items), len(fixture))
		}
		for i, fi := range fixture {
			got := doc.Items[i]
			m := f.member(fi.item.Member)
			if got.ID != fi.item.ID || got.URL != fi.item.Link || got.Title != fi.wantTitle || got.Language != fi.item.Language {
				t.Errorf("item %d: id %q url %q title %q language %q", i, got.ID, got.URL, got.Title, got.Language)
			}
			if got.ContentHTML == nil && got.ContentText == nil {
				t.Errorf("item %d has neither content_html nor content_text", i)
			}
			if (got.DatePublished == "") != (fi.item.Precision == "none") || got.DateModified == "" {
				t.Errorf("item %d: date_published %q date_modified %q", i, got.DatePublished, got.DateModified)
			}
			if len(got.Authors) != 1 || got.Authors[0].Name != m.Name || got.Authors[0].URL != m.Homepage {
				t.Errorf("item %d: authors %+v", i, got.Authors)
			}
			if got.Ext == nil || got.Ext.Member != fi.item.Member || got.Ext.AlsoPublishedBy == nil ||
				strings.Join(got.Ext.AlsoPublishedBy, "|") != strings.Join(fi.item.AlsoBy, "|") ||
				got.Ext.DatePrecision != string(fi.item.Precision) {
				t.Errorf("item %d: _networkfeed %+v", i, got.Ext)
			}
		}
	})
}

func TestAtomNeedsUpdated(t *testing.T) {
	f := fixtureFeed(FormatAtom, true)
	f.Updated = time.Time{}
	var buf bytes.Buffer
	if err := Atom(&buf, f); !errors.Is(err, ErrNoUpdated) {
		t.Errorf("Atom of an empty feed without Updated: err = %v, want ErrNoUpdated", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a failed render wrote %d bytes", buf.Len())
	}
	// With items, the newest item time stands in for a zero Updated.
	f = fixtureFeed(FormatAtom, false)
	f.Updated = time.Time{}
	var doc xmlAtom
	if err := xml.Unmarshal(render(t, FormatAtom, f), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Updated != "2024-11-20T09:00:00Z" {
		t.Errorf("updated = %q, want the newest item's", doc.Updated)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	for _, format := range []string{FormatRSS, FormatAtom, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			err := Render(failWriter{}, format, fixtureFeed(format, false))
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("err = %v, want the writer's error wrapped", err)
			}
		})
	}
	t.Run("unknown format", func(t *testing.T) {
		if err := Render(io.Discard, "rdf", Feed{}); err == nil {
			t.Error("no error for an unknown format")
		}
	})
}

func TestContentType(t *testing.T) {
	for format, want := range map[string]string{
		FormatRSS:  "application/rss+xml; charset=utf-8",
		FormatAtom: "application/atom+xml; charset=utf-8",
		FormatJSON: "application/feed+json",
		FormatOPML: "text/x-opml; charset=utf-8",
		"html":     "",
	} {
		t.Run(format, func(t *testing.T) {
			if got := ContentType(format); got != want {
				t.Errorf("ContentType(%q) = %q, want %q", format, got, want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Journée 日本 שלום", "Journée 日本 שלום"},
		{"whitespace kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"C0 controls", "a\x00b\x01c\x08d\x0be\x0cf\x0eg\x1fh", "abcdefgh"},
		{"noncharacters", "a\ufffeb\uffffc", "abc"},
		{"replacement char kept", "a\ufffdb", "a\ufffdb"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"astral", "😀 𝄞", "😀 𝄞"},
		{"markup untouched", "<script>]]>&", "<script>]]>&"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAlternateOrder(t *testing.T) {
	f := Feed{FeedURLs: map[string]string{"zz": "z", "json": "j", "aa": "a", "rss": "r", "atom": "t"}}
	got := f.alternates(FormatAtom)
	want := [][2]string{{"rss", "r"}, {"json", "j"}, {"aa", "a"}, {"zz", "z"}}
	if len(got) != len(want) {
		t.Fatalf("alternates = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("alternates = %v, want %v", got, want)
		}
	}
}
