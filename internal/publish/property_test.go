package publish

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"testing"

	"pgregory.net/rapid"

	"github.com/iss-network/networkfeed/internal/news"
)

// nastyString draws strings rich in what breaks XML: markup characters, "]]>", control
// characters, noncharacters, CR/LF, invalid UTF-8 and ordinary Unicode.
var nastyString = rapid.OneOf(
	rapid.String(),
	rapid.StringOf(rapid.RuneFrom([]rune{0, 1, 8, 0xb, 0xc, 0x1f, '\t', '\n', '\r', '<', '>', '&', ']', '"', '\'', 0xfffe, 0xffff, 0xfffd, 'é', 'ש', '日', 0x1f600})),
	rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
)

// TestPropertyRoundTrip renders feeds whose every text field is drawn from nastyString and
// checks that each XML output is well-formed and that ids, titles, links and content read
// back as clean() of what went in; JSON likewise.
func TestPropertyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 4).Draw(t, "items")
		f := Feed{
			Title: nastyString.Draw(t, "title"), Description: nastyString.Draw(t, "description"),
			HTMLURL: nastyString.Draw(t, "html_url"), SelfURL: nastyString.Draw(t, "self"),
			Language: nastyString.Draw(t, "language"), Updated: ts("2024-01-02T03:04:05Z"),
			NextURL: nastyString.Draw(t, "next"), Hub: nastyString.Draw(t, "hub"),
			Members: map[string]Member{"m": {Name: nastyString.Draw(t, "member_name"), Homepage: nastyString.Draw(t, "homepage")}},
		}
		for i := range n {
			f.Items = append(f.Items, news.Item{
				ID: nastyString.Draw(t, "id"), Member: "m", Title: nastyString.Draw(t, "item_title"),
				Link: nastyString.Draw(t, "link"), Summary: nastyString.Draw(t, "summary"),
				Content: nastyString.Draw(t, "content"), Author: nastyString.Draw(t, "author"),
				Categories: []string{nastyString.Draw(t, "category")}, Language: nastyString.Draw(t, "lang"),
				Source: nastyString.Draw(t, "source"), AlsoBy: []string{nastyString.Draw(t, "also_by")},
				Published: ts("2024-01-01T00:00:00Z").AddDate(0, 0, -i),
			})
		}
		var buf bytes.Buffer
		for _, format := range []string{FormatRSS, FormatAtom} {
			buf.Reset()
			if err := Render(&buf, format, f); err != nil {
				t.Fatalf("render %s: %v", format, err)
			}
			d := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s not well-formed: %v\n%s", format, err, buf.Bytes())
				}
			}
			if format == FormatRSS {
				var doc xmlRSS
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if len(doc.Channel.Items) != n {
					t.Fatalf("rss: %d items, want %d", len(doc.Channel.Items), n)
				}
				for i, it := range doc.Channel.Items {
					want := f.Items[i]
					if it.Guid.ID != clean(want.ID) || it.Title != clean(want.Title) || it.Link != clean(want.Link) {
						t.Fatalf("rss item %d: guid %q title %q link %q", i, it.Guid.ID, it.Title, it.Link)
					}
				}
			} else {
				var doc xmlAtom
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if len(doc.Entries) != n {
					t.Fatalf("atom: %d entries, want %d", len(doc.Entries), n)
				}
				for i, e := range doc.Entries {
					want := f.Items[i]
					if e.ID != AtomID(want.ID) || e.Title != clean(want.Title) {
						t.Fatalf("atom entry %d: id %q title %q", i, e.ID, e.Title)
					}
					if c := clean(want.Content); c != "" && e.Content.Text != c {
						t.Fatalf("atom entry %d: content %q, want %q", i, e.Content.Text, c)
					}
				}
			}
		}
		buf.Reset()
		if err := JSON(&buf, f); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Items []struct{ ID, Title, Summary string } `json:"items"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		if len(doc.Items) != n {
			t.Fatalf("json: %d items, want %d", len(doc.Items), n)
		}
		for i, it := range doc.Items {
			want := f.Items[i]
			if it.ID != clean(want.ID) || it.Title != clean(want.Title) || it.Summary != clean(want.Summary) {
				t.Fatalf("json item %d: %+v", i, it)
			}
		}
	})
}
