package page

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/news"
)

// fuzzSeeds adds the small pages of testdata/fuzz to the seed corpus.
func fuzzSeeds(f *testing.F) {
	files, err := filepath.Glob("testdata/fuzz/*.html")
	if err != nil || len(files) == 0 {
		f.Fatalf("no fuzz seeds: %v", err)
	}
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
}

func FuzzExtract(f *testing.F) {
	fuzzSeeds(f)
	sel := Selectors{Item: "article, .item, li", Title: "h2, h3", Date: "time, .date"}
	// Without a date selector the date is searched for in the item's text: another path.
	noDate := Selectors{Item: sel.Item, Title: sel.Title}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, sel := range []Selectors{sel, noDate} {
			items, err := Extract(doc, "https://example.org/news/", sel, Options{Languages: []string{"fr", "en"}, Now: corpusNow})
			if err != nil {
				return
			}
			checkItems(t, doc, items)
		}
	})
}

func FuzzDetect(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := Detect(doc, "https://example.org/news/", Options{Languages: []string{"en"}, Now: corpusNow})
		if err != nil {
			return
		}
		if len(d.Items) < 2 {
			t.Errorf("detection with %d items", len(d.Items))
		}
		checkItems(t, doc, d.Items)
		if d.Tier != TierJSONLD {
			if err := d.Selectors.Validate(); err != nil {
				t.Errorf("tier %s gave invalid selectors: %v", d.Tier, err)
			}
		}
	})
}

// checkItems checks what Extract's and Detect's docs promise of every item: UTF-8 text
// from a UTF-8 page, absolute links and images, PrecisionNone exactly when undated, a
// title or a link, and a summary cut to summaryLen.
func checkItems(t *testing.T, doc []byte, items []news.Item) {
	t.Helper()
	for _, it := range items {
		if utf8.Valid(doc) {
			for _, s := range []string{it.Title, it.Summary, it.Link, it.Image} {
				if !utf8.ValidString(s) {
					t.Errorf("invalid UTF-8 from a UTF-8 page: %q", s)
				}
			}
		}
		if it.Link != "" {
			if u, err := url.Parse(it.Link); err != nil || !u.IsAbs() {
				t.Errorf("link %q is not absolute", it.Link)
			}
		}
		// Extract's doc: links and images are absolute; undated items get PrecisionNone.
		if it.Image != "" {
			if u, err := url.Parse(it.Image); err != nil || !u.IsAbs() {
				t.Errorf("image %q is not absolute", it.Image)
			}
		}
		if (it.Precision == news.PrecisionNone) != it.Published.IsZero() {
			t.Errorf("precision %q with published %s", it.Precision, it.Published)
		}
		if it.Title == "" && it.Link == "" {
			t.Errorf("item with neither title nor link")
		}
		if utf8.RuneCountInString(it.Summary) > summaryLen+1 {
			t.Errorf("summary of %d runes", utf8.RuneCountInString(it.Summary))
		}
	}
}

// BenchmarkDetect runs automatic detection over the whole corpus.
func BenchmarkDetect(b *testing.B) {
	pages := loadCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pages {
			if _, err := Detect(p.html, p.golden.URL, p.options()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(len(pages)), "ms/page")
}

// BenchmarkParseDate measures one date parse with a parser built once per Options.
func BenchmarkParseDate(b *testing.B) {
	d := newDateParser(Options{Languages: []string{"fr", "en"}, Now: corpusNow})
	for b.Loop() {
		if _, _, ok := d.parse("May 2017: An ISS expert group headed to the Kingdom of Morocco"); !ok {
			b.Fatal("no date")
		}
	}
}

// longDateText is what a date selector matching a whole listing reads (a theme's change
// made ".date" the list around the items): a date, then 90 KB of the items' dates and
// teasers.
func longDateText() string {
	return "12 March 2024 " + strings.Repeat("Published on 5 March 2024 at 10 h 15 · 3 min read. The 12 members met in Geneva for the sept.-oct. 2023 issue (Nr. 4/2023), 05/03/2024. ", 700)
}

// BenchmarkParseDateLongText measures one parse of a date text of 90 KB (longDateText).
func BenchmarkParseDateLongText(b *testing.B) {
	d := newDateParser(Options{Languages: []string{"fr", "en"}, Now: corpusNow})
	s := longDateText()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		d.searching = 0 // each parse searches, as a page's first would
		if _, _, ok := d.parse(s); !ok {
			b.Fatal("no date")
		}
	}
}
