package publish

import (
	"fmt"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestEnclosures: an item's enclosures (a podcast episode's audio, a report's PDF) reach
// a reader of every format: RSS <enclosure> (the first: RSS 2.0 allows one), Atom
// rel="enclosure" links, JSON Feed attachments, each with a media type (guessed from the
// extension when the source gave none) and a length.
func TestEnclosures(t *testing.T) {
	it := news.Item{
		ID: "nf-ep1", Member: "us", Title: "Episode 1", Link: "https://pod.example.org/ep1",
		Published: ts("2024-06-06T11:00:00Z"), Updated: ts("2024-06-06T11:00:00Z"),
		Enclosures: []news.Enclosure{
			{URL: "https://pod.example.org/ep1.mp3", Type: "audio/mpeg", Length: 12345678},
			{URL: "https://pod.example.org/report.pdf"},
		},
	}
	want := [][3]string{{"https://pod.example.org/ep1.mp3", "audio/mpeg", "12345678"}, {"https://pod.example.org/report.pdf", "application/pdf", "0"}}
	for _, format := range []string{FormatRSS, FormatAtom, FormatJSON} {
		f := Feed{Title: "Podcasts", HTMLURL: "https://news.example.org/", SelfURL: "https://news.example.org/feed." + format, Items: []news.Item{it}}
		parsed, err := gofeed.NewParser().ParseString(string(render(t, format, f)))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var got [][3]string
		for _, e := range parsed.Items[0].Enclosures {
			got = append(got, [3]string{e.URL, e.Type, e.Length})
		}
		w := want
		if format == FormatRSS {
			w = want[:1]
		}
		if format == FormatJSON {
			w = [][3]string{want[0], {want[1][0], want[1][1], ""}} // size_in_bytes is left out when unknown
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: enclosures %v, want %v", format, got, w)
		}
	}
}
