package page

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Pages whose reading cost grew quadratically with their size (found by a helper's fuzzing
// audit): before the fixes the first page below took 15 s of CPU in Detect, the second 20 s
// in Extract and Detect, the third about 45 s (a 1 MB one: 5 min), a parsing slot held all
// that time, again at every poll. BenchmarkHostilePages measures them now.

// inlineLinksPage: n links in one paragraph. heuristic's inlineLink read the paragraph's whole
// text once per link.
func inlineLinksPage(n int) []byte {
	var b strings.Builder
	b.WriteString("<html><body><p>")
	for i := range n {
		fmt.Fprintf(&b, `<a href="/n/%d">Some article title here</a> `, i)
	}
	b.WriteString("</p></body></html>")
	return []byte(b.String())
}

// readMorePage: teasers made of "read more" n times. CleanText dropped one trailing read-more
// per pass over the whole text, until none was left.
func readMorePage(items, n int) []byte {
	var b strings.Builder
	b.WriteString(`<html><body><ul>`)
	for i := range items {
		fmt.Fprintf(&b, `<li><h2><a href="/a/%d">Title number %d of the news</a></h2><p>Words of the teaser %s</p></li>`, i, i, strings.Repeat("read more ", n))
	}
	b.WriteString(`</ul></body></html>`)
	return []byte(b.String())
}

// nestedLinksPage: links nested depth deep in MathML (where <a> may nest) around text of n
// bytes. text() read each nested link's whole text to see whether it said "read more".
func nestedLinksPage(depth, n int) []byte {
	var b strings.Builder
	b.WriteString(`<html><body><ul><li><h2><a href="/a/1">Title number one of the news</a></h2><math>`)
	b.WriteString(strings.Repeat(`<a href="/x">`, depth))
	b.WriteString(strings.Repeat("lorem ipsum dolor sit ", n/22))
	b.WriteString(`</math></li><li><h2><a href="/a/2">Title number two of the news</a></h2></li></ul></body></html>`)
	return []byte(b.String())
}

// hostilePages are the pages above at sizes that took 15 to 45 s of CPU before the fixes.
var hostilePages = []struct {
	name string
	doc  func() []byte
}{
	{"links_in_one_paragraph", func() []byte { return inlineLinksPage(4000) }},
	{"read_more_teasers", func() []byte { return readMorePage(3, 1000) }},
	{"nested_links", func() []byte { return nestedLinksPage(480, 100<<10) }},
}

// The hostile pages still read as pages: what detection and selectors make of them is
// sane (their cost is BenchmarkHostilePages': speed is measured there, not here).
func TestHostilePages(t *testing.T) {
	o := Options{Languages: []string{"en", "fr"}, Now: corpusNow}
	for _, c := range hostilePages {
		doc := c.doc()
		if _, err := Detect(doc, "https://example.org/news/", o); err != nil && !errors.Is(err, ErrNoMatch) {
			t.Errorf("%s: Detect: %v", c.name, err)
		}
		items, err := Extract(doc, "https://example.org/news/", Selectors{Item: "li, p"}, o)
		if err != nil && !errors.Is(err, ErrNoMatch) {
			t.Errorf("%s: Extract: %v", c.name, err)
		}
		for _, it := range items {
			if strings.Contains(strings.ToLower(it.Title+" "+it.Summary), "read more read more read more read more read more") {
				t.Errorf("%s: item keeps a run of read-mores: %.80q", c.name, it.Title+" | "+it.Summary)
			}
		}
	}
}

// BenchmarkHostilePages: Detect then Extract of each hostile page. Before the fixes
// (found by a helper's fuzzing audit): 15 s, 20 s and about 45 s.
func BenchmarkHostilePages(b *testing.B) {
	o := Options{Languages: []string{"en", "fr"}, Now: corpusNow}
	for _, c := range hostilePages {
		doc := c.doc()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				Detect(doc, "https://example.org/news/", o)
				Extract(doc, "https://example.org/news/", Selectors{Item: "li, p"}, o)
			}
		})
	}
}

// CleanText drops a run of read-mores at the end of a text in a bounded number of passes
// (a pass drops one, and 20 KB of them took 11 s; BenchmarkCleanTextReadMore); the
// ordinary cases hold.
func TestCleanTextManyReadMore(t *testing.T) {
	if got := CleanText("News of the day " + strings.Repeat("Read more ", 2000)); !strings.HasPrefix(got, "News of the day") {
		t.Errorf("CleanText of 2000 read-mores = %.60q…", got)
	}
	// The ordinary cases still hold.
	for in, want := range map[string]string{
		"News of the day Read more":           "News of the day",
		"News of the day Read more Read more": "News of the day",
		"News (read more) of the day":         "News of the day",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkCleanTextReadMore(b *testing.B) {
	s := strings.Repeat("Read more ", 2000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		CleanText(s)
	}
}

// BenchmarkDateSearchPage: a page of 20 items whose paragraphs are "-1" a hundred times
// (testdata/date-search-dos.html, 18 KB), each one a costly date search (found by a
// helper's fuzzing audit: 5.3 s in Detect, 3.7 s in Extract; searchBudget bounds each).
func BenchmarkDateSearchPage(b *testing.B) {
	doc, err := os.ReadFile("testdata/date-search-dos.html")
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Languages: []string{"en", "fr"}, Now: corpusNow}
	for b.Loop() {
		Detect(doc, "https://example.org/news/", o)
		Extract(doc, "https://example.org/news/", Selectors{Item: "li, article", Title: "h2"}, o)
	}
}

// newsBlocks is a page of n news blocks, each with a title, a link and a date.
func newsBlocks(n int) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>News</title></head><body><main>")
	for i := range n {
		fmt.Fprintf(&b, `<div class="news-item"><h2><a href="/a/%d">Title number %d of the news</a></h2><p>Summary %d <time datetime="2024-03-12">12 March 2024</time></p></div>`, i, i, i)
	}
	b.WriteString("</main></body></html>")
	return []byte(b.String())
}

// A page that repeats a news block thousands of times (a few hundred KB; the body cap
// allows 10 MiB) yields its first MaxItems blocks: reading each block's date is the costly
// part, and with no bound one such page held a parsing slot for minutes (found by a
// helper's audit: 4,300 blocks of 512 KiB took 10 s of CPU).
func TestPageItemsBounded(t *testing.T) {
	doc := newsBlocks(3 * MaxItems)
	o := Options{Languages: []string{"en"}}
	d, err := Detect(doc, "https://example.org/news", o)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != MaxItems {
		t.Errorf("detection: %d items from %d blocks, want the first %d", len(d.Items), 3*MaxItems, MaxItems)
	}
	if len(d.Items) > 0 && !strings.HasSuffix(d.Items[0].Link, "/a/0") {
		t.Errorf("first item %s, want the page's first block", d.Items[0].Link)
	}
	items, err := Extract(doc, "https://example.org/news", Selectors{Item: "div.news-item", Title: "h2", Date: "time"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != MaxItems {
		t.Errorf("selectors: %d items from %d blocks, want the first %d", len(items), 3*MaxItems, MaxItems)
	}
}
