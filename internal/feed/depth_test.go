package feed

import (
	"os"
	"strings"
	"testing"
)

func TestCheckDepth(t *testing.T) {
	deep := func(n int, open string) string { return strings.Repeat(open, n) }
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"a feed", `<?xml version="1.0"?><rss><channel><item><title>A</title><x:y a="1"/></item></channel></rss>`, true},
		{"at the limit", deep(MaxDepth, "<a>"), true},
		{"over the limit", deep(MaxDepth+1, "<a>"), false},
		{"closed as it goes", strings.Repeat("<a></a>", 3*MaxDepth), true},
		{"empty-element tags", strings.Repeat("<a/>", 3*MaxDepth), true},
		{"'>' and '/>' in quoted attributes", strings.Repeat(`<a href="x/>y" t='>'>`, MaxDepth) + "<b>", false},
		{"quoted '/>' does not close", strings.Repeat(`<a t="/>">`, MaxDepth+1), false},
		{"markup in CDATA", "<d><![CDATA[" + deep(MaxDepth+1, "<a>") + "]]></d>", true},
		{"markup in a comment", "<d><!--" + deep(MaxDepth+1, "<a>") + "--></d>", true},
		{"escaped markup", "<d>" + deep(MaxDepth+1, "&lt;a&gt;") + "</d>", true},
		{"a doctype with entities", `<!DOCTYPE r [<!ENTITY e "x">]>` + deep(10, "<a>"), true},
		{"unterminated", "<a><b", true},
	} {
		err := checkDepth([]byte(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// BenchmarkCheckDepth is the depth check's share of BenchmarkParseRSS (the same feed).
func BenchmarkCheckDepth(b *testing.B) {
	body, err := os.ReadFile("testdata/rss2.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := checkDepth(body); err != nil {
			b.Fatal(err)
		}
	}
}
