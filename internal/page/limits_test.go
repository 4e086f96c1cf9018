package page

import (
	"fmt"
	"strings"
	"testing"
)

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
