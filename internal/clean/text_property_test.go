package clean

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"pgregory.net/rapid"
)

// The one-pass white-space handling and the no-markup fast paths must give what the
// straightforward Split/Fields/Join over the tokenizer's text gave.

func refText(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(plain(s, true), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func refTitle(s string) string {
	if s == "" {
		return ""
	}
	t := plain(s, false)
	if strings.Contains(t, "&") {
		t = html.UnescapeString(t)
	}
	return truncate(strings.Join(strings.Fields(t), " "), MaxTitle)
}

func TestTextMatchesReference(t *testing.T) {
	pieces := []string{"a", "Zé", "日本", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2003", "\u3000", "\x00", "\xff",
		"<p>", "</p>", "<br>", "<b>", "</b>", "<td>", "<script>x</script>", "&amp;", "&lt;b&gt;", "&nbsp;", "&", "<", ">", "word"}
	rapid.Check(t, func(t *rapid.T) {
		s := strings.Join(rapid.SliceOf(rapid.SampledFrom(pieces)).Draw(t, "pieces"), "")
		if got, want := Text(s), refText(s); got != want {
			t.Fatalf("Text(%q) = %q, want %q", s, got, want)
		}
		if got, want := Title(s), refTitle(s); got != want {
			t.Fatalf("Title(%q) = %q, want %q", s, got, want)
		}
		if got, want := Summary(s, 20), truncate(strings.Join(strings.Fields(refText(s)), " "), 20); got != want {
			t.Fatalf("Summary(%q) = %q, want %q", s, got, want)
		}
		for _, nl := range []byte{' ', '\n'} {
			want := strings.Join(strings.Fields(s), " ")
			if nl == '\n' {
				want = refCollapseLines(s)
			}
			if got := collapse(s, nl); got != want {
				t.Fatalf("collapse(%q, %q) = %q, want %q", s, nl, got, want)
			}
		}
	})
}

func refCollapseLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestCollapseKeepsCollapsedString(t *testing.T) {
	s := "already one space\nper gap"
	if got := collapse(s, '\n'); got != s {
		t.Fatalf("collapse = %q", got)
	}
	if n := testing.AllocsPerRun(10, func() { collapse(s, '\n') }); n != 0 {
		t.Errorf("collapse of a collapsed string allocates %v times", n)
	}
}
